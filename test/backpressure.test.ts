/**
 * server/backpressure.ts without sockets: a fake stream whose queue length the test sets, fake
 * timers and an injected clock. A recipient is cut only when it is behind AND takes no byte for
 * slowConsumerStallMs; held senders resume once every recipient caught up.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { HARD_QUEUE_FACTOR, OutputWatch, RoomBackpressure } from '../server/backpressure.ts';

class FakeStream extends EventEmitter {
  writableLength = 0;
}

const limits = { maxQueueBytes: 1000, slowConsumerStallMs: 400 };

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function watch(): { s: FakeStream; w: OutputWatch; events: string[] } {
  const s = new FakeStream();
  const w = new OutputWatch(limits, () => s as unknown as net.Socket, () => Date.now());
  const events: string[] = [];
  w.onBehind = (b) => events.push(b ? 'behind' : 'caught up');
  w.onStalled = (q) => events.push(`stalled ${q}`);
  return { s, w, events };
}

describe('OutputWatch', () => {
  it('is behind past half of maxQueueBytes and caught up on drain; a reader that drains is never stalled', () => {
    const { s, w, events } = watch();
    s.writableLength = 500;
    w.wrote(500);
    expect(events).toEqual([]); // at the mark, not past it
    s.writableLength = 900;
    w.wrote(400);
    expect(events).toEqual(['behind']);
    // Slow but steady, still over the mark: a few bytes taken every tick, for 10 × the stall time.
    for (let i = 0; i < 40; i++) {
      s.writableLength -= 5;
      vi.advanceTimersByTime(100);
    }
    expect(events).toEqual(['behind']);
    s.writableLength = 0;
    s.emit('drain');
    expect(events).toEqual(['behind', 'caught up']);
  });

  it('a slow, steady reader behind for 10 × the stall time waits with at most one drain listener (each tick used to add one: MaxListenersExceededWarning)', () => {
    const { s, w, events } = watch();
    s.setMaxListeners(1000); // count them, rather than let node warn at 11
    s.writableLength = 900;
    w.wrote(900);
    let most = 0;
    for (let i = 0; i < 40; i++) {
      s.writableLength -= 5;
      vi.advanceTimersByTime(100);
      most = Math.max(most, s.listenerCount('drain'));
    }
    expect(events).toEqual(['behind']);
    expect(most).toBe(1);
    // The one listener still ends the wait when the stream drains.
    s.writableLength = 0;
    s.emit('drain');
    expect(events).toEqual(['behind', 'caught up']);
    expect(s.listenerCount('drain')).toBe(0);
  });

  it('a recipient behind that takes no byte for slowConsumerStallMs is stalled, once', () => {
    const { s, w, events } = watch();
    s.writableLength = 800;
    w.wrote(800);
    vi.advanceTimersByTime(399);
    expect(events).toEqual(['behind']);
    vi.advanceTimersByTime(200);
    expect(events).toEqual(['behind', 'stalled 800']);
    vi.advanceTimersByTime(2000);
    w.wrote(10);
    expect(events).toEqual(['behind', 'stalled 800']);
  });

  it(`past ${HARD_QUEUE_FACTOR} × maxQueueBytes it is stalled at once`, () => {
    const { s, w, events } = watch();
    s.writableLength = HARD_QUEUE_FACTOR * 1000 + 1;
    w.wrote(s.writableLength);
    expect(events).toEqual([`stalled ${HARD_QUEUE_FACTOR * 1000 + 1}`]);
  });
});

describe('RoomBackpressure', () => {
  it('holds senders while any recipient is behind and releases them all when the last catches up or leaves', () => {
    const room = new RoomBackpressure();
    const [a, b, sender1, sender2] = [{}, {}, {}, {}];
    const resumed: string[] = [];
    room.behind(a);
    room.behind(b);
    expect(room.congested).toBe(true);
    room.hold(sender1, () => resumed.push('1'));
    room.hold(sender2, () => resumed.push('2'));
    room.caughtUp(a);
    expect(resumed).toEqual([]);
    room.forget(b); // cut or gone
    expect(resumed).toEqual(['1', '2']);
    expect(room.congested).toBe(false);
  });
});
