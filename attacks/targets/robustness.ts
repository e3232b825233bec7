/**
 * `robustness` against a target: does the server frame the byte stream into messages, or does it
 * treat whatever one `recv()` returned as one message? TCP (and TLS over it) delivers a stream,
 * not messages (RFC 9293 §3.8.3 segmentation; TLS may also split or join application writes), so a
 * server that broadcasts each `recv(4096)` as one message glues lines together and cuts lines in
 * half. The probes, each measured at the target's observer client:
 *  - glued: three lines in one write (one TLS record, one segment);
 *  - split: one line written in two parts, 150 ms apart;
 *  - burst: ten clients at once, each sending three lines back to back.
 * A probe client first sends the text of client.send before {canary} (the username), then one
 * reference line whose delivery shows how the app decorates a message (e.g. "alice: <text>"); a
 * canary counts as delivered as its own message only on a line decorated the same way.
 * Succeeded (the attacker — or any busy network — breaks the chat) when a canary is lost, glued
 * into another message or cut; the verdict gives the counts.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { fillCommand } from '../../core/target.ts';
import { startTargetServer, TARGET_HOST } from './scenario.ts';
import { TargetProcess } from './processes.ts';
import type { TargetAttack } from './types.ts';

/** Pause after the username line, ms: lets a server that reads it with one recv() take it alone. */
const AFTER_NAME_MS = 300;
/** Longest wait for the observer client to start, ms. */
const OBSERVER_READY_MS = 5000;
/** Longest wait for a line to reach the observer, ms. */
const DELIVERY_MS = 2500;
/** Reference lines sent at most before the probe gives up with no verdict (each waits DELIVERY_MS). */
const REFERENCE_TRIES = 4;
/** Clients and lines per client of the burst probe. */
export const BURST = { clients: 10, linesPerClient: 3 } as const;

type Conn = { write(s: string): void; end(): void };

function connect(port: number, transport: string, servername: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const s =
      transport === 'tls'
        ? tls.connect({ host: TARGET_HOST, port, servername, rejectUnauthorized: false, minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0' }, () => resolve(s))
        : net.connect({ host: TARGET_HOST, port }, () => resolve(s));
    s.setNoDelay?.(true);
    s.on('error', reject);
    s.on('data', () => {});
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tag = () => 'rb-' + randomBytes(6).toString('hex');

/** How a canary arrived at the observer: as its own decorated line, inside another line, or not at all. */
function judgeLine(output: string, canary: string, decorate: (c: string) => string): 'own' | 'glued' | 'missing' {
  const lines = output.split(/\r?\n/);
  if (lines.some((l) => l.trimEnd() === decorate(canary))) return 'own';
  return output.includes(canary) ? 'glued' : 'missing';
}

export const targetRobustness: TargetAttack = {
  id: 'robustness',
  title: 'Stream framing under load',
  description:
    'Sends lines the way a real network may deliver them — three in one segment, one cut in two, ten clients at once — and counts, at the observer client, which arrived as their own message, glued into another, cut, or lost. Succeeds when any did not arrive as its own message.',
  applicability: (t) =>
    !t.observer ? 'needs an observer client (observer: in the target) to count what the server delivered' : t.server.transport === 'starttls' ? 'the probe speaks TLS or plaintext from the first byte, not STARTTLS' : null,
  async run(ctx) {
    const t = ctx.target;
    const prefix = t.client.send.slice(0, t.client.send.indexOf('{canary}'));
    const { proc: server, port } = await startTargetServer(t);
    const observer = TargetProcess.start('observer', fillCommand(t.observer!.command, { port, host: TARGET_HOST, ca: t.client.ca, name: t.client.expectServerName }), t.dir);
    const conns: Conn[] = [];
    try {
      // An interpreter's start and handshake are not ours to time (seconds on a loaded machine):
      // wait for the observer's first output, then for the server to show it took the name.
      await observer.waitFor((o) => o.length > 0, OBSERVER_READY_MS);
      const serverSeen = server.output.length;
      observer.write(t.observer!.send);
      if (!(await server.waitFor((o) => o.length > serverSeen, OBSERVER_READY_MS / 2))) await sleep(AFTER_NAME_MS);
      const open = async () => {
        const c = await connect(port, t.server.transport, t.client.expectServerName);
        conns.push(c);
        c.write(prefix);
        await sleep(AFTER_NAME_MS);
        return c;
      };
      // References: lines alone, to learn the decoration. The second one is used: the first may
      // share its line with a prompt the observer printed without a newline ("Username: ").
      // A slow machine may not have let the observer join yet when the first line goes out (its
      // interpreter start and handshake are not ours to time), so keep sending references, up to
      // REFERENCE_TRIES, until a second one or a later one is delivered.
      const first = await open();
      let ref: string | null = null;
      for (let sent = 0; sent < REFERENCE_TRIES && !(ref !== null && sent >= 2); sent++) {
        const r = tag();
        first.write(`${r}\n`);
        if (await observer.waitFor((o) => o.includes(r), DELIVERY_MS)) ref = r;
      }
      if (ref === null) {
        return { outcome: 'error', reason: 'no verdict: a single line from the probe client never reached the observer, so nothing can be counted', summary: 'reference not delivered', impact: [], evidence: [{ kind: 'observer', detail: observer.tail() }], negotiated: null };
      }
      const refLine = observer.output.split(/\r?\n/).find((l) => l.includes(ref))!.trimEnd();
      const decorate = (c: string) => refLine.replace(ref, c);

      const results: Array<{ probe: string; sent: number; own: number; glued: number; missing: number }> = [];
      const count = (probe: string, canaries: string[]) => {
        const j = canaries.map((c) => judgeLine(observer.output, c, decorate));
        results.push({ probe, sent: canaries.length, own: j.filter((x) => x === 'own').length, glued: j.filter((x) => x === 'glued').length, missing: j.filter((x) => x === 'missing').length });
      };
      const settle = (canaries: string[]) => observer.waitFor((o) => canaries.every((c) => o.includes(c)), DELIVERY_MS);

      const glued = [tag(), tag(), tag()];
      first.write(glued.map((c) => `${c}\n`).join(''));
      await settle(glued);
      count('three lines in one segment', glued);

      const split = tag();
      const cut = Math.floor(split.length / 2);
      first.write(split.slice(0, cut));
      await sleep(150);
      first.write(`${split.slice(cut)}\n`);
      await settle([split]);
      count('one line cut in two writes 150 ms apart', [split]);

      const burstClients = await Promise.all(Array.from({ length: BURST.clients }, open));
      const burst = burstClients.map(() => Array.from({ length: BURST.linesPerClient }, tag));
      burstClients.forEach((c, i) => burst[i]!.forEach((line) => c.write(`${line}\n`)));
      await settle(burst.flat());
      count(`${BURST.clients} clients × ${BURST.linesPerClient} lines at once`, burst.flat());

      const evidence = [
        { kind: 'decoration', detail: `a single line arrives at the observer as ${JSON.stringify(decorate('<line>'))}` },
        ...results.map((r) => ({ kind: 'probe', detail: `${r.probe}: ${r.own} of ${r.sent} arrived as their own message, ${r.glued} glued into another message, ${r.missing} never arrived whole (cut or lost)` })),
        { kind: 'server', detail: `the server printed: ${server.tail(3) || '(nothing)'}` },
      ];
      const broken = results.filter((r) => r.own < r.sent);
      if (broken.length) {
        return {
          outcome: 'succeeded',
          reason: `the server does not frame the stream into lines: ${broken.map((r) => `${r.probe} → ${r.own}/${r.sent} delivered as sent (${r.glued} glued into another message, ${r.missing} cut or lost)`).join('; ')}`,
          summary: `${broken.reduce((n, r) => n + r.sent - r.own, 0)} lines glued, cut or lost`,
          impact: ['integrity', 'availability'],
          evidence,
          negotiated: null,
          data: { probes: results },
        };
      }
      return { outcome: 'blocked', reason: `the server frames the stream: every line arrived as its own message (${results.map((r) => `${r.probe}: ${r.own}/${r.sent}`).join('; ')})`, summary: 'every line delivered as sent', impact: [], evidence, negotiated: null, data: { probes: results } };
    } finally {
      for (const c of conns) c.end();
      await Promise.all([observer.stop(), server.stop()]);
    }
  },
};
