/**
 * `robustness-slowloris` against a target: a few connections each send the start of a TLS
 * ClientHello (or, for a plaintext app, the start of the name line) and then nothing. A server that
 * runs each handshake in its accept loop (`wrap_socket` before the thread starts) waits on the
 * first one for ever, and no one else gets in; one that hands each connection to its own thread,
 * with a time limit on the handshake, keeps serving.
 *
 * Measured: with SLOW_CONNECTIONS stalled, does a new legitimate client complete its handshake
 * within NEW_CLIENT_MS, and does its line reach a client that joined before the stall within
 * DELIVERY_MS? Does a client already in the chat still get its messages through? How many stalled
 * connections had the server closed when the probe ended? Succeeded when the newcomer is not
 * served (or the chat already running stops); blocked when it is, with the times.
 */
import { randomBytes } from 'node:crypto';
import { probeHelloBytes } from '../tls-scan.ts';
import type { Evidence } from '../types.ts';
import { AFTER_NAME_MS, joinText, probeApplicability, ProbeClient, probeSession, saidLines, sleep } from './probe-client.ts';
import type { TargetAttack } from './types.ts';

/** Stalled connections opened: a handful, the way one attacker on one laptop would start. */
export const SLOW_CONNECTIONS = 8;
/** Bytes of the ClientHello record each stalled connection sends (the record header and a few bytes of the message). */
const PARTIAL_HELLO_BYTES = 20;
/** How long the newcomer may take to connect and finish its TLS handshake, ms. */
export const NEW_CLIENT_MS = 5000;
/** Longest wait for a line at the reader, ms. */
export const DELIVERY_MS = 3000;
/** Pause after the stalled connections are open, so the server has accepted them all, ms. */
const AFTER_STALL_MS = 500;

const tag = () => 'sl-' + randomBytes(6).toString('hex');

export const targetRobustnessSlowloris: TargetAttack = {
  id: 'robustness-slowloris',
  title: 'Slow handshakes (slowloris)',
  description:
    'Opens 8 connections that each send part of a TLS ClientHello (part of a line for a plaintext app) and stall; then measures whether a new client still completes its handshake within 5 s and gets its line delivered, and whether the chat already running goes on. Succeeds when the newcomer or the running chat is not served.',
  applicability: probeApplicability,
  async run(ctx) {
    const t = ctx.target;
    const session = await probeSession(t);
    const { server, port, clients } = session;
    const open = session.join;
    try {
      const reader = await open();
      const member = await open();
      const ref = tag();
      await member.write(`${ref}\n`);
      if (!(await reader.waitFor((c) => c.tail.includes(ref), DELIVERY_MS))) {
        return { outcome: 'error', reason: `no verdict: before the stall, a line did not reach another client within ${DELIVERY_MS} ms, so nothing can be measured`, summary: 'reference not delivered', impact: [], evidence: [{ kind: 'server', detail: saidLines(server.output) || '(nothing)' }], negotiated: null };
      }

      const partial = t.server.transport === 'tls' ? probeHelloBytes('TLSv1.2', [0xc02f, 0x009c], { serverName: t.client.expectServerName }).subarray(0, PARTIAL_HELLO_BYTES) : Buffer.from(joinText(t).replace(/\r?\n$/, '') || 'x');
      const what = t.server.transport === 'tls' ? `the first ${PARTIAL_HELLO_BYTES} bytes of a TLS ClientHello` : `a name without its newline`;
      const slow: ProbeClient[] = [];
      for (let i = 0; i < SLOW_CONNECTIONS; i++) {
        const c = await ProbeClient.connect(t, port, { handshake: false });
        clients.push(c);
        slow.push(c);
        await c.write(partial);
      }
      const stallStarted = performance.now();
      await sleep(AFTER_STALL_MS);

      // The chat already running: does a member's line still get through?
      const during = tag();
      let t0 = performance.now();
      await member.write(`${during}\n`);
      const memberOk = await reader.waitFor((c) => c.tail.includes(during), DELIVERY_MS);
      const memberMs = Math.round(performance.now() - t0);

      // The newcomer.
      t0 = performance.now();
      let newcomer: ProbeClient | null = null;
      let newcomerError = '';
      try {
        newcomer = await open(NEW_CLIENT_MS);
      } catch (e) {
        newcomerError = (e as Error).message;
      }
      const handshakeMs = Math.round(performance.now() - t0) - (newcomer ? AFTER_NAME_MS : 0);
      let newcomerDelivered = false;
      let newcomerMs = 0;
      if (newcomer) {
        const line = tag();
        t0 = performance.now();
        await newcomer.write(`${line}\n`);
        newcomerDelivered = await reader.waitFor((c) => c.tail.includes(line), DELIVERY_MS);
        newcomerMs = Math.round(performance.now() - t0);
      }
      const stalledFor = Math.round(performance.now() - stallStarted);
      const closedSlow = slow.filter((c) => c.closed).length;
      const serverDied = server.exit !== null;

      const hs = t.server.transport === 'tls' ? 'TLS handshake' : 'connection';
      const evidence: Evidence[] = [
        { kind: 'stall', detail: `${SLOW_CONNECTIONS} connections each sent ${what} and then nothing` },
        { kind: 'member', detail: memberOk ? `a client already in the chat still got its line through in ${memberMs} ms` : `a client already in the chat did not get its line through within ${DELIVERY_MS} ms` },
        {
          kind: 'newcomer',
          detail: newcomer
            ? `a new client completed its ${hs} in ${handshakeMs} ms; its line ${newcomerDelivered ? `reached another client in ${newcomerMs} ms` : `did not reach another client within ${DELIVERY_MS} ms`}`
            : `a new client was not served: ${newcomerError}`,
        },
        { kind: 'stalled', detail: `${closedSlow} of ${SLOW_CONNECTIONS} stalled connections had been closed by the server ${stalledFor} ms after they stalled` },
        { kind: 'server', detail: `${serverDied ? `the server exited (${server.exit!.code ?? server.exit!.signal})` : 'the server is still running'}; it printed: ${saidLines(server.output) || '(nothing)'}` },
      ];
      const data = { slowConnections: SLOW_CONNECTIONS, memberDelivered: memberOk, newcomerServed: !!newcomer, newcomerHandshakeMs: newcomer ? handshakeMs : null, newcomerDelivered, stalledClosed: closedSlow, serverExited: serverDied };
      const harms: string[] = [];
      if (!newcomer) harms.push(`a new client was not served (${newcomerError})`);
      else if (!newcomerDelivered) harms.push(`a new client's line did not reach another client within ${DELIVERY_MS} ms`);
      if (!memberOk) harms.push(`a client already in the chat did not get its line through within ${DELIVERY_MS} ms`);
      if (serverDied) harms.push(`the server exited (${server.exit!.code ?? server.exit!.signal})`);
      if (harms.length) {
        return { outcome: 'succeeded', reason: `${SLOW_CONNECTIONS} connections that each sent ${what} and stalled: ${harms.join('; ')}`, summary: !newcomer ? 'new clients locked out' : harms[0]!.slice(0, 40), impact: ['availability'], evidence, negotiated: null, data };
      }
      return {
        outcome: 'blocked',
        reason: `with ${SLOW_CONNECTIONS} connections stalled after ${what}, a new client completed its ${hs} in ${handshakeMs} ms and its line reached another client in ${newcomerMs} ms; the chat already running went on (${memberMs} ms)`,
        summary: 'newcomer served during the stall',
        impact: [],
        evidence,
        negotiated: null,
        data,
      };
    } finally {
      await session.close();
    }
  },
};
