/**
 * The proxy engine's frame layer: one decoder per connection and direction, addons see whole
 * frames (however the bytes were split), and one error policy — a poisoned stream (a line over the
 * limit without a newline) is reported once and the connection killed, never a spinning loop.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PROXY_MAX_FRAME_BYTES, ProxyEngine } from '../attacks/proxy.ts';
import { framesIn, readableErrors } from '../attacks/kit/evidence.ts';
import type { Frame } from '../core/frames.ts';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** A server that records every byte it receives. */
async function sink(): Promise<{ port: number; received: () => Buffer }> {
  const got: Buffer[] = [];
  const socks = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    socks.add(s);
    s.on('data', (d) => got.push(d));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  closers.push(() => {
    for (const s of socks) s.destroy();
    return new Promise<void>((r) => srv.close(() => r()));
  });
  return { port: (srv.address() as net.AddressInfo).port, received: () => Buffer.concat(got) };
}

async function connect(port: number): Promise<net.Socket> {
  const c = net.connect({ host: '127.0.0.1', port });
  c.on('error', () => {});
  await new Promise<void>((r) => c.once('connect', () => r()));
  closers.push(() => void c.destroy());
  return c;
}

const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return cond();
};

describe('framesIn (the readers of attack answers)', () => {
  it('ends on a poisoned decoder instead of spinning (≥ 64 KiB without a newline)', () => {
    expect(framesIn(Buffer.concat([Buffer.from('{"type":"a"}\n'), Buffer.alloc(70 * 1024, 0x41)]), 64 * 1024)).toEqual([{ type: 'a' }]);
    expect(readableErrors(Buffer.alloc(2 * 1024 * 1024, 0x41))).toEqual([]);
  });
  it('skips lines that are not frames and keeps reading', () => {
    expect(framesIn(Buffer.from('not json\n{"type":"error","code":"x","message":"y"}\n[1]\n{"type":"b"}\n'))).toEqual([{ type: 'error', code: 'x', message: 'y' }, { type: 'b' }]);
    expect(readableErrors(Buffer.from('{"type":"error","code":"bad_sequence","message":"m"}\n'))).toEqual(['bad_sequence: m']);
  });
});

describe('ProxyEngine frame layer', () => {
  it('hands whole frames to onFrame however the bytes are split, and forwards what it returns', async () => {
    const up = await sink();
    const seen: Frame[] = [];
    const proxy = await ProxyEngine.start({
      upstream: { host: '127.0.0.1', port: up.port },
      addon: {
        name: 'rewrite',
        onFrame(_c, f, dir) {
          seen.push(f);
          if (dir === 'c2s' && f.type === 'dm') return [{ ...f, text: 'changed' }, { type: 'extra' }];
          if (f.type === 'drop') return null;
          return undefined;
        },
      },
    });
    closers.push(() => proxy.close());
    const c = await connect(proxy.port);
    const bytes = Buffer.from('{"type":"hello"}\n{"type":"drop"}\n{"type":"dm","text":"original"}\n');
    c.setNoDelay(true);
    for (const b of bytes) {
      c.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    expect(await until(() => up.received().toString().includes('extra'))).toBe(true);
    expect(seen.map((f) => f.type)).toEqual(['hello', 'drop', 'dm']);
    expect(up.received().toString()).toBe('{"type":"hello"}\n{"type":"dm","text":"changed"}\n{"type":"extra"}\n');
  });

  it('kills a connection whose stream is poisoned, notes it once, and keeps serving others', async () => {
    const up = await sink();
    let frames = 0;
    const proxy = await ProxyEngine.start({ upstream: { host: '127.0.0.1', port: up.port }, addon: { name: 'count', onFrame: () => void frames++ } });
    closers.push(() => proxy.close());
    const c = await connect(proxy.port);
    let closed = false;
    c.on('close', () => (closed = true));
    c.write('{"type":"a"}\n');
    c.write(Buffer.alloc(PROXY_MAX_FRAME_BYTES + 1024, 0x41));
    expect(await until(() => closed)).toBe(true);
    const notes = proxy.connections[0].notes.filter((n) => n.startsWith('frame layer (c2s)'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/frame too large.*killed/);
    expect(proxy.connections[0].notes).toContain('killed: fatal frame error (c2s)');
    expect(frames).toBe(1);
    // The engine is still well: a second connection relays frames.
    const d = await connect(proxy.port);
    d.write('{"type":"b"}\n');
    expect(await until(() => up.received().toString().includes('{"type":"b"}'))).toBe(true);
  });

  it('replays recorded bytes on a connection of its own and reports what the server answered', async () => {
    const srv = net.createServer((s) => s.on('data', () => s.write('{"type":"error","code":"nope","message":"refused"}\n')));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => srv.close(() => r())));
    const proxy = await ProxyEngine.start({ upstream: { host: '127.0.0.1', port: (srv.address() as net.AddressInfo).port } });
    closers.push(() => proxy.close());
    const r = await proxy.replayOnNewConnection([Buffer.from('{"type":"x"}\n')], { timeoutMs: 2000, settled: (_p, answer) => readableErrors(answer).length > 0 });
    expect(r.settled).toBe(true);
    expect(r.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(readableErrors(r.response)).toEqual(['nope: refused']);
  });

  it('replays a chunk marked awaitAnswer only after the server answered, as the victim did', async () => {
    // A server that answers its first line after 150 ms and notes whether the second line came
    // before that answer (as a STARTTLS server refuses bytes pipelined behind `starttls`).
    const order: string[] = [];
    const srv = net.createServer((s) => {
      let answered = false;
      s.on('data', (d) => {
        for (const line of d.toString().split('\n').filter(Boolean)) {
          order.push(`${line}${answered ? '' : ' (before the answer)'}`);
          if (line === 'first') setTimeout(() => ((answered = true), s.write('ok\n')), 150);
        }
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => srv.close(() => r())));
    const proxy = await ProxyEngine.start({ upstream: { host: '127.0.0.1', port: (srv.address() as net.AddressInfo).port } });
    closers.push(() => proxy.close());
    const chunks = [
      { data: Buffer.from('first\n'), awaitAnswer: false },
      { data: Buffer.from('second\n'), awaitAnswer: true },
    ];
    const r = await proxy.replayOnNewConnection(chunks, { paceMs: 1, timeoutMs: 2000, settled: () => order.length === 2 });
    expect(r.settled).toBe(true);
    expect(order).toEqual(['first (before the answer)', 'second']);
    // Unmarked, the same chunks arrive before the answer: the wait is what the mark buys.
    order.length = 0;
    await proxy.replayOnNewConnection(chunks.map((c) => c.data), { paceMs: 1, timeoutMs: 2000, settled: () => order.length === 2 });
    expect(order).toEqual(['first (before the answer)', 'second (before the answer)']);
  });
});
