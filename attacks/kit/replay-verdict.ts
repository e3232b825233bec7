/**
 * The verdicts of the replay attacks (attacks/plugins/replay.ts runs them) from what the run
 * observed. Pure, so each rule is unit-tested with crafted observations
 * (test/replay-verdict.test.ts) and held to a mutation score (docs/testing.md).
 *
 * Measured at the receiver, as a replay is defined (RFC 4949, "replay attack"); the defences
 * measured are TLS's record sequence numbers and MAC (RFC 8446 §5.3, §5.2), the secure channel's
 * sequence numbers and nonce window (docs/channel.md), and the single-use login challenge:
 * - `replay` succeeded only when bob received alice's canary dm more than once
 *   (`Observations.bobCanaryCopies`); blocked only when the server refused the copy on the very
 *   connection it was replayed on — in alice's own connection *and* on the new one — naming the
 *   most telling refusal (attacks/kit/evidence.ts `primaryRefusal`) or the error frames it
 *   answered; anything else is inconclusive (error), never blocked.
 * - `replay-login` succeeded only when the server took the attacker as alice: its own login with a
 *   password it recovered was accepted, or the server's log shows a login on the connection that
 *   replayed her recorded login; blocked only by a refusal on that replaying connection.
 */
import { describeRefusal, framesIn, isMacFailure, primaryRefusal, serverRefusals } from './evidence.ts';
import type { loginAs } from './login-as.ts';
import { chainPrefix, shortStep, type Position } from './position.ts';
import type { NewConnectionResult } from '../proxy.ts';
import type { Evidence, Observations, Verdict } from '../types.ts';

/** Why the server did not take a replay on one connection. */
export interface ReplayRefusal {
  /** one sentence naming it: the logged refusal (`describeRefusal`), or "the server answered code: message; …" */
  sentence: string;
  /** a table cell's few words (≤ 40 characters), e.g. "refused: bad_sequence" */
  summary: string;
  /** the logged refusal's code, or the code of every error frame the server answered */
  codes: string[];
}

/**
 * Why the server did not take a replay on the connection `peer` (address:port as its log names
 * it): the most telling refusal it logged for that connection, else the error frames readable in
 * its `answer` (none when the answer is encrypted). A refusal on any other connection never counts.
 * @param answer what the server sent back on that connection (bytes); empty when not recorded
 * @returns null when the server neither logged nor answered a refusal
 */
export function replayRefusal(obs: Observations, peer: string | null, answer: Buffer = Buffer.alloc(0)): ReplayRefusal | null {
  const logged = primaryRefusal(serverRefusals(obs, peer));
  if (logged) return { sentence: describeRefusal(logged), summary: loggedSummary(logged), codes: [String(logged.code)] };
  const errors = framesIn(answer).filter((f) => f.type === 'error');
  if (errors.length === 0) return null;
  return {
    sentence: `the server answered ${errors.map((f) => `${String(f.code)}: ${String(f.message)}`).join('; ')}`,
    summary: `refused: ${String(errors[0]!.code)}`.slice(0, 40),
    codes: errors.map((f) => String(f.code)),
  };
}

/** A table cell's few words for a logged refusal: the channel's code, the TLS MAC, the TLS handshake. */
function loggedSummary(r: { event: string; code?: unknown; message?: unknown }): string {
  if (r.event === 'channel_error') return `refused: ${String(r.code)}`.slice(0, 40);
  if (isMacFailure(r)) return 'refused: TLS record MAC';
  if (r.event === 'tls_error') return 'refused: TLS handshake';
  return 'replay not accepted';
}

/** What the `replay` run did once it had found alice's canary message. */
export interface ReplayRun {
  /** the copy in alice's own connection */
  sameConnection: {
    /** how the copy was made, one clause (e.g. "sent alice's readable dm twice") */
    how: string;
    /** the proxy's upstream address:port of her connection (how the server's log names it), or null if unknown */
    peer: string | null;
    /** copies of the canary bob received on top of the original once that copy was sent (may be 0) */
    copies: number;
  };
  /** the replay of her recorded session on a new connection after she left */
  newConnection: NewConnectionResult;
  /** how long the run waited for the server to deliver or refuse each replay, ms */
  timeoutMs: number;
}

/**
 * The `replay` verdict: succeeded when bob received the canary more than once (naming where the
 * copy was accepted); blocked when the server refused the replay in the same connection and on the
 * new one (naming both refusals); error when the attacker never found alice's message (`run`
 * null) or a replay was neither delivered nor refused within the wait.
 * @param evidence what the run already gathered (position, proxy, conversation); the two replay
 *   lines are put in front of it
 */
export function replayVerdict(pos: Position, run: ReplayRun | null, obs: Observations, evidence: Evidence[]): Verdict {
  const negotiated = obs.clients.alice.negotiated;
  if (!run) {
    return { outcome: 'error', reason: 'no verdict: the attacker never found alice\'s message to replay (the conversation did not get that far)', summary: 'message not seen', impact: [], evidence, negotiated };
  }
  const { sameConnection: same, newConnection: nc } = run;
  const chain = chainPrefix(pos);
  const copies = obs.bobCanaryCopies;
  // `copies` counts every copy bob received, the original and the same connection's included, so
  // a refusal can only matter below two copies: read both refusals whatever was delivered.
  const newCopies = copies - 1 - same.copies;
  const sameWhy = replayRefusal(obs, same.peer);
  const newWhy = replayRefusal(obs, nc.peer, nc.response);
  evidence.unshift(
    { kind: 'replay-same-connection', detail: `${chain}${same.how}: ${same.copies > 0 ? `accepted: bob received the canary again (${same.copies} more)` : `refused: ${sameWhy?.sentence ?? 'no copy reached bob'}`}` },
    { kind: 'replay-new-connection', detail: `replayed ${nc.chunks} recorded chunks from ${nc.peer}: ${newCopies > 0 ? 'accepted: bob received the canary again' : `refused: ${newWhy?.sentence ?? 'no copy reached bob'}`}` },
  );
  if (copies > 1) {
    const where = [same.copies > 0 ? `in the same connection (${chain}${same.how})` : '', newCopies > 0 ? 'on a new connection' : ''].filter(Boolean).join(' and ');
    return { outcome: 'succeeded', reason: `bob received the canary ${copies} times: the replayed message was accepted ${where}`, summary: `replay accepted (${copies} copies)`, impact: ['integrity'], evidence, negotiated };
  }
  if (!sameWhy || !newWhy) {
    return {
      outcome: 'error',
      reason: `inconclusive: within ${run.timeoutMs} ms the server neither delivered the replayed canary nor refused it (${sameWhy ? 'new connection' : 'same connection'}); no verdict`,
      summary: 'inconclusive',
      impact: [],
      evidence,
      negotiated,
    };
  }
  return {
    outcome: 'blocked',
    reason: `bob received the canary once: same connection — ${chain}${same.how}; ${sameWhy.sentence}; new connection — ${newWhy.sentence}`,
    summary: sameWhy.summary,
    impact: [],
    evidence,
    negotiated,
  };
}

/** The attacker's own login with a recovered password (attacks/kit/login-as.ts). */
export type AttackerLogin = Awaited<ReturnType<typeof loginAs>>;

/** What the `replay-login` run did after alice left. */
export interface ReplayLoginRun {
  /** the attacker read alice's login frame (on the stream, opened from a channel it took over, or inside a null-cipher sealed frame) */
  loginSeen: boolean;
  /** what the offline guess from her recorded challenge proof concluded (attacks/kit/offline-guess.ts), or null when none was tried */
  guess: string | null;
  /** the password the attacker recovered, how, and its own login with it; null when it recovered none */
  recovered: { password: string; how: string; login: AttackerLogin } | null;
  /** the replay of her recorded login on a new connection; null when not attempted (the recovered password logged in) */
  replayed: NewConnectionResult | null;
  /** how long the run waited for the server to log the replaying connection in or refuse it, ms */
  timeoutMs: number;
}

/**
 * The `replay-login` verdict: succeeded when the attacker's login with a recovered password was
 * accepted (impact authentication and confidentiality: the password itself leaked) or the server
 * logged in the connection that replayed alice's recorded login (authentication); blocked when the
 * server refused that replay, naming the single-use challenge when its refusal is
 * `stale_challenge` or `bad_credentials`; error when nothing was replayed or the server neither
 * logged the replay in nor refused it.
 * @param evidence what the run already gathered; the verdict's own lines are put in front of it
 */
export function replayLoginVerdict(pos: Position, run: ReplayLoginRun, obs: Observations, evidence: Evidence[]): Verdict {
  const negotiated = obs.clients.alice.negotiated;
  const chain = chainPrefix(pos);
  if (run.guess !== null) evidence.unshift({ kind: 'offline-guess', detail: run.guess });
  // The recovered password that did not log in, if any (one that did ends the verdict here).
  let refusedPassword: { how: string; why: string } | null = null;
  if (run.recovered) {
    const { password, how, login: own } = run.recovered;
    if (own.ok) {
      const login = obs.server.log.find((e) => e.event === 'login' && e.peer === own.peer);
      evidence.unshift(
        { kind: 'attacker-login-accepted', detail: `the server logged in ${String(login?.username ?? 'alice')} for the attacker's connection ${own.peer}, using the recovered password` },
        { kind: 'password-recovered', detail: `${chain}${how}: ${JSON.stringify(password)}` },
      );
      return { outcome: 'succeeded', reason: `${chain}the attacker ${how}, then logged in as alice with it`, summary: `logged in as alice (${shortStep(pos)})`.slice(0, 40), impact: ['authentication', 'confidentiality'], evidence, negotiated };
    }
    refusedPassword = { how, why: own.why };
    evidence.unshift({ kind: 'attacker-login-refused', detail: `the recovered password did not log in: ${own.why}` });
  }
  const r = run.replayed;
  if (!r || r.chunks === 0) return { outcome: 'error', reason: 'no verdict: the attacker never recorded alice\'s login, so nothing was replayed', summary: 'login not seen', impact: [], evidence, negotiated };
  const login = obs.server.log.find((e) => e.event === 'login' && e.peer === r.peer);
  if (login) {
    evidence.unshift({ kind: 'replayed-login-accepted', detail: `the server logged in ${String(login.username)} for the replaying connection ${r.peer} (${r.chunks} recorded chunks replayed)` });
    return { outcome: 'succeeded', reason: `the server accepted the replayed login: the attacker is logged in as ${String(login.username)} without knowing the password`, summary: 'replayed login accepted', impact: ['authentication'], evidence, negotiated };
  }
  const why = replayRefusal(obs, r.peer, r.response);
  if (!why) {
    return { outcome: 'error', reason: `inconclusive: within ${run.timeoutMs} ms the server neither logged the replayed connection in nor refused it; no verdict`, summary: 'inconclusive', impact: [], evidence, negotiated };
  }
  const readWhat = refusedPassword
    ? `${refusedPassword.how}, but that password did not log in (${refusedPassword.why})`
    : !run.loginSeen
      ? 'could not read alice\'s login'
      : run.guess !== null
        ? `read alice's challenge proof but ${run.guess}`
        : 'read alice\'s login frame, which carries no password';
  evidence.unshift({ kind: 'replayed-login-refused', detail: `${r.chunks} recorded chunks replayed from ${r.peer}: ${why.sentence}` });
  const stopper = why.codes.some((c) => c === 'stale_challenge' || c === 'bad_credentials') ? `the single-use challenge (${why.sentence})` : why.sentence;
  return { outcome: 'blocked', reason: `${chain}the attacker ${readWhat}; the replayed login was refused: ${stopper}`, summary: why.summary, impact: [], evidence, negotiated };
}
