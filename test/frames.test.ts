import { describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame, type Frame } from '../core/frames.ts';
import { ProtocolError } from '../core/errors.ts';

/** Feeds `chunks` to a fresh decoder and returns every frame or error code in order. */
function decodeAll(chunks: Buffer[], maxFrameBytes?: number): Array<Frame | string> {
  const d = new FrameDecoder({ maxFrameBytes });
  const out: Array<Frame | string> = [];
  for (const c of chunks) {
    d.push(c);
    for (;;) {
      try {
        const f = d.next();
        if (!f) break;
        out.push(f);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
        out.push(String((err as ProtocolError).details.protocolCode));
        if ((err as ProtocolError).details.fatal) return out;
      }
    }
  }
  return out;
}

const frames: Frame[] = [
  { type: 'login', username: 'alice', password: 'pässwörd ✓' },
  { type: 'msg', text: 'hello\nworld with an escaped newline and emoji 🎉' },
  { type: 'dm', to: 'bob', text: '' },
];
const stream = Buffer.concat(frames.map(encodeFrame));

describe('FrameDecoder', () => {
  it('decodes a stream fed whole', () => {
    expect(decodeAll([stream])).toEqual(frames);
  });

  it('decodes the same frames when the stream is split at every offset', () => {
    for (let i = 0; i <= stream.length; i++) {
      expect(decodeAll([stream.subarray(0, i), stream.subarray(i)]), `split at ${i}`).toEqual(frames);
    }
  });

  it('decodes the same frames fed byte by byte (multi-byte UTF-8 split too)', () => {
    expect(decodeAll([...stream].map((b) => Buffer.from([b])))).toEqual(frames);
  });

  it('returns null (need more bytes) until the newline arrives', () => {
    const d = new FrameDecoder();
    d.push(Buffer.from('{"type":"users"'));
    expect(d.next()).toBeNull();
    d.push(Buffer.from('}\n'));
    expect(d.next()).toEqual({ type: 'users' });
    expect(d.next()).toBeNull();
  });

  it('rejects invalid JSON and non-frames but keeps reading the next line', () => {
    const input = Buffer.from('not json\n[1,2]\n{"type":5}\n{"no":"type"}\n\xff\n{"type":"users"}\n', 'latin1');
    expect(decodeAll([input])).toEqual(['bad_json', 'bad_frame', 'bad_frame', 'bad_frame', 'bad_json', { type: 'users' }]);
  });

  it('accepts a frame of exactly the limit and refuses one byte more, fatally', () => {
    const make = (size: number) => Buffer.from(`{"type":"msg","text":"${'x'.repeat(size - 25)}"}\n`);
    expect(make(100).length).toBe(100);
    expect(decodeAll([make(100)], 100)).toEqual([{ type: 'msg', text: 'x'.repeat(75) }]);
    expect(decodeAll([make(101), encodeFrame({ type: 'users' })], 100)).toEqual(['frame_too_large']);
  });

  it('refuses an oversized frame before its newline arrives, without buffering it all', () => {
    const d = new FrameDecoder({ maxFrameBytes: 1024 });
    d.push(Buffer.alloc(1023, 0x61));
    expect(d.next()).toBeNull();
    d.push(Buffer.alloc(10, 0x61));
    expect(() => d.next()).toThrow(/frame too large: 1033 bytes so far without a newline, over the limit of 1024 bytes per frame/);
    expect(d.pendingBytes).toBe(0);
    d.push(encodeFrame({ type: 'users' }));
    expect(() => d.next()).toThrow(ProtocolError);
  });

  it('tolerates CRLF line endings', () => {
    expect(decodeAll([Buffer.from('{"type":"users"}\r\n')])).toEqual([{ type: 'users' }]);
  });

  it('buffers linearly: a 64 KiB line dripped one byte per read is copied once, not 2 GiB', () => {
    const line = encodeFrame({ type: 'msg', text: 'y'.repeat(64 * 1024 - 25) });
    const d = new FrameDecoder({ maxFrameBytes: 128 * 1024 });
    for (let i = 0; i < line.length - 1; i++) {
      d.push(line.subarray(i, i + 1));
      expect(d.next()).toBeNull();
    }
    d.push(line.subarray(line.length - 1));
    expect(d.next()).toEqual({ type: 'msg', text: 'y'.repeat(64 * 1024 - 25) });
    // One copy of the line (without its newline); the quadratic join cost about line² / 2 bytes.
    expect(d.bytesCopied).toBe(line.length - 1);
    expect(d.pendingBytes).toBe(0);
  });

  it('copies nothing for frames that lie in one chunk, and at most each byte once across many frames and splits', () => {
    const d = new FrameDecoder();
    d.push(stream);
    while (d.next());
    expect(d.bytesCopied).toBe(0);
    const many = Buffer.concat(Array.from({ length: 200 }, (_, i) => encodeFrame({ type: 'msg', text: `m${i}` })));
    const e = new FrameDecoder();
    const got: Frame[] = [];
    for (let i = 0; i < many.length; i += 7) {
      e.push(many.subarray(i, i + 7));
      for (let f = e.next(); f; f = e.next()) got.push(f);
    }
    expect(got.map((f) => f.text)).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
    expect(e.bytesCopied).toBeLessThanOrEqual(many.length);
  });

  it('exactly maxFrameBytes without a newline is fatal; a poisoned decoder keeps nothing it is given', () => {
    const d = new FrameDecoder({ maxFrameBytes: 100 });
    d.push(Buffer.alloc(99, 0x61));
    expect(d.next()).toBeNull();
    d.push(Buffer.from('a'));
    expect(() => d.next()).toThrow(/frame too large: 100 bytes/);
    expect(d.isPoisoned).toBe(true);
    for (let i = 0; i < 10; i++) d.push(Buffer.alloc(1000, 0x0a));
    expect(d.pendingBytes).toBe(0);
    expect(() => d.next()).toThrow(ProtocolError);
  });
});
