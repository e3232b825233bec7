/**
 * Replay attacks, from the strongest position an attacker without a premise reaches
 * (attacks/kit/position.ts).
 *
 * `replay`: alice's canary message is delivered twice. Inside a channel the attacker took over it
 * re-seals the opened dm a second time; on a readable stream it sends the frame twice; inside a
 * channel it could not take, it re-sends the sealed frame — rewriting `seq` (and renumbering the
 * frames after it) or `ts`/`nonce` where the cipher authenticates nothing (null, aes-128-cbc) —
 * and inside TLS it could not terminate it re-sends the recorded record bytes. It also replays
 * alice's whole recorded session on a new connection after she leaves.
 *
 * `replay-login`: the attacker logs in as alice after she leaves — with her password when it read
 * her login frame, with a password guessed offline from a recorded challenge proof, or by
 * replaying her recorded login on a new connection.
 *
 * Success is measured at the receiver: bob got the canary again, or the server logged the
 * attacker's connection in as alice.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Frame } from '../../core/frames.ts';
import { conversationEvidence, describeRefusal, primaryRefusal, proxyEvidence, readableErrors, serverRefusals } from '../kit/evidence.ts';
import { chainPrefix, positionAddon, positionEvidence, shortStep } from '../kit/position.ts';
import { loginAs } from '../kit/login-as.ts';
import { guessProofOffline } from '../kit/offline-guess.ts';
import type { NewConnectionResult, ProxyConnection, ProxyEngine, ReplayChunk, TrafficChunk } from '../proxy.ts';
import { CanaryMark } from '../kit/canary-mark.ts';
import { readableInner } from '../kit/rewrite.ts';
import type { Attack, Evidence, LiveConversation, Observations } from '../types.ts';

/** Pause between replayed chunks, ms: lets the server answer each flight as it did live. */
const REPLAY_PACING_MS = 10;
/**
 * Longest wait for the server (and bob) to accept or refuse a replay, ms. The wait ends as soon
 * as either is observed; a run that sees neither is inconclusive (outcome error), never blocked.
 */
const REPLAY_VERDICT_TIMEOUT_MS = 4000;

/** Polls `done` every 10 ms until it is true or `timeoutMs` passed. @returns whether it became true */
async function waitFor(done: () => boolean, timeoutMs = REPLAY_VERDICT_TIMEOUT_MS): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > end) return false;
    await sleep(10);
  }
  return true;
}

/**
 * Chunks alice sent on the wire, in order, each marked with whether the server had spoken since
 * her previous chunk (so a replay waits for the answer where she did), and the first chunk at or
 * after the mark (the canary).
 */
function aliceWire(eng: ProxyEngine, mark: CanaryMark): { chunks: Array<TrafficChunk & ReplayChunk>; canary: TrafficChunk | undefined } {
  const conn = eng.connectionByPeer(mark.alicePeer);
  if (!conn) return { chunks: [], canary: undefined };
  const chunks: Array<TrafficChunk & ReplayChunk> = [];
  let serverSpoke = false;
  for (const c of eng.traffic) {
    if (c.conn !== conn.record.id || c.layer !== 'client-wire') continue;
    if (c.dir === 's2c') serverSpoke = true;
    else {
      chunks.push({ ...c, awaitAnswer: serverSpoke });
      serverSpoke = false;
    }
  }
  return { chunks, canary: mark.atMs === null ? undefined : chunks.find((c) => c.t >= mark.atMs!) };
}

/** Why the server did not take a replay on `peer`: its log, or its readable answer. */
function whyRefused(obs: Observations, peer: string | null | undefined, answer?: Buffer): string | null {
  const r = primaryRefusal(serverRefusals(obs, peer));
  if (r) return describeRefusal(r);
  const errs = answer ? readableErrors(answer) : [];
  return errs.length ? `the server answered ${errs.join('; ')}` : null;
}

const isCanaryDm = (f: Frame, canary: string) => (f.type === 'dm' || f.type === 'msg') && typeof f.text === 'string' && f.text.includes(canary);

/**
 * The copy of a sealed frame an attacker without the key sends again. Fields the cipher leaves
 * unauthenticated (no `tag`: null and aes-128-cbc bind nothing, docs/channel.md) are rewritten so
 * the receiver's replay check passes: `seq` to the next number, `ts`/`nonce` to fresh values.
 * @returns the copy and a sentence on how it was made
 */
export function replayCopy(frame: Frame): { copy: Frame; how: string; shiftsSeq: boolean } {
  if (frame.tag !== undefined) return { copy: { ...frame }, how: 're-sent the sealed frame as recorded (a MAC binds its seq/ts/nonce, so rewriting them is pointless)', shiftsSeq: false };
  const copy: Frame = { ...frame };
  const changed: string[] = [];
  let shiftsSeq = false;
  if (typeof frame.seq === 'string' && /^\d+$/.test(frame.seq)) {
    copy.seq = String(BigInt(frame.seq) + 1n);
    shiftsSeq = true;
    changed.push(`seq ${frame.seq} → ${copy.seq} (and renumbered alice's later frames)`);
  }
  if (frame.nonce !== undefined) {
    copy.nonce = randomBytes(16).toString('base64');
    changed.push('a fresh nonce');
  }
  if (typeof frame.ts === 'number') {
    copy.ts = Date.now();
    changed.push('ts = now');
  }
  const why = frame.plaintext !== undefined ? 'the null cipher authenticates nothing' : 'CBC without a MAC authenticates nothing';
  return { copy, how: changed.length ? `re-sent the sealed frame with ${changed.join(', ')} — ${why}` : 're-sent the sealed frame as recorded (it carries no replay field)', shiftsSeq };
}

export const replay: Attack = {
  id: 'replay',
  title: 'Replay a message',
  description:
    'From the strongest position it reaches without a premise, the attacker delivers alice\'s canary message a second time: re-sealed inside a channel it took over, duplicated on a readable stream, re-sent with its unauthenticated seq/nonce rewritten, or replayed as recorded bytes; and it replays her recorded session on a new connection after she leaves. Succeeds only if bob receives the canary a second time.',
  async run(ctx) {
    const pos = await ctx.position();
    const mark = new CanaryMark();
    let copied: { how: string; conn: ProxyConnection } | null = null;
    /** alice's connection: how far her later sealed frames' seq must be shifted after a copy */
    let seqShift = 0n;
    const positioned = positionAddon(pos, ctx.pki, {
      name: 'replay',
      onFrame(conn, dir, frame, at) {
        if (dir !== 'c2s' || !mark.isAlice(conn)) return undefined;
        if (copied) {
          if (seqShift && frame.type === 'sealed' && typeof frame.seq === 'string') return { ...frame, seq: String(BigInt(frame.seq) + seqShift) };
          return undefined;
        }
        if (isCanaryDm(frame, ctx.canary)) {
          copied = { conn, how: at === 'channel' ? 're-sealed alice\'s dm a second time in the channel it negotiated with the server' : 'sent alice\'s readable dm twice' };
          conn.note(copied.how);
          return [frame, frame];
        }
        // Inside a channel it could not take: by traffic analysis, alice's first sealed frame after the mark.
        if (at === 'frames' && frame.type === 'sealed') {
          const r = replayCopy(frame);
          copied = { conn, how: r.how };
          if (r.shiftsSeq) seqShift = 1n;
          conn.note(r.how);
          return [frame, r.copy];
        }
        return undefined;
      },
    });
    let sameConnPeer: string | null = null;
    let newConn: NewConnectionResult | null = null;
    let sameConnCopies = 0;
    let rawInjected = false;
    let seen = false;
    const countCopies = (live: LiveConversation) => live.bob.received.filter((f) => f.type === 'dm' && f.from === 'alice' && String(f.text).includes(ctx.canary)).length;
    let log: Array<{ event: string; peer?: string }> = [];
    const refusedFor = (peer: string | null) => log.some((e) => e.peer === peer && ['channel_error', 'socket_error', 'tls_error', 'protocol_error'].includes(e.event));
    const obs = await ctx.runConversation({
      addon: positioned.addon,
      beforeCanary: mark.beforeCanary,
      afterExchange: async (live) => {
        const eng = live.proxy!;
        const { chunks, canary } = aliceWire(eng, mark);
        const conn = eng.connectionByPeer(mark.alicePeer);
        if (!canary || !conn) return;
        seen = true;
        log = live.serverLog;
        sameConnPeer = conn.record.upstreamLocal;
        if (copied) {
          await waitFor(() => countCopies(live) > 1 || refusedFor(sameConnPeer) || live.alice.closed);
        } else {
          // Inside TLS it could not terminate: re-send the recorded record bytes in her connection.
          const before = countCopies(live);
          conn.inject('c2s', canary.data);
          rawInjected = true;
          conn.note(`replayed ${canary.data.length} recorded bytes of alice's canary message in her own connection`);
          await waitFor(() => countCopies(live) > before || refusedFor(sameConnPeer) || live.alice.closed);
        }
        sameConnCopies = countCopies(live) - 1;
        await live.alice.quit(); // free her account, as if she had gone home
        const beforeNew = countCopies(live);
        newConn = await eng.replayOnNewConnection(
          chunks.filter((c) => c.t <= canary.t),
          { paceMs: REPLAY_PACING_MS, timeoutMs: REPLAY_VERDICT_TIMEOUT_MS, settled: (peer, answer) => countCopies(live) > beforeNew || refusedFor(peer) || readableErrors(answer).length > 0 },
        );
      },
    });
    const evidence: Evidence[] = [...positionEvidence(pos), ...proxyEvidence(obs), ...conversationEvidence(obs)];
    const negotiated = obs.clients.alice.negotiated;
    if (!seen) {
      return { outcome: 'error', reason: 'no verdict: the attacker never found alice\'s message to replay (the conversation did not get that far)', summary: 'message not seen', impact: [], evidence, negotiated };
    }
    const chain = chainPrefix(pos);
    const copies = obs.bobCanaryCopies;
    const nc = newConn as NewConnectionResult | null;
    const how = (copied as { how: string } | null)?.how ?? (rawInjected ? 're-sent the recorded bytes of alice\'s message in her connection' : 'sent nothing');
    const sameWhy = sameConnCopies > 0 ? null : whyRefused(obs, sameConnPeer);
    const newCopies = copies - 1 - sameConnCopies;
    const newWhy = newCopies > 0 ? null : whyRefused(obs, nc?.peer, nc?.response);
    evidence.unshift(
      { kind: 'replay-same-connection', detail: `${chain}${how}: ${sameConnCopies > 0 ? `accepted: bob received the canary again (${sameConnCopies} more)` : `refused: ${sameWhy ?? 'no copy reached bob'}`}` },
      { kind: 'replay-new-connection', detail: nc ? `replayed ${nc.chunks} recorded chunks from ${nc.peer}: ${newCopies > 0 ? 'accepted: bob received the canary again' : `refused: ${newWhy ?? 'no copy reached bob'}`}` : 'not attempted' },
    );
    if (copies > 1) {
      const where = [sameConnCopies > 0 ? `in the same connection (${chain}${how})` : '', newCopies > 0 ? 'on a new connection' : ''].filter(Boolean).join(' and ');
      return { outcome: 'succeeded', reason: `bob received the canary ${copies} times: the replayed message was accepted ${where}`, summary: `replay accepted (${copies} copies)`, impact: ['integrity'], evidence, negotiated };
    }
    if (!sameWhy || !newWhy) {
      return {
        outcome: 'error',
        reason: `inconclusive: within ${REPLAY_VERDICT_TIMEOUT_MS} ms the server neither delivered the replayed canary nor refused it (${!sameWhy ? 'same connection' : 'new connection'}); no verdict`,
        summary: 'inconclusive',
        impact: [],
        evidence,
        negotiated,
      };
    }
    return {
      outcome: 'blocked',
      reason: `bob received the canary once: same connection — ${chain}${how}; ${sameWhy}; new connection — ${newWhy}`,
      summary: shortWhy(sameWhy),
      impact: [],
      evidence,
      negotiated,
    };
  },
};

export const replayLogin: Attack = {
  id: 'replay-login',
  title: 'Replay a login',
  description:
    'From the strongest position it reaches without a premise, the attacker logs in as alice after she leaves: with her password if it read her login frame, with a password guessed offline from her recorded challenge proof, or by replaying her recorded login on a new connection. Succeeds only if the server logs the attacker in as alice.',
  async run(ctx) {
    const pos = await ctx.position();
    const mark = new CanaryMark();
    let loginFrame: { frame: Frame; at: string } | null = null;
    let challenge: Frame | null = null;
    const positioned = positionAddon(pos, ctx.pki, {
      name: 'replay-login',
      onFrame(_conn, dir, sealedOrNot, at) {
        // Under the null cipher a sealed frame carries its chat frame readable: a passive reader takes it.
        const frame = readableInner(sealedOrNot);
        if (!frame) return undefined;
        const where = frame === sealedOrNot ? at : 'null-cipher';
        if (dir === 'c2s' && frame.type === 'login' && frame.username === 'alice' && !loginFrame) loginFrame = { frame, at: where };
        if (dir === 's2c' && frame.type === 'challenge' && frame.username === 'alice' && !loginFrame) challenge = frame;
        return undefined;
      },
    });
    let replayed: NewConnectionResult | null = null;
    let recovered: { password: string; how: string } | null = null;
    let attackerLogin: Awaited<ReturnType<typeof loginAs>> | null = null;
    let guessNote: string | null = null;
    let log: Array<{ event: string; peer?: string }> = [];
    const obs = await ctx.runConversation({
      addon: positioned.addon,
      beforeCanary: mark.beforeCanary,
      afterExchange: async (live) => {
        const eng = live.proxy!;
        log = live.serverLog;
        const { chunks } = aliceWire(eng, mark);
        await live.alice.quit();
        const lf = loginFrame as { frame: Frame; at: string } | null;
        const where = lf?.at === 'channel' ? 'opened from the secure channel it took over' : lf?.at === 'null-cipher' ? 'readable inside a null-cipher sealed frame' : 'read on the stream';
        if (lf && typeof lf.frame.password === 'string') recovered = { password: lf.frame.password, how: `read alice's password in her login frame (${where})` };
        else if (lf && typeof lf.frame.proof === 'string' && challenge) {
          const g = await guessProofOffline(challenge, lf.frame.proof, 'alice', { thief: { budgetCoreSeconds: ctx.crackBudgetCoreSeconds, knownPassword: ctx.users.alice } });
          guessNote = g.detail;
          if (g.password !== null) recovered = { password: g.password, how: `recorded alice's challenge and proof (${where}) and ${g.detail}` };
        }
        if (recovered) {
          attackerLogin = await loginAs(ctx.profile, ctx.pki, live.server.port, 'alice', (recovered as { password: string }).password);
          if (attackerLogin.ok) return;
        }
        // Everything alice sent before her first message: handshake (if any) and login.
        replayed = await eng.replayOnNewConnection(
          chunks.filter((c) => c.t < (mark.atMs ?? 0)),
          {
            paceMs: REPLAY_PACING_MS,
            timeoutMs: REPLAY_VERDICT_TIMEOUT_MS,
            settled: (peer, answer) => log.some((e) => e.peer === peer && ['login', 'channel_error', 'socket_error', 'tls_error'].includes(e.event)) || readableErrors(answer).length > 0,
          },
        );
      },
    });
    const evidence: Evidence[] = [...positionEvidence(pos), ...proxyEvidence(obs), ...conversationEvidence(obs)];
    const negotiated = obs.clients.alice.negotiated;
    const chain = chainPrefix(pos);
    const rec = recovered as { password: string; how: string } | null;
    const al = attackerLogin as Awaited<ReturnType<typeof loginAs>> | null;
    if (guessNote) evidence.unshift({ kind: 'offline-guess', detail: guessNote });
    if (rec && al?.ok) {
      const login = obs.server.log.find((e) => e.event === 'login' && e.peer === al.peer);
      evidence.unshift({ kind: 'password-recovered', detail: `${chain}${rec.how}: ${JSON.stringify(rec.password)}` });
      evidence.unshift({ kind: 'attacker-login-accepted', detail: `the server logged in ${String(login?.username ?? 'alice')} for the attacker's connection ${al.peer}, using the recovered password` });
      return { outcome: 'succeeded', reason: `${chain}the attacker ${rec.how}, then logged in as alice with it`, summary: `logged in as alice (${shortStep(pos)})`.slice(0, 40), impact: ['authentication', 'confidentiality'], evidence, negotiated };
    }
    if (rec && al && !al.ok) evidence.unshift({ kind: 'attacker-login-refused', detail: `the recovered password did not log in: ${al.why}` });
    const r = replayed as NewConnectionResult | null;
    if (!r || r.chunks === 0) return { outcome: 'error', reason: 'no verdict: the attacker never recorded alice\'s login, so nothing was replayed', summary: 'login not seen', impact: [], evidence, negotiated };
    const login = obs.server.log.find((e) => e.event === 'login' && e.peer === r.peer);
    if (login) {
      evidence.unshift({ kind: 'replayed-login-accepted', detail: `the server logged in ${String(login.username)} for the replaying connection ${r.peer} (${r.chunks} recorded chunks replayed)` });
      return { outcome: 'succeeded', reason: `the server accepted the replayed login: the attacker is logged in as ${String(login.username)} without knowing the password`, summary: 'replayed login accepted', impact: ['authentication'], evidence, negotiated };
    }
    const why = whyRefused(obs, r.peer, r.response);
    if (!why) {
      return { outcome: 'error', reason: `inconclusive: within ${REPLAY_VERDICT_TIMEOUT_MS} ms the server neither logged the replayed connection in nor refused it; no verdict`, summary: 'inconclusive', impact: [], evidence, negotiated };
    }
    const readWhat = loginFrame ? (guessNote ? `read alice's challenge proof but ${guessNote}` : 'read alice\'s login frame, which carries no password') : 'could not read alice\'s login';
    evidence.unshift({ kind: 'replayed-login-refused', detail: `${r.chunks} recorded chunks replayed from ${r.peer}: ${why}` });
    const stopper = /stale_challenge|bad_credentials/.test(why) ? `the single-use challenge (${why})` : why;
    return { outcome: 'blocked', reason: `${chain}the attacker ${readWhat}; the replayed login was refused: ${stopper}`, summary: shortWhy(why), impact: [], evidence, negotiated };
  },
};

function shortWhy(why: string | null): string {
  if (!why) return 'replay not accepted';
  const m = /channel refused it \((\w+)\)/.exec(why) ?? /answered (\w+)/.exec(why);
  if (m) return `refused: ${m[1]}`.slice(0, 40);
  if (/record MAC/.test(why)) return 'refused: TLS record MAC';
  if (/handshake failed/.test(why)) return 'refused: TLS handshake';
  return 'replay not accepted';
}
