/**
 * The load generator shared by `secchat bench` and the load tests: opens many connections to a
 * chat server — ours (JSON Lines with login) or the minimal baseline (bench/baseline-server.ts) —
 * and drives broadcast fan-out and direct messages through them, checking every delivery for
 * loss, duplication, misattribution and per-sender order, and timing each one.
 *
 * Load model (closed loop): at most `window` messages are in flight; a message is in flight from
 * the moment its sender writes it until every recipient has read it, and each completion lets
 * the next message go. So the offered load adapts to the server, queues stay bounded, and
 * throughput and latency are measured at the same, stated concurrency for every server.
 *
 * Both kinds of server get byte-identical client frames (`{"type":"msg","text":...}`) and the
 * same client code path (one TLS socket + core/frames.ts decoder per client), so the ratio of
 * their figures measures the servers, not the clients.
 */
import type tls from 'node:tls';
import { encodeFrame, type Frame } from '../core/frames.ts';
import { LoadClient } from './load-client.ts';
import { percentile } from './statistics.ts';

/** Which server protocol a target speaks. */
export type TargetKind = 'secchat' | 'baseline';

/** Where and how to connect. */
export interface LoadTarget {
  kind: TargetKind;
  host: string;
  port: number;
  /** Options for tls.connect (host/port are filled in), or null for plain TCP. */
  tls: tls.ConnectionOptions | null;
}

/** Options of {@link LoadFleet.connect}. */
export interface FleetOptions {
  /** Number of clients (>= 2). */
  clients: number;
  /** Connection attempts in flight during setup. Default 32 (below node's listen backlog of 511). */
  connectConcurrency?: number;
  /** Usernames are `${namePrefix}${index}` (secchat). Default "load". */
  namePrefix?: string;
  /** Password of every account (secchat). Default "load-password-1". */
  password?: string;
  /** Register each account before logging in; an existing account is fine. Default true. */
  register?: boolean;
  /** Whole setup must finish within this, in ms. Default 120,000. */
  setupTimeoutMs?: number;
}

/** Options of {@link LoadFleet.fanout}. */
export interface FanoutOptions {
  /** Messages to send (>= 1). */
  messages: number;
  /** Messages in flight at once (>= 1). Default 8. */
  window?: number;
  /** Characters of each message's text (>= 32). Default 100. */
  textChars?: number;
  /** Senders, chosen round-robin among the first `senders` clients; fewer senders means more of each one's messages in flight, which is what tests per-sender order. Default all clients. */
  senders?: number;
  /** Every `dmEvery`-th message is a direct message to one other client (secchat only). Default 0: none. */
  dmEvery?: number;
  /** Give up after this long, in ms. Default 60,000. */
  timeoutMs?: number;
  /** Give up when no delivery arrived for this long, in ms. Default 10,000. */
  stallMs?: number;
}

/** Percentiles of end-to-end latency, in ms (send → read by the recipient). */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** What one fan-out run measured. Deliveries count (message, recipient) pairs. */
export interface FanoutResult {
  clients: number;
  messages: number;
  window: number;
  broadcasts: number;
  dms: number;
  /** Deliveries owed by the messages sent: those read, plus those still owed to connected clients. */
  expectedDeliveries: number;
  /** Distinct deliveries read. */
  deliveries: number;
  /** expectedDeliveries − deliveries: owed to a connected client and never read. */
  lost: number;
  duplicates: number;
  /** Deliveries read after a later message from the same sender. */
  reordered: number;
  /** Deliveries that reached a client they were not for, or named the wrong sender. */
  misattributed: number;
  /** Clients whose connection closed during the run. */
  disconnected: number;
  /** Error frames the server sent during the run, by code. */
  serverErrors: Record<string, number>;
  /** The run ended on timeoutMs or stallMs rather than completing. */
  incomplete: boolean;
  /** First send to last delivery, ms. */
  durationMs: number;
  deliveriesPerSec: number;
  messagesPerSec: number;
  latencyMs: LatencySummary;
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * A connected, logged-in set of clients.
 */
export class LoadFleet {
  readonly target: LoadTarget;
  readonly clients: LoadClient[];

  private constructor(target: LoadTarget, clients: LoadClient[]) {
    this.target = target;
    this.clients = clients;
  }

  /**
   * Connects `clients` clients (and, for secchat, registers and logs each in).
   * @throws Error naming the first client that failed, after closing every connection opened
   */
  static async connect(target: LoadTarget, opts: FleetOptions): Promise<LoadFleet> {
    if (!Number.isInteger(opts.clients) || opts.clients < 2) throw new RangeError(`LoadFleet: clients must be an integer >= 2 (got ${opts.clients})`);
    const prefix = opts.namePrefix ?? 'load';
    const password = opts.password ?? 'load-password-1';
    const clients = Array.from({ length: opts.clients }, (_, i) => new LoadClient(i, `${prefix}${i}`));
    const fleet = new LoadFleet(target, clients);
    const timeoutMs = opts.setupTimeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    let abandoned = false; // set on failure: workers still running must not open more connections
    const setup = mapLimit(clients, opts.connectConcurrency ?? 32, async (c) => {
      if (abandoned) return;
      await c.open(target);
      if (abandoned) return void c.socket.destroy();
      if (target.kind !== 'secchat') return;
      if (opts.register ?? true) {
        const r = await c.request({ type: 'register', username: c.name, password }, 1);
        if (r.type === 'error' && r.code !== 'username_taken') throw new Error(`client ${c.index}: register refused: ${String(r.code)}: ${String(r.message)}`);
      }
      const l = await c.request({ type: 'login', username: c.name, password }, 2);
      if (l.type !== 'ok') throw new Error(`client ${c.index}: login refused: ${String(l.code)}: ${String(l.message)}`);
    });
    try {
      await Promise.race([
        setup,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`fleet setup of ${opts.clients} clients took over ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      abandoned = true;
      setup.catch(() => {}); // other workers' failures after the first are expected now
      fleet.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return fleet;
  }

  /**
   * Runs one fan-out: `messages` messages through a window of `window`, every one checked.
   * Never throws for server misbehaviour: loss, reordering and errors are in the result.
   * @throws RangeError for bad options (e.g. dms against the baseline)
   */
  fanout(opts: FanoutOptions): Promise<FanoutResult> {
    const n = this.clients.length;
    const total = opts.messages;
    const window = opts.window ?? 8;
    const textChars = opts.textChars ?? 100;
    const senders = Math.min(n, opts.senders ?? n);
    const dmEvery = opts.dmEvery ?? 0;
    if (!Number.isInteger(total) || total < 1) throw new RangeError(`fanout: messages must be an integer >= 1 (got ${total})`);
    if (!Number.isInteger(window) || window < 1) throw new RangeError(`fanout: window must be an integer >= 1 (got ${window})`);
    if (textChars < 32) throw new RangeError(`fanout: textChars must be >= 32 (got ${textChars})`);
    if (dmEvery && this.target.kind !== 'secchat') throw new RangeError('fanout: direct messages need a secchat target (the baseline only broadcasts)');

    // The plan: who sends message m and who must read it (-1 = everyone but the sender).
    const sender = new Int32Array(total);
    const dmTo = new Int32Array(total).fill(-1);
    let dms = 0;
    for (let m = 0; m < total; m++) {
      sender[m] = m % senders;
      if (dmEvery > 0 && m % dmEvery === dmEvery - 1) {
        dmTo[m] = (sender[m]! + 1 + (m % (n - 1))) % n;
        dms++;
      }
    }
    const owed = (m: number) => (dmTo[m]! >= 0 ? 1 : n - 1);
    let maxDeliveries = 0;
    for (let m = 0; m < total; m++) maxDeliveries += owed(m);

    const pad = 'x'.repeat(textChars);
    const remaining = new Int32Array(total);
    const gotBy = new Map<number, Uint8Array>(); // in-flight message → which clients read it
    const sentAt = new Float64Array(total);
    const lastFrom = new Int32Array(n * n).fill(-1); // [receiver * n + sender] → last m read
    const latencies = new Float64Array(maxDeliveries);
    const serverErrors: Record<string, number> = {};
    let deliveries = 0;
    let duplicates = 0;
    let reordered = 0;
    let misattributed = 0;
    let disconnected = 0;
    let nextToSend = 0;
    let inFlight = 0;
    let completed = 0;
    let lastProgress = performance.now();
    let firstSend = 0;
    let lastDelivery = 0;

    return new Promise<FanoutResult>((resolve) => {
      let done = false;
      const finish = (incomplete: boolean) => {
        if (done) return;
        done = true;
        clearInterval(watchdog);
        for (const c of this.clients) c.onFrame = () => {};
        const lat = latencies.subarray(0, deliveries).slice().sort();
        let sum = 0;
        for (const x of lat) sum += x;
        // Loss: a message that never completed, not read by an intended recipient that is still
        // connected. (A completed message was read by every recipient still connected; recipients
        // that dropped out are reported as `disconnected`, not as loss.)
        let lost = 0;
        for (const [m, got] of gotBy) {
          for (let r = 0; r < n; r++) {
            const intended = dmTo[m]! >= 0 ? r === dmTo[m] : r !== sender[m];
            if (intended && !got[r] && !this.clients[r]!.closed) lost++;
          }
        }
        const durationMs = Math.max(1e-3, lastDelivery - firstSend);
        resolve({
          clients: n,
          messages: total,
          window,
          broadcasts: total - dms,
          dms,
          expectedDeliveries: deliveries + lost,
          deliveries,
          lost,
          duplicates,
          reordered,
          misattributed,
          disconnected,
          serverErrors,
          incomplete,
          durationMs: round3(durationMs),
          deliveriesPerSec: Math.round((deliveries / durationMs) * 1000),
          messagesPerSec: Math.round((completed / durationMs) * 1000),
          latencyMs: { p50: round3(percentile(lat, 50)), p90: round3(percentile(lat, 90)), p99: round3(percentile(lat, 99)), max: round3(lat.length ? lat[lat.length - 1]! : 0), mean: round3(lat.length ? sum / lat.length : 0) },
        });
      };

      const complete = (m: number) => {
        gotBy.delete(m);
        inFlight--;
        completed++;
        if (completed === total) finish(false);
        else pump();
      };

      const pump = () => {
        while (inFlight < window && nextToSend < total) {
          const m = nextToSend++;
          const from = this.clients[sender[m]!]!;
          remaining[m] = owed(m);
          // Recipients already gone owe nothing: count them out now so the message can complete.
          const got = new Uint8Array(n);
          gotBy.set(m, got);
          inFlight++;
          if (dmTo[m]! >= 0) {
            if (this.clients[dmTo[m]!]!.closed) remaining[m] = 0;
          } else {
            for (let r = 0; r < n; r++) if (r !== sender[m] && this.clients[r]!.closed) remaining[m]--;
          }
          if (from.closed || remaining[m] === 0) {
            complete(m);
            continue;
          }
          const t = performance.now();
          if (!firstSend) firstSend = t;
          sentAt[m] = t;
          const text = `${m}|${pad}`;
          from.socket.write(encodeFrame(dmTo[m]! >= 0 ? { type: 'dm', to: this.clients[dmTo[m]!]!.name, text } : { type: 'msg', text }));
        }
      };

      const onDelivery = (receiver: number, f: Frame) => {
        const now = performance.now();
        const text = typeof f.text === 'string' ? f.text : '';
        const m = Number.parseInt(text, 10);
        if (!(m >= 0 && m < nextToSend) || text.length !== textChars + String(m).length + 1) {
          misattributed++;
          return;
        }
        const s = sender[m]!;
        const forMe = dmTo[m]! >= 0 ? dmTo[m] === receiver : s !== receiver;
        const fromOk = this.target.kind !== 'secchat' || f.from === this.clients[s]!.name;
        if (!forMe || !fromOk || (f.type === 'dm') !== dmTo[m]! >= 0) {
          misattributed++;
          return;
        }
        const got = gotBy.get(m);
        if (!got || got[receiver]) {
          duplicates++;
          return;
        }
        got[receiver] = 1;
        const k = receiver * n + s;
        if (lastFrom[k]! > m) reordered++;
        else lastFrom[k] = m;
        latencies[deliveries++] = now - sentAt[m]!;
        lastDelivery = now;
        lastProgress = now;
        if (--remaining[m]! === 0) complete(m);
      };

      const onDrop = (who: number) => {
        disconnected++;
        if (done) return;
        // Messages in flight that still waited for this client will never get it.
        for (const [m, got] of [...gotBy]) {
          const waitsForIt = !got[who] && (dmTo[m]! >= 0 ? dmTo[m] === who : sender[m] !== who);
          if (waitsForIt && --remaining[m]! === 0) complete(m);
        }
      };

      for (const c of this.clients) {
        c.onFrame = (f) => {
          if (f.type === 'msg' || f.type === 'dm') onDelivery(c.index, f);
          else if (f.type === 'error') {
            const code = String(f.code);
            serverErrors[code] = (serverErrors[code] ?? 0) + 1;
          }
        };
        c.ready(() => onDrop(c.index));
      }
      const timeoutMs = opts.timeoutMs ?? 60_000;
      const stallMs = opts.stallMs ?? 10_000;
      const started = performance.now();
      const watchdog = setInterval(() => {
        const now = performance.now();
        if (now - started > timeoutMs || now - lastProgress > stallMs) finish(true);
      }, 100);
      pump();
    });
  }

  /** Clients whose connection has closed. */
  closedCount(): number {
    return this.clients.filter((c) => c.closed).length;
  }

  /** Closes every connection at once. */
  close(): void {
    for (const c of this.clients) c.socket?.destroy();
  }
}
