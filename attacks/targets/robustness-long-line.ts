/**
 * `robustness-long-line` against a target: one client sends a 5 MiB line that never ends (no
 * newline). A line-based server must bound what it buffers for one line (a limit and a close, as
 * ws does with maxPayload); one that relays whatever `recv()` returned delivers pieces of a message
 * that was never sent whole, and one that buffers without a limit lets any client grow its memory.
 *
 * Measured, with the server's other clients being the probe's own (attacks/targets/probe-client.ts):
 *  - how many bytes of the unfinished line reached another client (relayed pieces);
 *  - whether and when the server closed the sender (bytes written by then);
 *  - the server's peak resident memory before and after (Linux VmHWM);
 *  - whether a normal line afterwards still reaches the other client within DELIVERY_MS, and the
 *    server is still running.
 * Succeeded when pieces were relayed, the server's peak memory grew by most of the line, the chat
 * stopped delivering, or the server died. Blocked otherwise, naming what stopped the line.
 */
import { randomBytes } from 'node:crypto';
import type { Evidence, Impact } from '../types.ts';
import { mib, peakMemoryBytes, probeApplicability, probeSession, saidLines, sleep } from './probe-client.ts';
import type { TargetAttack } from './types.ts';

/** The unfinished line, bytes (5 MiB). */
export const LONG_LINE_BYTES = 5 * 1024 * 1024;
/** Bytes per write of it. */
const CHUNK_BYTES = 64 * 1024;
/** Longest time the sender keeps writing, ms. */
const SEND_BUDGET_MS = 15_000;
/** Longest wait for a normal line to reach the other client, ms. */
export const DELIVERY_MS = 3000;
/** Peak memory growth that counts as "buffered the line": most of it (Python may hold it twice while joining). */
const BUFFERED_BYTES = 4 * 1024 * 1024;
/** The filler byte: '~' appears in no tag, name or decoration the probe uses. */
const FILL = 0x7e;

const tag = () => 'll-' + randomBytes(6).toString('hex');

export const targetRobustnessLongLine: TargetAttack = {
  id: 'robustness-long-line',
  title: 'A 5 MiB line without a newline',
  description:
    "One client sends a 5 MiB line that never ends. Measures how much of it reached another client, when the server closed the sender, the server's peak memory, and whether a normal line still gets through afterwards. Succeeds when pieces were relayed, the server buffered the line whole, or the chat stopped.",
  applicability: probeApplicability,
  async run(ctx) {
    const t = ctx.target;
    const session = await probeSession(t);
    const { server } = session;
    const open = session.join;
    try {
      const reader = await open();
      const sender = await open();
      const attacker = await open();
      const ref = tag();
      await sender.write(`${ref}\n`);
      if (!(await reader.waitFor((c) => c.tail.includes(ref), DELIVERY_MS))) {
        return { outcome: 'error', reason: `no verdict: a normal line from one probe client never reached another within ${DELIVERY_MS} ms, so nothing can be measured`, summary: 'reference not delivered', impact: [], evidence: [{ kind: 'server', detail: server.tail(3) || '(nothing)' }], negotiated: null };
      }
      reader.countByte(FILL);
      const peakBefore = await peakMemoryBytes(server.child.pid);

      const chunk = Buffer.alloc(CHUNK_BYTES, FILL);
      const started = performance.now();
      let written = 0;
      let stuck = false;
      while (written < LONG_LINE_BYTES && performance.now() - started < SEND_BUDGET_MS) {
        const r = await attacker.write(chunk, Math.max(1, SEND_BUDGET_MS - (performance.now() - started)));
        if (r !== 'written') {
          stuck = r === 'stuck';
          break;
        }
        written += chunk.length;
      }
      const sendMs = Math.round(performance.now() - started);
      // Let the server work through what the kernel still holds: until neither the relay nor its
      // peak memory has moved for two samples in a row (bounded: 20 samples, 5 s).
      let peakAfter = await peakMemoryBytes(server.child.pid);
      for (let still = 0, i = 0; i < 20 && still < 2; i++) {
        const before = `${reader.countOf(FILL)}/${peakAfter}`;
        await sleep(250);
        peakAfter = await peakMemoryBytes(server.child.pid);
        still = `${reader.countOf(FILL)}/${peakAfter}` === before ? still + 1 : 0;
      }
      const relayed = reader.countOf(FILL);

      const after = tag();
      const t0 = performance.now();
      await sender.write(`${after}\n`);
      const delivered = await reader.waitFor((c) => c.tail.includes(after), DELIVERY_MS);
      const latencyMs = Math.round(performance.now() - t0);
      const serverDied = server.exit !== null;
      const growth = peakBefore !== null && peakAfter !== null ? peakAfter - peakBefore : null;

      const closedNote = attacker.closed ? `the server closed the sender's connection (${attacker.closeReason}) after it had written ${mib(written)} of the ${mib(LONG_LINE_BYTES)} line` : stuck ? `the server stopped reading the sender after ${mib(written)} of the ${mib(LONG_LINE_BYTES)} line` : `the sender wrote all ${mib(written)} in ${sendMs} ms and the connection stayed open`;
      const evidence: Evidence[] = [
        { kind: 'sent', detail: `${closedNote}` },
        { kind: 'relayed', detail: `another client received ${relayed} bytes of the unfinished line (${mib(relayed)})` },
        { kind: 'memory', detail: growth === null ? "the server's peak memory could not be read (/proc)" : `the server's peak resident memory (VmHWM) went from ${mib(peakBefore!)} to ${mib(peakAfter!)} (${growth >= 0 ? '+' : ''}${mib(growth)})` },
        { kind: 'after', detail: delivered ? `a normal line sent afterwards reached the other client in ${latencyMs} ms` : `a normal line sent afterwards did not reach the other client within ${DELIVERY_MS} ms` },
        { kind: 'server', detail: `${serverDied ? `the server exited (${server.exit!.code ?? server.exit!.signal})` : 'the server is still running'}; it printed: ${saidLines(server.output) || '(nothing)'}` },
      ];
      const data = { lineBytes: LONG_LINE_BYTES, writtenBytes: written, senderClosed: attacker.closed, relayedBytes: relayed, peakMemoryGrowthBytes: growth, deliveredAfter: delivered, latencyAfterMs: delivered ? latencyMs : null, serverExited: serverDied };
      const harms: string[] = [];
      const impact = new Set<Impact>();
      if (relayed > 0) {
        harms.push(`it relayed ${relayed} bytes (${mib(relayed)}) of a line that never ended to another client, as if they were messages`);
        impact.add('integrity');
      }
      if (growth !== null && growth >= BUFFERED_BYTES) {
        harms.push(`it buffered the unfinished line: its peak memory grew by ${mib(growth)} — memory any client can make grow as long as it keeps sending`);
        impact.add('availability');
      }
      if (serverDied) {
        harms.push(`the server exited (${server.exit!.code ?? server.exit!.signal})`);
        impact.add('availability');
      } else if (!delivered) {
        harms.push(`afterwards a normal line did not reach the other client within ${DELIVERY_MS} ms`);
        impact.add('availability');
      }
      if (harms.length) {
        return { outcome: 'succeeded', reason: `a 5 MiB line without a newline: ${harms.join('; ')} (${closedNote})`, summary: relayed > 0 ? `${mib(relayed)} of an unfinished line relayed` : harms[0]!.slice(0, 40), impact: [...impact], evidence, negotiated: null, data };
      }
      const stopper = attacker.closed ? closedNote : stuck ? closedNote : 'the server read the whole line without relaying or buffering it';
      return {
        outcome: 'blocked',
        reason: `a 5 MiB line without a newline: ${stopper}; none of it reached another client, the server's peak memory grew by ${growth === null ? 'an unmeasured amount' : mib(growth)}, and a normal line afterwards arrived in ${latencyMs} ms`,
        summary: attacker.closed ? 'sender cut off, nothing relayed' : 'line dropped, nothing relayed',
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
