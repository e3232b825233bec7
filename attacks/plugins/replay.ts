/**
 * Replay attacks. The attacker records what alice sends at the hop it can see (the wire), then
 * sends it again: `replay` re-sends alice's canary message in the same connection and replays her
 * whole session (up to the canary) on a new connection; `replay-login` replays her login exchange
 * on a new connection. Success is measured at the receiver: bob got the canary a second time, or
 * the server logged the replayed connection in as alice.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FrameDecoder, type Frame } from '../../core/frames.ts';
import { conversationEvidence, describeRefusal, primaryRefusal, proxyEvidence, serverRefusals } from '../evidence.ts';
import type { ProxyEngine, TrafficChunk } from '../proxy.ts';
import { CanaryMark } from '../canary-mark.ts';
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

/** What a replay on a new connection produced. */
interface NewConnectionReplay {
  /** the replaying socket's address:port, as the server's log names it */
  peer: string;
  /** bytes the server sent back */
  response: Buffer;
  chunks: number;
}

/** Chunks alice sent on the wire, in order, and the first one at or after the mark (the canary). */
function aliceWire(eng: ProxyEngine, mark: CanaryMark): { chunks: TrafficChunk[]; canary: TrafficChunk | undefined } {
  const conn = eng.connectionByPeer(mark.alicePeer);
  if (!conn) return { chunks: [], canary: undefined };
  const chunks = eng.traffic.filter((c) => c.conn === conn.record.id && c.dir === 'c2s' && c.layer === 'client-wire');
  return { chunks, canary: mark.atMs === null ? undefined : chunks.find((c) => c.t >= mark.atMs!) };
}

/**
 * Sends recorded chunks on a fresh connection to the server, paced, and collects the answer
 * until `settled(peer, answer)` says the server's reaction was seen (or the verdict timeout).
 */
async function replayOnNewConnection(eng: ProxyEngine, chunks: TrafficChunk[], settled: (peer: string, answer: Buffer) => boolean): Promise<NewConnectionReplay> {
  const sock = eng.connectUpstream();
  const response: Buffer[] = [];
  sock.on('data', (d: Buffer) => response.push(d));
  sock.on('error', () => {});
  await new Promise<void>((resolve) => {
    sock.once('connect', resolve);
    sock.once('error', () => resolve());
  });
  const peer = `${sock.localAddress}:${sock.localPort}`;
  for (const c of chunks) {
    if (sock.destroyed) break;
    sock.write(c.data);
    await sleep(REPLAY_PACING_MS);
  }
  await waitFor(() => settled(peer, Buffer.concat(response)));
  sock.destroy();
  return { peer, response: Buffer.concat(response), chunks: chunks.length };
}

/** Error frames readable in a plaintext answer (nothing, when the answer is encrypted). */
function readableErrors(bytes: Buffer): string[] {
  const dec = new FrameDecoder({ maxFrameBytes: 1 << 20 });
  dec.push(bytes);
  const out: string[] = [];
  for (;;) {
    let f: Frame | null;
    try {
      f = dec.next();
    } catch {
      continue;
    }
    if (!f) break;
    if (f.type === 'error') out.push(`${String(f.code)}: ${String(f.message)}`);
  }
  return out;
}

/** Why the server did not take a replay on `peer`: its log, or its readable answer. */
function whyRefused(obs: Observations, peer: string | null | undefined, answer?: Buffer): string | null {
  const r = primaryRefusal(serverRefusals(obs, peer));
  if (r) return describeRefusal(r);
  const errs = answer ? readableErrors(answer) : [];
  return errs.length ? `the server answered ${errs.join('; ')}` : null;
}

export const replay: Attack = {
  id: 'replay',
  title: 'Replay a message',
  description: 'The attacker records alice\'s canary message on the wire and sends it again, in the same connection and — after alice leaves — by replaying her recorded session on a new connection. Succeeds only if bob receives the canary a second time.',
  async run(ctx) {
    const mark = new CanaryMark();
    const steps: Evidence[] = [];
    let sameConnPeer: string | null = null;
    let newConn: NewConnectionReplay | null = null;
    let sameConnCopies = 0;
    let seen = false;
    const countCopies = (live: LiveConversation) => live.bob.received.filter((f) => f.type === 'dm' && f.from === 'alice' && String(f.text).includes(ctx.canary)).length;
    let log: Array<{ event: string; peer?: string }> = [];
    const refusedFor = (peer: string | null) => log.some((e) => e.peer === peer && ['channel_error', 'socket_error', 'tls_error', 'protocol_error'].includes(e.event));
    const obs = await ctx.runConversation({
      addon: { name: 'replay' },
      beforeCanary: mark.beforeCanary,
      afterExchange: async (live) => {
        const eng = live.proxy!;
        const { chunks, canary } = aliceWire(eng, mark);
        const conn = eng.connectionByPeer(mark.alicePeer);
        if (!canary || !conn) return;
        seen = true;
        log = live.serverLog;
        sameConnPeer = conn.record.upstreamLocal;
        const before = countCopies(live);
        conn.inject('c2s', canary.data);
        conn.note(`replayed ${canary.data.length} recorded bytes of alice's canary message in her own connection`);
        await waitFor(() => countCopies(live) > before || refusedFor(sameConnPeer) || live.alice.closed);
        sameConnCopies = countCopies(live) - before;
        await live.alice.quit(); // free her account, as if she had gone home
        const beforeNew = countCopies(live);
        newConn = await replayOnNewConnection(eng, chunks.filter((c) => c.t <= canary.t), (peer, answer) => countCopies(live) > beforeNew || refusedFor(peer) || readableErrors(answer).length > 0);
      },
    });
    const evidence: Evidence[] = [...steps, ...proxyEvidence(obs), ...conversationEvidence(obs)];
    const negotiated = obs.clients.alice.negotiated;
    if (!seen) {
      return { outcome: 'error', reason: 'no verdict: the attacker never found alice\'s message on the wire to replay (the conversation did not get that far)', summary: 'message not seen', impact: [], evidence, negotiated };
    }
    const copies = obs.bobCanaryCopies;
    const nc = newConn as NewConnectionReplay | null;
    const sameWhy = sameConnCopies > 0 ? null : whyRefused(obs, sameConnPeer);
    const newWhy = whyRefused(obs, nc?.peer, nc?.response);
    evidence.unshift(
      { kind: 'replay-same-connection', detail: sameConnCopies > 0 ? `accepted: bob received the canary again (${sameConnCopies} more)` : `refused: ${sameWhy ?? 'no copy reached bob'}` },
      { kind: 'replay-new-connection', detail: nc ? `replayed ${nc.chunks} recorded chunks from ${nc.peer}: ${copies - 1 - sameConnCopies > 0 ? 'accepted: bob received the canary again' : `refused: ${newWhy ?? 'no copy reached bob'}`}` : 'not attempted' },
    );
    if (copies > 1) {
      const where = [sameConnCopies > 0 ? 'in the same connection' : '', copies - 1 - sameConnCopies > 0 ? 'on a new connection' : ''].filter(Boolean).join(' and ');
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
      reason: `bob received the canary once: same connection — ${sameWhy ?? 'no copy reached bob'}; new connection — ${newWhy ?? 'no copy reached bob'}`,
      summary: shortWhy(sameWhy ?? newWhy),
      impact: [],
      evidence,
      negotiated,
    };
  },
};

export const replayLogin: Attack = {
  id: 'replay-login',
  title: 'Replay a login',
  description: 'The attacker records alice\'s login exchange on the wire and, after she leaves, replays it from a new connection. Succeeds only if the server accepts the replayed login.',
  async run(ctx) {
    const mark = new CanaryMark();
    let replayed: NewConnectionReplay | null = null;
    let log: Array<{ event: string; peer?: string }> = [];
    const obs = await ctx.runConversation({
      addon: { name: 'replay-login' },
      beforeCanary: mark.beforeCanary,
      afterExchange: async (live) => {
        const eng = live.proxy!;
        log = live.serverLog;
        const { chunks } = aliceWire(eng, mark);
        await live.alice.quit();
        // Everything alice sent before her first message: handshake (if any) and login.
        replayed = await replayOnNewConnection(
          eng,
          chunks.filter((c) => c.t < (mark.atMs ?? 0)),
          (peer, answer) => log.some((e) => e.peer === peer && ['login', 'channel_error', 'socket_error', 'tls_error'].includes(e.event)) || readableErrors(answer).length > 0,
        );
      },
    });
    const evidence: Evidence[] = [...proxyEvidence(obs), ...conversationEvidence(obs)];
    const negotiated = obs.clients.alice.negotiated;
    const r = replayed as NewConnectionReplay | null;
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
    evidence.unshift({ kind: 'replayed-login-refused', detail: `${r.chunks} recorded chunks replayed from ${r.peer}: ${why}` });
    return { outcome: 'blocked', reason: `the replayed login was refused: ${why}`, summary: shortWhy(why), impact: [], evidence, negotiated };
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
