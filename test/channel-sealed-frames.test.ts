import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHANNEL_CIPHER_SPECS, sealRecord } from '../core/channel/ciphers.ts';
import { channelCodeOf } from '../core/channel/errors.ts';
import { SecchatError } from '../core/errors.ts';
import type { SealedFrame } from '../core/channel/handshake-messages.ts';
import { CHANNEL_CIPHERS, type ChannelCipher } from '../core/profile.ts';
import { makePair, type ChannelSettings } from './helpers/channel-fixtures.ts';
import { manualClock, pump, seededRandom } from './helpers/channel-pump.ts';
import { deriveSessionKeys } from '../core/channel/kdf.ts';
import { MAX_SEALED_PLAINTEXT_BYTES, MAX_SEQUENCE, SEALED_AAD_LABEL, SealedRecordReader, SealedRecordWriter, decodeAppFrame, encodeAppFrame, openSealedFrame, parseSealedFrame, sealedAad, type RecordSettings } from '../core/channel/sealed-frames.ts';

const AUTHENTICATING = CHANNEL_CIPHERS.filter((c) => CHANNEL_CIPHER_SPECS[c].authenticates);
const WINDOW_MS = 30_000;

/** An established ecdhe pair (fast: no RSA) with these settings. */
function established(settings: Partial<ChannelSettings>, now?: () => number) {
  const pair = makePair({ both: { keyExchange: 'ecdhe', transcriptMac: false, ...settings }, now });
  const r = pump(pair.client, pair.server);
  if (Object.keys(r.errors).length) throw new Error('handshake failed');
  return pair;
}

const wire = (f: unknown): SealedFrame => JSON.parse(JSON.stringify(f));
const b64flip = (s: string, at: number, xor: number) => {
  const b = Buffer.from(s, 'base64');
  b[at % b.length] ^= xor;
  return b.toString('base64');
};
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return channelCodeOf(err) ?? 'not a channel error';
  }
};

describe('sealed frames resist tampering under every authenticating cipher', () => {
  it.each(AUTHENTICATING)('%s: any single flipped byte of iv, ct or tag is bad_record_mac, and the channel closes', (cipher) => {
    fc.assert(
      fc.property(fc.constantFrom('iv', 'ct', 'tag'), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.constantFrom<ChannelSettings['replayProtection']>('none', 'sequence', 'window'), (field, at, xor, replay) => {
        const { client, server } = established({ ciphers: [cipher], replayProtection: replay });
        const f = wire(client.seal({ type: 'msg', text: 'PAY 100' }));
        (f as any)[field] = b64flip((f as any)[field], at, xor);
        expect(codeOf(() => server.open(f))).toBe('bad_record_mac');
        expect(server.state).toBe('closed');
        expect(codeOf(() => server.open(wire(client.seal({ type: 'msg' }))))).toBe('closed');
      }),
      { numRuns: 40 },
    );
  });

  it.each(AUTHENTICATING)('%s: the replay fields are bound into the tag (rewriting seq or ts is bad_record_mac)', (cipher) => {
    const seq = established({ ciphers: [cipher], replayProtection: 'sequence' });
    const first = wire(seq.client.seal({ type: 'msg', n: 0 }));
    seq.server.open(first);
    expect(codeOf(() => seq.server.open({ ...first, seq: '1' }))).toBe('bad_record_mac');

    const clock = manualClock();
    const win = established({ ciphers: [cipher], replayProtection: 'window' }, clock.now);
    const old = wire(win.client.seal({ type: 'msg' }));
    clock.advance(WINDOW_MS + 1);
    expect(codeOf(() => win.server.open({ ...old, ts: clock.now() }))).toBe('bad_record_mac');
  });
});

describe('the weak ciphers, through the channel', () => {
  it('aes-128-cbc: flipping IV bits rewrites the first 16 bytes of the chat frame, undetected', () => {
    const { client, server } = established({ ciphers: ['aes-128-cbc'] });
    const f = wire(client.seal({ text: 'PAY 100', type: 'msg' })); // {"text":"PAY 100" : the amount is in block 0
    const known = Buffer.from(JSON.stringify({ text: 'PAY 100', type: 'msg' }));
    const at = known.indexOf('100');
    f.iv = b64flip(f.iv!, at, '1'.charCodeAt(0) ^ '9'.charCodeAt(0));
    expect(server.open(f)).toEqual({ text: 'PAY 900', type: 'msg' });
  });

  it('aes-128-cbc: the same trick changes the type of an ordinary chat frame', () => {
    const { client, server } = established({ ciphers: ['aes-128-cbc'] });
    const f = wire(client.seal({ type: 'msg', text: 'hello' }));
    const iv = Buffer.from(f.iv!, 'base64');
    const at = '{"type":"'.length;
    for (let i = 0; i < 3; i++) iv[at + i] ^= 'msg'.charCodeAt(i) ^ 'cmd'.charCodeAt(i);
    f.iv = iv.toString('base64');
    expect(server.open(f)).toEqual({ type: 'cmd', text: 'hello' });
  });

  it('aes-128-cbc: the ciphertext hides the text, and the sealed frame has no tag', () => {
    const { client } = established({ ciphers: ['aes-128-cbc'] });
    const f = wire(client.seal({ type: 'msg', text: 'PAY 100' }));
    expect(JSON.stringify(f)).not.toContain('PAY 100');
    expect(f.tag).toBeUndefined();
    expect(Buffer.from(f.iv!, 'base64').length).toBe(16);
    expect(Buffer.from(f.ct!, 'base64').length % 16).toBe(0);
  });

  it('null: the chat frame is in plain sight, and an edit goes through', () => {
    const { client, server } = established({ ciphers: ['null'] });
    const f = wire(client.seal({ type: 'msg', text: 'PAY 100' }));
    expect(f.plaintext).toBe('{"type":"msg","text":"PAY 100"}');
    expect(f.iv ?? f.ct ?? f.tag).toBeUndefined();
    expect(server.open({ ...f, plaintext: f.plaintext!.replace('100', '900') })).toEqual({ type: 'msg', text: 'PAY 900' });
  });

  it.each(['aes-128-cbc', 'null'] as ChannelCipher[])('%s: with no MAC the sequence number is not bound: rewriting it makes a replay pass', (cipher) => {
    const { client, server } = established({ ciphers: [cipher], replayProtection: 'sequence' });
    const first = wire(client.seal({ type: 'msg', text: 'PAY 100' }));
    server.open(first);
    expect(codeOf(() => server.open(first))).toBe('bad_sequence'); // a naive replay is caught...
    const again = established({ ciphers: [cipher], replayProtection: 'sequence' });
    const f0 = wire(again.client.seal({ type: 'msg', text: 'PAY 100' }));
    again.server.open(f0);
    expect(again.server.open({ ...f0, seq: '1' })).toEqual({ type: 'msg', text: 'PAY 100' }); // ...a relabelled one is not
  });
});

describe('replay protection (properties)', () => {
  const schedule = fc.array(fc.nat(5), { minLength: 1, maxLength: 12 });

  it.each(CHANNEL_CIPHERS)('sequence, %s: a frame is accepted only if it is the next one; replays and reorders are bad_sequence', (cipher) => {
    fc.assert(
      fc.property(schedule, (order) => {
        const { client, server } = established({ ciphers: [cipher], replayProtection: 'sequence' });
        const frames = Array.from({ length: 6 }, (_, i) => wire(client.seal({ type: 'msg', n: i })));
        let expected = 0;
        for (const i of order) {
          if (i === expected) {
            expect(server.open(frames[i])).toEqual({ type: 'msg', n: i });
            expected++;
          } else {
            expect(codeOf(() => server.open(frames[i]))).toBe('bad_sequence');
            expect(server.state).toBe('closed');
            return;
          }
        }
      }),
      { numRuns: 30 },
    );
  });

  it.each(CHANNEL_CIPHERS)('none, %s: replayed and reordered frames are all accepted (the lesson)', (cipher) => {
    fc.assert(
      fc.property(schedule, (order) => {
        const { client, server } = established({ ciphers: [cipher], replayProtection: 'none' });
        const frames = Array.from({ length: 6 }, (_, i) => wire(client.seal({ type: 'msg', n: i })));
        for (const i of order) expect(server.open(frames[i])).toEqual({ type: 'msg', n: i });
      }),
      { numRuns: 20 },
    );
  });

  it.each(AUTHENTICATING)('window, %s: stale outside the window, replayed_nonce inside it, else accepted (model check)', (cipher) => {
    const events = fc.array(fc.record({ frame: fc.nat(4), advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: WINDOW_MS / 2 }), fc.integer({ min: WINDOW_MS, max: WINDOW_MS * 2 })) }), { minLength: 1, maxLength: 10 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), events, (spacing, evs) => {
        const clock = manualClock();
        const { client, server } = established({ ciphers: [cipher], replayProtection: 'window', replayWindowMs: WINDOW_MS }, clock.now);
        const frames = Array.from({ length: 5 }, (_, i) => {
          clock.advance(spacing);
          return wire(client.seal({ type: 'msg', n: i }));
        });
        const seen = new Set<number>();
        for (const { frame, advanceMs } of evs) {
          clock.advance(advanceMs);
          const ts = frames[frame].ts!;
          const expected = Math.abs(clock.now() - ts) > WINDOW_MS ? 'stale' : seen.has(frame) ? 'replayed_nonce' : undefined;
          const got = codeOf(() => server.open(frames[frame]));
          expect(got).toBe(expected);
          if (expected) return;
          seen.add(frame);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('window mode details (injected clock)', () => {
  it('accepts exactly replayWindowMs of skew either way, and no more', () => {
    const clientClock = manualClock(1_000_000);
    const serverClock = manualClock(1_000_000);
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe', replayProtection: 'window', replayWindowMs: 1000 }, clientNow: clientClock.now, serverNow: serverClock.now });
    expect(pump(client, server).errors).toEqual({});
    const at = (clientMs: number) => {
      clientClock.set(clientMs);
      return wire(client.seal({ type: 'msg', at: clientMs }));
    };
    expect(server.open(at(1_001_000))).toEqual({ type: 'msg', at: 1_001_000 }); // sender 1000 ms ahead
    expect(server.open(at(999_000))).toEqual({ type: 'msg', at: 999_000 }); // 1000 ms behind
    expect(codeOf(() => server.open(at(998_999)))).toBe('stale');
  });

  it('a frame from the future beyond the window is stale', () => {
    const clock = manualClock();
    const { client, server } = established({ replayProtection: 'window', replayWindowMs: 1000 }, clock.now);
    clock.advance(5000);
    const f = wire(client.seal({ type: 'msg' }));
    clock.advance(-5000);
    expect(codeOf(() => server.open(f))).toBe('stale');
  });

  it('remembers nonces only while they can still be fresh (the seen set is pruned)', () => {
    const clock = manualClock();
    const { client, server } = established({ replayProtection: 'window', replayWindowMs: 1000 }, clock.now);
    for (let i = 0; i < 5; i++) server.open(wire(client.seal({ type: 'msg', i })));
    expect(server.stats.seenNonces).toBe(5);
    clock.advance(1001);
    server.open(wire(client.seal({ type: 'msg', i: 5 })));
    expect(server.stats.seenNonces).toBe(1);
  });

  it('a replay after the window has passed is stale, not accepted', () => {
    const clock = manualClock();
    const { client, server } = established({ replayProtection: 'window', replayWindowMs: 1000 }, clock.now);
    const f = wire(client.seal({ type: 'msg' }));
    server.open(f);
    clock.advance(1001);
    expect(codeOf(() => server.open(f))).toBe('stale');
  });

  it('a forged frame burns neither the nonce nor the sequence number of the genuine one', () => {
    const clock = manualClock();
    for (const mode of ['window', 'sequence'] as const) {
      const settings = { cipher: 'aes-128-gcm' as const, replayProtection: mode, replayWindowMs: 1000, randomBytes: seededRandom(mode), now: clock.now };
      const keys = deriveSessionKeys(Buffer.alloc(32, 1), Buffer.alloc(32, 2), Buffer.alloc(32, 3), 'aes-128-gcm').clientToServer;
      const writer = new SealedRecordWriter(settings, keys);
      const reader = new SealedRecordReader(settings, keys);
      const f = wire(writer.seal({ type: 'msg' }));
      expect(codeOf(() => reader.open({ ...f, tag: b64flip(f.tag!, 0, 1) }))).toBe('bad_record_mac');
      expect(reader.seenNonces).toBe(0);
      expect(reader.open(f as any)).toEqual({ type: 'msg' });
      expect(codeOf(() => reader.open(f as any))).toBe(mode === 'window' ? 'replayed_nonce' : 'bad_sequence');
    }
  });
});

describe('malformed sealed frames', () => {
  it.each([
    ['missing seq', (f: any) => ({ ...f, seq: undefined })],
    ['seq not decimal', (f: any) => ({ ...f, seq: '0x1' })],
    ['seq beyond 64 bits', (f: any) => ({ ...f, seq: '18446744073709551616' })],
    ['iv wrong length', (f: any) => ({ ...f, iv: Buffer.alloc(11).toString('base64') })],
    ['tag missing', (f: any) => ({ ...f, tag: undefined })],
    ['ct not base64', (f: any) => ({ ...f, ct: '!!!!' })],
  ])('%s: decode_error', (_name, mangle) => {
    const { client, server } = established({ replayProtection: 'sequence' });
    expect(codeOf(() => server.open(JSON.parse(JSON.stringify(mangle(wire(client.seal({ type: 'msg' })))))))).toBe('decode_error');
  });

  it('a sealed chat frame that is not a chat frame is decode_error', () => {
    const { client, server } = established({ ciphers: ['null'], replayProtection: 'none' });
    expect(codeOf(() => server.open({ ...wire(client.seal({ type: 'msg' })), plaintext: '[1,2]' }))).toBe('decode_error');
  });

  it('a frame sealed for the server does not open at the client (per-direction keys)', () => {
    const { client } = established({ replayProtection: 'none' });
    expect(codeOf(() => client.open(wire(client.seal({ type: 'msg' }))))).toBe('bad_record_mac');
  });
});

/** A writer and reader of one direction with fixed keys, an injected clock and seeded randomness. */
function direction(cipher: ChannelCipher, mode: RecordSettings['replayProtection'], replayWindowMs = 1000, clock = manualClock()) {
  const settings: RecordSettings = { cipher, replayProtection: mode, replayWindowMs, randomBytes: seededRandom(`${cipher}/${mode}`), now: clock.now };
  const keys = deriveSessionKeys(Buffer.alloc(32, 1), Buffer.alloc(32, 2), Buffer.alloc(32, 3), cipher).clientToServer;
  return { writer: new SealedRecordWriter(settings, keys), reader: new SealedRecordReader(settings, keys), clock };
}

describe('record edges (mutation testing: docs/testing.md)', () => {
  it('associated data: label, mode byte, then the replay fields in big-endian, byte for byte', () => {
    const label = Buffer.from('secchat-sealed-v1', 'ascii').toString('hex');
    expect(SEALED_AAD_LABEL).toBe('secchat-sealed-v1');
    expect(sealedAad('none', {}).toString('hex')).toBe(label + '00');
    expect(sealedAad('none', { seq: 5n, ts: 7, nonce: Buffer.alloc(16, 9) }).toString('hex')).toBe(label + '00'); // none binds no fields
    expect(sealedAad('sequence', { seq: 0x0102030405060708n }).toString('hex')).toBe(label + '01' + '0102030405060708');
    expect(sealedAad('sequence', { seq: MAX_SEQUENCE }).toString('hex')).toBe(label + '01' + 'ffffffffffffffff');
    const nonce = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    // 1_700_000_000_123 = 0x18bcfe5687b (printf '%016x')
    expect(sealedAad('window', { ts: 1_700_000_000_123, nonce }).toString('hex')).toBe(label + '02' + '0000018bcfe5687b' + '00112233445566778899aabbccddeeff');
  });

  it.each(CHANNEL_CIPHERS)('sequence, %s: twenty-five frames in order all open (sequence numbers of two and more digits)', (cipher) => {
    const { writer, reader } = direction(cipher, 'sequence');
    for (let i = 0; i < 25; i++) {
      const f = wire(writer.seal({ type: 'msg', i }));
      expect(f.seq).toBe(String(i));
      expect(reader.open(f as any)).toEqual({ type: 'msg', i });
    }
    expect(writer.sent).toBe(25n);
    expect(reader.received).toBe(25n);
  });

  it('sequence: the largest 64-bit sequence number parses; one more is decode_error', () => {
    const { writer } = direction('aes-128-gcm', 'sequence');
    const f = wire(writer.seal({ type: 'msg' }));
    expect(parseSealedFrame({ ...f, seq: MAX_SEQUENCE.toString() }, 'aes-128-gcm', 'sequence').header.seq).toBe(MAX_SEQUENCE);
    expect(codeOf(() => parseSealedFrame({ ...f, seq: (MAX_SEQUENCE + 1n).toString() }, 'aes-128-gcm', 'sequence'))).toBe('decode_error');
    expect(codeOf(() => parseSealedFrame({ ...f, seq: '01' }, 'aes-128-gcm', 'sequence'))).toBe('decode_error'); // one spelling per number
    expect(codeOf(() => parseSealedFrame({ ...f, seq: 1 }, 'aes-128-gcm', 'sequence'))).toBe('decode_error');
  });

  it.each(AUTHENTICATING)('window, %s: a replay exactly replayWindowMs after the original is replayed_nonce, not accepted', (cipher) => {
    const { writer, reader, clock } = direction(cipher, 'window', 1000);
    const f = wire(writer.seal({ type: 'msg' }));
    expect(reader.open(f as any)).toEqual({ type: 'msg' });
    clock.advance(1000); // |now - ts| = the window: still fresh, so its nonce must still be remembered
    expect(codeOf(() => reader.open(f as any))).toBe('replayed_nonce');
    clock.advance(1);
    expect(codeOf(() => reader.open(f as any))).toBe('stale');
  });

  it('window: the seen set forgets a nonce one ms after its frame went stale, not before', () => {
    const { writer, reader, clock } = direction('aes-128-gcm', 'window', 1000);
    reader.open(wire(writer.seal({ type: 'msg', n: 0 })) as any);
    clock.advance(1000);
    reader.open(wire(writer.seal({ type: 'msg', n: 1 })) as any);
    expect(reader.seenNonces).toBe(2);
    clock.advance(1);
    reader.open(wire(writer.seal({ type: 'msg', n: 2 })) as any);
    expect(reader.seenNonces).toBe(2); // n: 0 pruned
  });

  it('window: ts is the sender clock floored to an integer ms, and a negative or fractional ts is decode_error', () => {
    const clock = manualClock(1_700_000_000_000.75);
    const { writer, reader } = direction('aes-128-gcm', 'window', 1000, clock);
    const f = wire(writer.seal({ type: 'msg' }));
    expect(f.ts).toBe(1_700_000_000_000);
    expect(f.nonce && Buffer.from(f.nonce, 'base64').length).toBe(16);
    expect(reader.open(f as any)).toEqual({ type: 'msg' });
    expect(codeOf(() => parseSealedFrame({ ...f, ts: -1 }, 'aes-128-gcm', 'window'))).toBe('decode_error');
    expect(codeOf(() => parseSealedFrame({ ...f, ts: 1.5 }, 'aes-128-gcm', 'window'))).toBe('decode_error');
    expect(parseSealedFrame({ ...f, ts: 0 }, 'aes-128-gcm', 'window').header.ts).toBe(0);
  });
});

describe('sealed frame layout and content checks (mutation testing: docs/testing.md)', () => {
  it.each(CHANNEL_CIPHERS)('%s: exactly the fields the layout names for the cipher and mode', (cipher) => {
    const spec = CHANNEL_CIPHER_SPECS[cipher];
    for (const mode of ['none', 'sequence', 'window'] as const) {
      const { writer } = direction(cipher, mode);
      const f = wire(writer.seal({ type: 'msg' }));
      const expected = ['type', ...(mode === 'sequence' ? ['seq'] : []), ...(mode === 'window' ? ['ts', 'nonce'] : []), ...(spec.kind === 'null' ? ['plaintext'] : ['iv', 'ct', ...(spec.tagBytes > 0 ? ['tag'] : [])])];
      expect(Object.keys(f).sort()).toEqual(expected.sort());
      if (spec.kind === 'null') expect(f.plaintext).toBe('{"type":"msg"}');
      else expect(Buffer.from(f.iv!, 'base64').length).toBe(spec.ivBytes);
    }
  });

  it('content must be UTF-8 JSON of an object with a string type', () => {
    expect(decodeAppFrame(Buffer.from('{"type":"msg","text":"é"}'))).toEqual({ type: 'msg', text: 'é' });
    // "{"type":"m<0xff>"}": invalid UTF-8 is refused, not replaced with U+FFFD
    expect(codeOf(() => decodeAppFrame(Buffer.from([0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0x6d, 0xff, 0x22, 0x7d])))).toBe('decode_error');
    expect(codeOf(() => decodeAppFrame(Buffer.from('{"type":5}')))).toBe('decode_error');
    expect(codeOf(() => decodeAppFrame(Buffer.from('"msg"')))).toBe('decode_error');
    expect(codeOf(() => decodeAppFrame(Buffer.from('null')))).toBe('decode_error');
    expect(codeOf(() => decodeAppFrame(Buffer.from('{"type":"msg"')))).toBe('decode_error');
  });

  it('a sealed AEAD record whose plaintext is invalid UTF-8 passes its tag but is still decode_error', () => {
    const keys = deriveSessionKeys(Buffer.alloc(32, 1), Buffer.alloc(32, 2), Buffer.alloc(32, 3), 'aes-128-gcm').clientToServer;
    const reader = new SealedRecordReader({ cipher: 'aes-128-gcm', replayProtection: 'none', replayWindowMs: 1000, randomBytes: seededRandom('utf8'), now: () => 0 }, keys);
    const bad = Buffer.from([0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0x6d, 0xff, 0x22, 0x7d]);
    const parts = sealRecord('aes-128-gcm', keys, bad, sealedAad('none', {}), Buffer.alloc(12, 4));
    const frame = { type: 'sealed', iv: parts.iv.toString('base64'), ct: parts.ct.toString('base64'), tag: parts.tag.toString('base64') };
    expect(() => reader.open(frame)).toThrow('sealed frame content is not UTF-8 JSON');
  });

  it('encodeAppFrame refuses what is not a chat frame, and a frame over the size limit, naming it', () => {
    expect(encodeAppFrame({ type: 'msg' })).toEqual(Buffer.from('{"type":"msg"}'));
    expect(() => encodeAppFrame({ type: 1 })).toThrow('seal(appFrame): appFrame must be an object with a string type');
    expect(() => encodeAppFrame(null)).toThrow(/must be an object/);
    const big = { type: 'msg', text: 'x'.repeat(MAX_SEALED_PLAINTEXT_BYTES) }; // + 24 bytes of {"type":"msg","text":""}
    expect(() => encodeAppFrame(big)).toThrow(`seal(appFrame): serialized frame is ${MAX_SEALED_PLAINTEXT_BYTES + 24} bytes, more than ${MAX_SEALED_PLAINTEXT_BYTES}`);
    const fits = { type: 'msg', text: 'x'.repeat(MAX_SEALED_PLAINTEXT_BYTES - 24) };
    expect(encodeAppFrame(fits).length).toBe(MAX_SEALED_PLAINTEXT_BYTES);
  });

  it('openSealedFrame (for recordings) checks it is a sealed frame, and names the failed check', () => {
    const { writer } = direction('aes-128-gcm', 'sequence');
    const keys = deriveSessionKeys(Buffer.alloc(32, 1), Buffer.alloc(32, 2), Buffer.alloc(32, 3), 'aes-128-gcm').clientToServer;
    const f = wire(writer.seal({ type: 'msg' }));
    expect(openSealedFrame('aes-128-gcm', keys, 'sequence', f)).toEqual({ type: 'msg' });
    expect(openSealedFrame('aes-128-gcm', keys, 'sequence', f)).toEqual({ type: 'msg' }); // no replay state
    expect(codeOf(() => openSealedFrame('aes-128-gcm', keys, 'sequence', { ...f, type: 'msg' }))).toBe('decode_error');
    expect(codeOf(() => openSealedFrame('aes-128-gcm', keys, 'sequence', [f]))).toBe('decode_error');
    expect(() => openSealedFrame('aes-128-gcm', keys, 'sequence', { ...f, tag: b64flip(f.tag!, 0, 1) })).toThrow('sealed frame failed the aes-128-gcm tag/MAC check');
    const cbc = direction('aes-128-cbc', 'none');
    const cbcKeys = deriveSessionKeys(Buffer.alloc(32, 1), Buffer.alloc(32, 2), Buffer.alloc(32, 3), 'aes-128-cbc').clientToServer;
    const c = wire(cbc.writer.seal({ type: 'msg' }));
    const ct = Buffer.from(c.ct!, 'base64');
    ct[ct.length - 1] ^= 0xff; // wrecks the PKCS#7 padding
    expect(() => openSealedFrame('aes-128-cbc', cbcKeys, 'none', { ...c, ct: ct.toString('base64') })).toThrow('sealed frame failed the aes-128-cbc padding check');
  });

  it('CBC ciphertext must be whole blocks; window nonce exactly 16 bytes; ts an integer >= 0', () => {
    const { writer } = direction('aes-128-cbc-hmac-sha256', 'window');
    const f = wire(writer.seal({ type: 'msg' }));
    const ct = Buffer.from(f.ct!, 'base64');
    expect(codeOf(() => parseSealedFrame({ ...f, ct: ct.subarray(0, ct.length - 1).toString('base64') }, 'aes-128-cbc-hmac-sha256', 'window'))).toBe('decode_error');
    expect(codeOf(() => parseSealedFrame({ ...f, ct: '' }, 'aes-128-cbc-hmac-sha256', 'window'))).toBe('decode_error');
    expect(parseSealedFrame({ ...f, ct: ct.subarray(0, 16).toString('base64') }, 'aes-128-cbc-hmac-sha256', 'window').parts.ct.length).toBe(16);
    expect(codeOf(() => parseSealedFrame({ ...f, nonce: Buffer.alloc(15).toString('base64') }, 'aes-128-cbc-hmac-sha256', 'window'))).toBe('decode_error');
    expect(codeOf(() => parseSealedFrame({ ...f, ts: '1700000000000' }, 'aes-128-cbc-hmac-sha256', 'window'))).toBe('decode_error');
    expect(codeOf(() => parseSealedFrame({ ...f, ts: Number.MAX_SAFE_INTEGER + 1 }, 'aes-128-cbc-hmac-sha256', 'window'))).toBe('decode_error');
    // AEAD ciphertext may be of any length, including empty
    const g = wire(direction('aes-128-gcm', 'none').writer.seal({ type: 'msg' }));
    expect(parseSealedFrame({ ...g, ct: '' }, 'aes-128-gcm', 'none').parts.ct.length).toBe(0);
    expect(parseSealedFrame({ ...g, ct: 'AAA=' }, 'aes-128-gcm', 'none').parts.ct.length).toBe(2);
  });

  it('a stale refusal says how far off the clock was', () => {
    const { writer, reader, clock } = direction('aes-128-gcm', 'window', 1000);
    const f = wire(writer.seal({ type: 'msg' }));
    clock.advance(1500);
    expect(() => reader.open(f as any)).toThrow(`sealed frame timestamp ${f.ts} is 1500 ms from now, outside the 1000 ms window`);
  });
});

describe('every refusal names its field and carries its details (mutation testing, docs/testing.md)', () => {
  /** A sealed frame as it arrives off the wire: a plain JSON object. */
  const rec = (f: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(f));
  /** The channel error `fn` throws. */
  const errorOf = (fn: () => unknown): SecchatError => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(SecchatError);
      return err as SecchatError;
    }
    throw new Error('did not throw');
  };
  const keysFor = (cipher: ChannelCipher) => deriveSessionKeys(Buffer.alloc(32, 1), Buffer.alloc(32, 2), Buffer.alloc(32, 3), cipher).clientToServer;
  const settings = (cipher: ChannelCipher, replayProtection: RecordSettings['replayProtection'], now = () => 1_000_000): RecordSettings => ({ cipher, replayProtection, replayWindowMs: 1000, randomBytes: seededRandom(`${cipher}-${replayProtection}`), now });
  const pairOf = (cipher: ChannelCipher, mode: RecordSettings['replayProtection'], now?: () => number) => ({ writer: new SealedRecordWriter(settings(cipher, mode, now), keysFor(cipher)), reader: new SealedRecordReader(settings(cipher, mode, now), keysFor(cipher)) });

  it('layout refusals: seq, ts (a string too), CBC blocks, the tag length; each names its field', () => {
    const seq = errorOf(() => parseSealedFrame({ type: 'sealed', seq: 'x' }, 'aes-128-gcm', 'sequence'));
    expect(seq.message).toBe('sealed.seq: expected a decimal unsigned 64-bit integer string');
    expect(seq.details).toEqual({ field: 'sealed.seq', channelCode: 'decode_error' });
    for (const ts of ['5', -1, 1.5, null]) {
      const e = errorOf(() => parseSealedFrame({ type: 'sealed', ts, nonce: Buffer.alloc(16).toString('base64') }, 'aes-128-gcm', 'window'));
      expect(e.message, String(ts)).toBe('sealed.ts: expected a non-negative integer (ms)');
      expect(e.details).toEqual({ field: 'sealed.ts', channelCode: 'decode_error' });
    }
    const cbc = errorOf(() => parseSealedFrame({ type: 'sealed', iv: Buffer.alloc(16).toString('base64'), ct: Buffer.alloc(15).toString('base64') }, 'aes-128-cbc', 'none'));
    expect(cbc.message).toBe('sealed.ct: CBC ciphertext must be whole 16-byte blocks');
    expect(cbc.details).toEqual({ field: 'sealed.ct', channelCode: 'decode_error' });
    const { writer } = pairOf('aes-128-gcm', 'none');
    const f = rec(writer.seal({ type: 'msg' }));
    const shortTag = errorOf(() => parseSealedFrame({ ...f, tag: Buffer.alloc(8).toString('base64') }, 'aes-128-gcm', 'none'));
    expect(shortTag.details).toEqual({ field: 'sealed.tag', channelCode: 'decode_error' });
  });

  it('the ciphertext may be the largest plaintext plus one CBC block, and no longer', () => {
    const { writer, reader } = pairOf('aes-128-cbc-hmac-sha256', 'none');
    const big = { type: 'msg', text: 'x'.repeat(MAX_SEALED_PLAINTEXT_BYTES - 24) };
    expect(encodeAppFrame(big).length).toBe(MAX_SEALED_PLAINTEXT_BYTES);
    const f = rec(writer.seal(big));
    expect(Buffer.from(f.ct as string, 'base64').length).toBe(MAX_SEALED_PLAINTEXT_BYTES + 16);
    expect(reader.open(f)).toEqual(big);
    const tooLong = { ...f, ct: Buffer.alloc(MAX_SEALED_PLAINTEXT_BYTES + 32).toString('base64') };
    expect(errorOf(() => parseSealedFrame(tooLong, 'aes-128-cbc-hmac-sha256', 'none')).details).toEqual({ field: 'sealed.ct', channelCode: 'decode_error' });
  });

  it('content and frame-kind refusals say what is wrong', () => {
    expect(errorOf(() => decodeAppFrame(Buffer.from('[1]'))).message).toBe('sealed frame content is not a chat frame (an object with a string type)');
    expect(errorOf(() => openSealedFrame('aes-128-gcm', keysFor('aes-128-gcm'), 'none', { type: 'msg' })).message).toBe('not a sealed frame');
  });

  it('bad_record_mac names the cipher in its details', () => {
    const { writer, reader } = pairOf('chacha20-poly1305', 'none');
    const f = rec(writer.seal({ type: 'msg' }));
    const e = errorOf(() => reader.open({ ...f, tag: b64flip(f.tag as string, 0, 1) }));
    expect(e.message).toBe('sealed frame failed the chacha20-poly1305 tag/MAC check');
    expect(e.details).toEqual({ cipher: 'chacha20-poly1305', channelCode: 'bad_record_mac' });
  });

  it('bad_sequence, stale and replayed_nonce say what they saw', () => {
    const s = pairOf('aes-128-gcm', 'sequence');
    const f0 = rec(s.writer.seal({ type: 'msg', n: 0 }));
    const f1 = rec(s.writer.seal({ type: 'msg', n: 1 }));
    const seq = errorOf(() => s.reader.open(f1));
    expect(seq.message).toBe('sealed frame has sequence 1, expected 0');
    expect(seq.details).toEqual({ got: '1', expected: '0', channelCode: 'bad_sequence' });
    expect(s.reader.open(f0)).toEqual({ type: 'msg', n: 0 });
    expect(s.reader.seenNonces).toBe(0); // no nonce is remembered outside window mode

    let t = 1_000_000;
    const w = pairOf('aes-128-gcm', 'window', () => t);
    const fw = rec(w.writer.seal({ type: 'msg' }));
    expect(w.reader.open(fw)).toEqual({ type: 'msg' });
    const again = errorOf(() => w.reader.open(fw));
    expect(again.message).toBe('sealed frame nonce was already seen inside the replay window');
    expect(again.details).toEqual({ nonce: fw.nonce, channelCode: 'replayed_nonce' });
    t += 1001;
    const stale = errorOf(() => w.reader.open(fw));
    expect(stale.details).toEqual({ ts: 1_000_000, now: 1_001_001, replayWindowMs: 1000, channelCode: 'stale' });
  });

  it('each mode puts exactly its own replay fields in a sealed frame', () => {
    const keysOf = (f: object) => Object.keys(f).sort();
    expect(keysOf(pairOf('aes-128-gcm', 'none').writer.seal({ type: 'msg' }))).toEqual(['ct', 'iv', 'tag', 'type']);
    expect(keysOf(pairOf('aes-128-gcm', 'sequence').writer.seal({ type: 'msg' }))).toEqual(['ct', 'iv', 'seq', 'tag', 'type']);
    expect(keysOf(pairOf('aes-128-gcm', 'window').writer.seal({ type: 'msg' }))).toEqual(['ct', 'iv', 'nonce', 'tag', 'ts', 'type']);
  });
});
