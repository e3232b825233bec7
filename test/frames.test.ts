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
});
