/**
 * In-memory "network" for the channel state machines: frames go through JSON serialization (as on
 * the JSON Lines wire) and an optional tamper hook standing for a man in the middle.
 */
import { createHash } from 'node:crypto';
import type { ChannelClient, ChannelServer } from '../../core/channel/handshake.ts';
import type { AppFrame } from '../../core/channel/handshake-messages.ts';
import type { SecchatError } from '../../core/errors.ts';

export type Side = 'client' | 'server';
export interface WireEntry {
  from: Side;
  frame: any;
}

/** What the man in the middle does with one frame: return it (changed or not), or null to drop it. */
export type Tamper = (entry: WireEntry) => any | null;

export interface PumpResult {
  /** every frame as the receiver got it, in delivery order */
  wire: WireEntry[];
  errors: Partial<Record<Side, SecchatError>>;
  delivered: Record<Side, AppFrame[]>;
}

const viaJsonLine = (f: unknown) => JSON.parse(JSON.stringify(f));

/** Runs the exchange until no frame is in flight. `initial` are extra frames sent first (e.g. sealed). */
export function pump(client: ChannelClient, server: ChannelServer, opts: { tamper?: Tamper; initial?: WireEntry[]; start?: boolean } = {}): PumpResult {
  const result: PumpResult = { wire: [], errors: {}, delivered: { client: [], server: [] } };
  const queue: WireEntry[] = [...(opts.start === false ? [] : client.start().map((frame) => ({ from: 'client' as Side, frame }))), ...(opts.initial ?? [])];
  for (let steps = 0; queue.length; steps++) {
    if (steps > 1000) throw new Error('pump: runaway exchange');
    const sent = queue.shift()!;
    const frame = opts.tamper ? opts.tamper({ from: sent.from, frame: viaJsonLine(sent.frame) }) : viaJsonLine(sent.frame);
    if (frame === null || frame === undefined) continue;
    result.wire.push({ from: sent.from, frame });
    const to: Side = sent.from === 'client' ? 'server' : 'client';
    const machine = to === 'server' ? server : client;
    const actions = machine.handle(frame);
    if (actions.error) result.errors[to] ??= actions.error;
    result.delivered[to].push(...actions.deliver);
    for (const f of actions.send) queue.push({ from: to, frame: f });
  }
  return result;
}

/** A deterministic random source (SHA-256 in counter mode) for reproducible tests. */
export function seededRandom(seed: string): (n: number) => Buffer {
  let counter = 0;
  return (n: number) => {
    const out: Buffer[] = [];
    let have = 0;
    while (have < n) {
      const block = createHash('sha256').update(`${seed}/${counter++}`).digest();
      out.push(block);
      have += block.length;
    }
    return Buffer.concat(out).subarray(0, n);
  };
}

/** A settable clock. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void; set: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms), set: (ms) => void (t = ms) };
}
