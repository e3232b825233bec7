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
/** The frames above as one stream (made in each test: a broken encoder then fails the test, not the file). */
const streamOf = (): Buffer => Buffer.concat(frames.map(encodeFrame));

describe('FrameDecoder', () => {
  it('decodes a stream fed whole', () => {
    expect(decodeAll([streamOf()])).toEqual(frames);
  });

  it('decodes the same frames when the stream is split at every offset', () => {
    const stream = streamOf();
    for (let i = 0; i <= stream.length; i++) {
      expect(decodeAll([stream.subarray(0, i), stream.subarray(i)]), `split at ${i}`).toEqual(frames);
    }
  });

  it('decodes the same frames fed byte by byte (multi-byte UTF-8 split too)', () => {
    expect(decodeAll([...streamOf()].map((b) => Buffer.from([b])))).toEqual(frames);
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
    d.push(streamOf());
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

/** The error `next()` throws, for asserting its details. */
function errorOf(d: FrameDecoder): ProtocolError {
  try {
    d.next();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('next() did not throw');
}

describe('FrameDecoder: refusals, byte by byte (mutation testing, docs/testing.md)', () => {
  it('invalid UTF-8 inside a JSON string is bad_json (a lenient decoder would turn it into U+FFFD and accept the frame)', () => {
    const lines = [
      Buffer.from('{"type":"msg","text":"\xff"}\n', 'latin1'),
      Buffer.from([...Buffer.from('{"type":"msg","text":"'), 0xc0, 0xaf, ...Buffer.from('"}\n')]), // overlong "/"
      Buffer.from([...Buffer.from('{"type":"msg","text":"'), 0xed, 0xa0, 0x80, ...Buffer.from('"}\n')]), // lone surrogate
      Buffer.from([...Buffer.from('{"type":"msg","text":"'), 0xe2, 0x82, ...Buffer.from('"}\n')]), // truncated sequence
    ];
    for (const line of lines) {
      const d = new FrameDecoder();
      d.push(line);
      d.push(encodeFrame({ type: 'users' }));
      const e = errorOf(d);
      expect(e.message).toBe('frame is not valid UTF-8');
      expect(e.details).toEqual({ protocolCode: 'bad_json', fatal: false });
      expect(d.next()).toEqual({ type: 'users' });
    }
  });

  it('names what is wrong with each non-frame line, never fatally', () => {
    const d = new FrameDecoder();
    d.push(Buffer.from('{"type":\n'));
    const bad = errorOf(d);
    expect(bad.message).toMatch(/^frame is not valid JSON: \S/);
    expect(bad.details).toEqual({ protocolCode: 'bad_json', fatal: false });
    for (const line of ['null', '"msg"', '5', 'true', '[{"type":"msg"}]', '{"type":null}', '{}']) {
      d.push(Buffer.from(line + '\n'));
      const e = errorOf(d);
      expect(e.message, line).toBe('frame must be a JSON object with a string "type"');
      expect(e.details, line).toEqual({ protocolCode: 'bad_frame', fatal: false });
    }
    expect(d.isPoisoned).toBe(false);
    d.push(Buffer.from('{"type":""}\n'));
    expect(d.next()).toEqual({ type: '' });
  });

  it('an oversized frame names its size and the limit, and every later next() says the stream is closed', () => {
    const d = new FrameDecoder({ maxFrameBytes: 10 });
    expect(d.isPoisoned).toBe(false);
    d.push(Buffer.from('{"type":"msg"}\n'));
    const e = errorOf(d);
    expect(e.message).toBe('frame too large: 15 bytes so far without a newline, over the limit of 10 bytes per frame');
    expect(e.details).toEqual({ protocolCode: 'frame_too_large', fatal: true, limitBytes: 10 });
    expect(d.isPoisoned).toBe(true);
    expect(d.pendingBytes).toBe(0);
    for (let i = 0; i < 3; i++) {
      d.push(encodeFrame({ type: 'users' }));
      const again = errorOf(d);
      expect(again.message).toBe('stream closed after an oversized frame');
      expect(again.details).toEqual({ protocolCode: 'frame_too_large', fatal: true });
      expect(d.pendingBytes).toBe(0);
    }
  });

  it('the limit counts bytes across chunks: exactly the limit split in two is accepted, one more refused', () => {
    const make = (size: number) => Buffer.from(`{"type":"msg","text":"${'x'.repeat(size - 25)}"}\n`);
    for (let cut = 1; cut < 100; cut += 13) {
      expect(decodeAll([make(100).subarray(0, cut), make(100).subarray(cut)], 100), `cut ${cut}`).toEqual([{ type: 'msg', text: 'x'.repeat(75) }]);
      expect(decodeAll([make(101).subarray(0, cut), make(101).subarray(cut)], 100), `cut ${cut}`).toEqual(['frame_too_large']);
    }
    // The newline is the limit's last byte: max-1 bytes pending, then "\n" alone is a frame of exactly max.
    const d = new FrameDecoder({ maxFrameBytes: 100 });
    d.push(make(100).subarray(0, 99));
    expect(d.next()).toBeNull();
    d.push(Buffer.from('\n'));
    expect(d.next()).toEqual({ type: 'msg', text: 'x'.repeat(75) });
  });

  it('counts pending bytes frame by frame', () => {
    const a = encodeFrame({ type: 'a' });
    const b = encodeFrame({ type: 'b' });
    const d = new FrameDecoder();
    expect(d.pendingBytes).toBe(0);
    d.push(Buffer.concat([a, b, Buffer.from('{"ty')]));
    expect(d.pendingBytes).toBe(a.length + b.length + 4);
    expect(d.next()).toEqual({ type: 'a' });
    expect(d.pendingBytes).toBe(b.length + 4);
    expect(d.next()).toEqual({ type: 'b' });
    expect(d.pendingBytes).toBe(4);
    expect(d.next()).toBeNull();
    d.push(Buffer.from('pe":"c"}\n'));
    expect(d.pendingBytes).toBe(13);
    expect(d.next()).toEqual({ type: 'c' });
    expect(d.pendingBytes).toBe(0);
  });

  it('hundreds of frames pushed as separate chunks before one is read, with a partial frame behind them', () => {
    const d = new FrameDecoder({ maxFrameBytes: 64 });
    const n = 300;
    for (let i = 0; i < n; i++) d.push(encodeFrame({ type: 'msg', text: `m${i}` }));
    const tail = encodeFrame({ type: 'msg', text: 'last' });
    d.push(tail.subarray(0, 5));
    d.push(tail.subarray(5, 9));
    const got: unknown[] = [];
    for (let f = d.next(); f; f = d.next()) got.push(f.text);
    expect(got).toEqual(Array.from({ length: n }, (_, i) => `m${i}`));
    d.push(tail.subarray(9));
    expect(d.next()).toEqual({ type: 'msg', text: 'last' });
    expect(d.next()).toBeNull();
    expect(d.pendingBytes).toBe(0);
  });

  it('a chunk holding several frames and a partial one, pushed again and again, over the compaction threshold', () => {
    const d = new FrameDecoder({ maxFrameBytes: 40 });
    const unit = encodeFrame({ type: 'x', n: 1 });
    const got: unknown[] = [];
    // Every chunk ends mid-frame, so the live chunks pile up behind consumed ones.
    const all = Buffer.concat(Array.from({ length: 400 }, () => unit));
    for (let i = 0; i < all.length; i += 5) {
      d.push(all.subarray(i, i + 5));
      if (i % 7 === 0) for (let f = d.next(); f; f = d.next()) got.push(f.n);
    }
    for (let f = d.next(); f; f = d.next()) got.push(f.n);
    expect(got.length).toBe(400);
    expect(d.pendingBytes).toBe(0);
  });

  it('reads a pushed Uint8Array view at its own offset, not the start of its buffer', () => {
    const backing = new Uint8Array(64).fill(0x7a);
    const frame = encodeFrame({ type: 'users' });
    backing.set(frame, 20);
    const d = new FrameDecoder();
    d.push(backing.subarray(20, 20 + frame.length));
    d.push(new Uint8Array(0));
    expect(d.pendingBytes).toBe(frame.length);
    expect(d.next()).toEqual({ type: 'users' });
  });

  it('refuses a limit below 2 bytes or not an integer, naming the option; the default is 64 KiB', () => {
    expect(() => new FrameDecoder({ maxFrameBytes: 1 })).toThrow(new RangeError('maxFrameBytes must be an integer >= 2 (got 1)'));
    expect(() => new FrameDecoder({ maxFrameBytes: 2.5 })).toThrow(RangeError);
    expect(new FrameDecoder({ maxFrameBytes: 2 }).maxFrameBytes).toBe(2);
    expect(new FrameDecoder().maxFrameBytes).toBe(64 * 1024);
    const d = new FrameDecoder({ maxFrameBytes: 2 });
    d.push(Buffer.from('5\n'));
    expect(errorOf(d).details.protocolCode).toBe('bad_frame');
  });

  it('encodes a frame as its JSON and one newline, in UTF-8', () => {
    expect(encodeFrame({ type: 'msg', text: 'é\n' }).toString('hex')).toBe(Buffer.from('{"type":"msg","text":"é\\n"}\n', 'utf8').toString('hex'));
  });

  it('frames each in their own chunk, read one at a time: nothing copied, nothing held once read', () => {
    const d = new FrameDecoder();
    for (let i = 0; i < 5; i++) {
      d.push(encodeFrame({ type: 'msg', n: i }));
      expect(d.chunksHeld).toBe(1);
      expect(d.next()).toEqual({ type: 'msg', n: i });
      expect(d.chunksHeld).toBe(0);
      expect(d.next()).toBeNull();
    }
    expect(d.bytesCopied).toBe(0);
  });

  it('a long-lived stream that always has a frame pending holds a bounded number of chunks', () => {
    const d = new FrameDecoder();
    const line = encodeFrame({ type: 'msg', text: 'abcdefgh' });
    const cut = 10;
    d.push(line.subarray(0, cut));
    let read = 0;
    for (let i = 0; i < 1000; i++) {
      // The end of one frame and the start of the next, in one chunk: the live chunk is never empty.
      d.push(Buffer.concat([line.subarray(cut), line.subarray(0, cut)]));
      for (let f = d.next(); f; f = d.next()) read++;
      expect(d.chunksHeld).toBeLessThanOrEqual(65);
    }
    expect(read).toBe(1000);
    expect(d.pendingBytes).toBe(cut);
  });

  it('hundreds of chunks read in one go, a partial frame behind them: the consumed ones are dropped', () => {
    const d = new FrameDecoder();
    for (let i = 0; i < 500; i++) d.push(encodeFrame({ type: 'msg', n: i }));
    d.push(Buffer.from('{"type":'));
    let n = 0;
    for (let f = d.next(); f; f = d.next()) expect(f.n).toBe(n++);
    expect(n).toBe(500);
    expect(d.chunksHeld).toBeLessThanOrEqual(65);
    d.push(Buffer.from('"end"}\n'));
    expect(d.next()).toEqual({ type: 'end' });
    expect(d.chunksHeld).toBe(0);
  });

  it('an oversized frame drops every chunk it held', () => {
    const d = new FrameDecoder({ maxFrameBytes: 100 });
    for (let i = 0; i < 20; i++) d.push(Buffer.alloc(10, 0x61));
    expect(d.chunksHeld).toBe(20);
    expect(() => d.next()).toThrow(/frame too large/);
    expect(d.chunksHeld).toBe(0);
  });

  it('an empty chunk changes nothing', () => {
    const d = new FrameDecoder();
    d.push(Buffer.from('{"type":"a"}'));
    d.push(Buffer.alloc(0));
    d.push(Buffer.from('\n'));
    d.push(Buffer.alloc(0));
    expect(d.next()).toEqual({ type: 'a' });
    expect(d.next()).toBeNull();
    expect(d.pendingBytes).toBe(0);
  });
});
