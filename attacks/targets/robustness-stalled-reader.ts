/**
 * `robustness-stalled-reader` against a target: a client joins and stops reading. Once the
 * kernel buffers towards it are full (TCP flow control, RFC 9293 §3.8.6: its receive window is
 * zero), every write the server makes to it blocks — a server that broadcasts from the sender's
 * thread with a blocking `sendall` then stops delivering to everyone after it in its client list,
 * and stops reading the sender. ws's answer is a bounded send buffer per client and cutting the one
 * that does not drain; a course server can do the same with a queue and a writer thread per client.
 *
 * The probe's own clients, in join order: reader A, the staller, reader B, a flooder. The flooder
 * sends lines (up to FLOOD_BYTES, bounded in time) to fill every buffer towards the staller; then
 * the flooder sends one more line (to A and B) and A, quiet so far, one to B, and the probe
 * measures whether each arrived within DELIVERY_MS. Counts in evidence: bytes flooded, bytes each reader got, the
 * latency, whether the server cut the staller off. Succeeded when a reader did not get the line in
 * time (or the server died); blocked when both did.
 */
import { randomBytes } from 'node:crypto';
import type { Evidence } from '../types.ts';
import { mib, probeApplicability, probeSession, saidLines, sleep } from './probe-client.ts';
import type { TargetAttack } from './types.ts';

/**
 * Most the flooder sends, bytes: more than the kernel holds for a client that reads nothing (on
 * Linux loopback the server's send buffer, tcp_wmem at most 4 MiB by default, plus a receive
 * window that does not grow while nothing is read — 3.8 MiB in all, measured). A server that
 * takes all of it for everyone has either cut the stalled client off or buffered it itself.
 */
export const FLOOD_BYTES = 12 * 1024 * 1024;
/** Longest the flood runs, ms; a flood that neither completes nor stalls in this time gives no verdict. */
const FLOOD_BUDGET_MS = 25_000;
/** The server stopped reading the flooder when, for this long, a write is not taken and no reader receives anything, ms. */
const STUCK_MS = 3000;
/** Bytes per flood write: 4 lines of 16 KiB (long lines: a Python server's cost is per line, and a loaded machine is slow). */
const LINE_BYTES = 16 * 1024;
const LINES_PER_WRITE = 4;
/** Longest wait for each line after the flood at each reader, ms. */
export const DELIVERY_MS = 10_000;
const FILL = 0x7e;

const tag = () => 'sr-' + randomBytes(6).toString('hex');

export const targetRobustnessStalledReader: TargetAttack = {
  id: 'robustness-stalled-reader',
  title: 'A client that stops reading',
  description:
    'A client joins and stops reading while another floods the chat until every buffer towards it is full; then one line is sent and the probe measures whether the clients that joined before and after the stalled one still receive it within 10 s. Succeeds when one does not.',
  applicability: probeApplicability,
  async run(ctx) {
    const t = ctx.target;
    const session = await probeSession(t);
    const { server } = session;
    const open = session.join;
    try {
      const readerA = await open();
      const staller = await open();
      staller.stall();
      const readerB = await open();
      const flooder = await open();
      const readers = [
        { name: 'the client that joined before the stalled one', c: readerA },
        { name: 'the client that joined after it', c: readerB },
      ];
      const ref = tag();
      await flooder.write(`${ref}\n`);
      const refOk = await Promise.all(readers.map((r) => r.c.waitFor((c) => c.tail.includes(ref), DELIVERY_MS)));
      if (!refOk.every(Boolean)) {
        return { outcome: 'error', reason: `no verdict: before any flood, a line did not reach every other client within ${DELIVERY_MS} ms, so nothing can be measured`, summary: 'reference not delivered', impact: [], evidence: [{ kind: 'server', detail: server.tail(3) || '(nothing)' }], negotiated: null };
      }
      for (const r of readers) r.c.countByte(FILL);

      const block = Buffer.from(`${'~'.repeat(LINE_BYTES - 1)}\n`.repeat(LINES_PER_WRITE));
      const started = performance.now();
      let flooded = 0;
      let floodEnd: 'limit' | 'stuck' | 'closed' | 'time' = 'time';
      const readersGot = () => readers.reduce((n, r) => n + r.c.countOf(FILL), 0);
      while (performance.now() - started < FLOOD_BUDGET_MS) {
        if (flooded >= FLOOD_BYTES) {
          floodEnd = 'limit';
          break;
        }
        const before = readersGot();
        const r = await flooder.write(block, STUCK_MS);
        if (r === 'closed') {
          floodEnd = r;
          break;
        }
        if (r === 'stuck') {
          // Not taken for STUCK_MS: stopped, or only slow (a loaded machine)? Slow still delivers.
          let seen = before;
          let stopped = false;
          while (!stopped && !(await flooder.flushed(STUCK_MS)) && performance.now() - started < FLOOD_BUDGET_MS) {
            stopped = readersGot() === seen;
            seen = readersGot();
          }
          if (stopped || readersGot() === before) {
            floodEnd = 'stuck';
            break;
          }
        }
        flooded += block.length;
      }
      const floodMs = Math.round(performance.now() - started);
      // Let deliveries in flight land (bounded): until neither reader's count moves for 300 ms.
      for (let last = '', i = 0; i < 10; i++) {
        const now = readers.map((r) => r.c.countOf(FILL)).join('/');
        if (now === last) break;
        last = now;
        await sleep(300);
      }

      // Lines after the flood: from the flooder (whose broadcast was in progress when the buffers
      // towards the staller filled) to both readers, and from the first reader, quiet so far, to the other.
      const senders = [
        { name: 'the flooder', c: flooder, line: tag(), to: readers },
        { name: 'a quiet client', c: readerA, line: tag(), to: [readers[1]!] },
      ];
      const t0 = performance.now();
      await Promise.all(senders.map((s) => s.c.write(`${s.line}\n`, 500)));
      const got = await Promise.all(
        senders.flatMap((s) => s.to.map((r) => r.c.waitFor((c) => c.tail.includes(s.line), DELIVERY_MS).then((ok) => ({ from: s.name, to: r.name, ok, ms: Math.round(performance.now() - t0) })))),
      );

      // What became of the staller: read again, and see whether the server had cut it off.
      staller.resume();
      await staller.waitFor((c) => c.closed, 3000);
      const serverDied = server.exit !== null;
      if (floodEnd === 'time' && !serverDied && got.every((g) => g.ok)) {
        // Nothing went wrong, but the buffers towards the staller may never have filled: "blocked" would be a guess.
        return { outcome: 'error', reason: `no verdict: in ${FLOOD_BUDGET_MS} ms the server took only ${mib(flooded)} of the ${mib(FLOOD_BYTES)} flood, still reading it, so the buffers towards the stalled client may not have filled`, summary: 'flood incomplete', impact: [], evidence: [{ kind: 'server', detail: saidLines(server.output) || '(nothing)' }], negotiated: null };
      }

      const floodNote = {
        limit: `the flooder sent ${mib(flooded)} in ${floodMs} ms and the server read all of it`,
        stuck: `the server stopped reading the flooder after ${mib(flooded)} (for ${STUCK_MS} ms a write was not taken and no other client received anything)`,
        closed: `the server closed the flooder after ${mib(flooded)}`,
        time: `the flooder sent ${mib(flooded)} in the ${FLOOD_BUDGET_MS} ms allowed`,
      }[floodEnd];
      const evidence: Evidence[] = [
        { kind: 'flood', detail: floodNote },
        ...readers.map((r) => ({ kind: 'reader', detail: `${r.name} received ${mib(r.c.countOf(FILL))} of the ${mib(flooded)} flood${flooded - r.c.countOf(FILL) >= 64 * 1024 ? ` (${mib(flooded - r.c.countOf(FILL))} never arrived)` : ''}` })),
        ...got.map((g) => ({ kind: 'delivery', detail: g.ok ? `a line from ${g.from} after the flood reached ${g.to} in ${g.ms} ms` : `a line from ${g.from} after the flood did not reach ${g.to} within ${DELIVERY_MS} ms` })),
        { kind: 'staller', detail: staller.closed ? `the server had cut the stalled client off (${staller.closeReason}; it had received ${mib(staller.received)} when it read again)` : `the server kept the stalled client connected (it had ${mib(staller.received)} waiting when it read again)` },
        { kind: 'server', detail: `${serverDied ? `the server exited (${server.exit!.code ?? server.exit!.signal})` : 'the server is still running'}; it printed: ${saidLines(server.output) || '(nothing)'}` },
      ];
      const data = { floodedBytes: flooded, floodEnd, readers: readers.map((r) => ({ reader: r.name, floodBytes: r.c.countOf(FILL) })), deliveries: got, stallerCutOff: staller.closed, serverExited: serverDied };
      const missed = got.filter((g) => !g.ok);
      if (missed.length || serverDied) {
        return {
          outcome: 'succeeded',
          reason: `one client that stopped reading blocked the server: ${serverDied ? 'the server exited' : `of ${got.length} deliveries after the flood (the flooder's line to the clients that joined before and after the stalled one, a quiet client's line to the other), ${missed.length} did not arrive within ${DELIVERY_MS} ms: ${missed.map((m) => `${m.from} → ${m.to}`).join(', ')}`}; ${floodNote}`,
          summary: `${missed.length} of ${got.length} deliveries starved`,
          impact: ['availability'],
          evidence,
          negotiated: null,
          data,
        };
      }
      return {
        outcome: 'blocked',
        reason: `a client that stopped reading did not hold up the others: all ${got.length} deliveries after the flood arrived (within ${Math.max(...got.map((g) => g.ms))} ms); ${floodNote}; ${staller.closed ? 'the server cut the stalled client off' : 'the stalled client stayed connected'}`,
        summary: 'others served; staller ' + (staller.closed ? 'cut off' : 'kept'),
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
