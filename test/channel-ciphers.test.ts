import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHANNEL_CIPHER_SPECS, openRecord, sealRecord, WEAK_CHANNEL_CIPHERS, type RecordParts } from '../core/channel/ciphers.ts';
import { CHANNEL_CIPHERS, type ChannelCipher } from '../core/profile.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const keysFor = (cipher: ChannelCipher) => ({ encKey: randomBytes(CHANNEL_CIPHER_SPECS[cipher].keyBytes), macKey: randomBytes(CHANNEL_CIPHER_SPECS[cipher].macKeyBytes) });
const AUTHENTICATING = CHANNEL_CIPHERS.filter((c) => CHANNEL_CIPHER_SPECS[c].authenticates);

describe('cipher table', () => {
  it('lists every profile cipher with the documented parameters', () => {
    expect(Object.keys(CHANNEL_CIPHER_SPECS).sort()).toEqual([...CHANNEL_CIPHERS].sort());
    const summary = Object.fromEntries(CHANNEL_CIPHERS.map((c) => { const s = CHANNEL_CIPHER_SPECS[c]; return [c, [s.keyBytes, s.macKeyBytes, s.ivBytes, s.tagBytes, s.encrypts, s.authenticates]]; }));
    expect(summary).toEqual({
      'aes-256-gcm': [32, 0, 12, 16, true, true],
      'chacha20-poly1305': [32, 0, 12, 16, true, true],
      'aes-128-gcm': [16, 0, 12, 16, true, true],
      'aes-128-cbc-hmac-sha256': [16, 32, 16, 32, true, true],
      'aes-128-cbc': [16, 0, 16, 0, true, false],
      null: [0, 0, 0, 0, false, false],
    });
  });
  it('quarantines exactly aes-128-cbc and null, each with a weakness sentence', () => {
    expect(WEAK_CHANNEL_CIPHERS).toEqual(['aes-128-cbc', 'null']);
    for (const c of CHANNEL_CIPHERS) expect(CHANNEL_CIPHER_SPECS[c].weakness === null).toBe(CHANNEL_CIPHER_SPECS[c].authenticates && CHANNEL_CIPHER_SPECS[c].encrypts);
  });
});

describe('published AEAD vectors through sealRecord', () => {
  it('ChaCha20-Poly1305, RFC 8439 §2.8.2', () => {
    const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const pt = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
    const r = sealRecord('chacha20-poly1305', { encKey: key, macKey: Buffer.alloc(0) }, pt, hex('50515253c0c1c2c3c4c5c6c7'), hex('070000004041424344454647'));
    expect(r.ct.toString('hex')).toBe(
      'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116',
    );
    expect(r.tag.toString('hex')).toBe('1ae10b594f09e26a7e902ecbd0600691');
  });
  it('AES-128-GCM, GCM spec test case 3', () => {
    const r = sealRecord(
      'aes-128-gcm',
      { encKey: hex('feffe9928665731c6d6a8f9467308308'), macKey: Buffer.alloc(0) },
      hex('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255'),
      Buffer.alloc(0),
      hex('cafebabefacedbaddecaf888'),
    );
    expect(r.ct.toString('hex')).toBe('42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985');
    expect(r.tag.toString('hex')).toBe('4d5c2af327cd64a62cf35abd2ba6fab4');
  });
});

describe('record round trip and tampering (properties)', () => {
  it.each(CHANNEL_CIPHERS)('%s: open(seal(p)) = p', (cipher) => {
    const keys = keysFor(cipher);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 40 }), (p, aad) => {
        const r = sealRecord(cipher, keys, Buffer.from(p), Buffer.from(aad), randomBytes(CHANNEL_CIPHER_SPECS[cipher].ivBytes));
        expect(openRecord(cipher, keys, r, Buffer.from(aad))?.equals(Buffer.from(p))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it.each(AUTHENTICATING)('%s: any single flipped byte of iv, ciphertext or tag, or any change to the AAD, is rejected', (cipher) => {
    const keys = keysFor(cipher);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 100 }),
        fc.constantFrom<keyof RecordParts>('iv', 'ct', 'tag'),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (p, field, at, xor) => {
          const aad = Buffer.from('header');
          const r = sealRecord(cipher, keys, Buffer.from(p), aad, randomBytes(CHANNEL_CIPHER_SPECS[cipher].ivBytes));
          const bad = { iv: Buffer.from(r.iv), ct: Buffer.from(r.ct), tag: Buffer.from(r.tag) };
          bad[field][at % bad[field].length] ^= xor;
          expect(openRecord(cipher, keys, bad, aad)).toBeNull();
          const badAad = Buffer.from(aad);
          badAad[at % badAad.length] ^= xor;
          expect(openRecord(cipher, keys, r, badAad)).toBeNull();
        },
      ),
      { numRuns: 100 },
    );
  });

  it('AEAD: a truncated tag is rejected (node would accept 4 bytes without authTagLength)', () => {
    const keys = keysFor('aes-256-gcm');
    const r = sealRecord('aes-256-gcm', keys, Buffer.from('hello'), Buffer.alloc(0), randomBytes(12));
    expect(openRecord('aes-256-gcm', keys, { ...r, tag: r.tag.subarray(0, 4) }, Buffer.alloc(0))).toBeNull();
  });
});

describe('aes-128-cbc without a MAC is malleable (CBC bit flipping)', () => {
  const cipher = 'aes-128-cbc';
  const block = (b: Buffer, i: number) => b.subarray(16 * i, 16 * i + 16);

  it('XOR-ing d into ciphertext block i XORs d into plaintext block i+1; only block i turns to noise', () => {
    const keys = keysFor(cipher);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 33, maxLength: 120 }), fc.nat(), fc.nat(15), fc.integer({ min: 1, max: 255 }), (p, blockSeed, offset, d) => {
        const plain = Buffer.from(p);
        const r = sealRecord(cipher, keys, plain, Buffer.alloc(0), randomBytes(16));
        const wholeBlocks = Math.floor(plain.length / 16); // blocks with no padding in them
        const i = blockSeed % (wholeBlocks - 1); // flip in block i, effect lands in block i+1 (still plaintext)
        const ct = Buffer.from(r.ct);
        ct[16 * i + offset] ^= d;
        const out = openRecord(cipher, keys, { ...r, ct }, Buffer.alloc(0));
        expect(out).not.toBeNull(); // no MAC: nothing notices (the padding block is untouched)
        const expected = Buffer.from(block(plain, i + 1));
        expected[offset] ^= d;
        expect(block(out!, i + 1).equals(expected)).toBe(true);
        for (let j = 0; j < wholeBlocks; j++) if (j !== i && j !== i + 1) expect(block(out!, j).equals(block(plain, j))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('an attacker without the key turns a known "PAY 100" into "PAY 900"', () => {
    const keys = keysFor(cipher);
    const order = Buffer.from('transfer order: PAY 100 EUR to bob'); // "PAY 100" sits in block 1 (bytes 16..31)
    const sealed = sealRecord(cipher, keys, order, Buffer.alloc(0), randomBytes(16));
    // The attacker knows the message format, so knows where the amount is, and XORs into the block before.
    const at = order.indexOf('PAY 100') + 'PAY '.length;
    const ct = Buffer.from(sealed.ct);
    ct[at - 16] ^= '1'.charCodeAt(0) ^ '9'.charCodeAt(0);
    const received = openRecord(cipher, keys, { ...sealed, ct }, Buffer.alloc(0))!;
    expect(received.subarray(16).toString()).toBe('PAY 900 EUR to bob');
    expect(received.subarray(0, 16).equals(order.subarray(0, 16))).toBe(false); // block 0 became noise
  });

  it('XOR-ing into the IV rewrites block 0 cleanly', () => {
    const keys = keysFor(cipher);
    const msg = Buffer.from('PAY 100 EUR to bob, thanks');
    const sealed = sealRecord(cipher, keys, msg, Buffer.alloc(0), randomBytes(16));
    const iv = Buffer.from(sealed.iv);
    iv[4] ^= '1'.charCodeAt(0) ^ '9'.charCodeAt(0);
    expect(openRecord(cipher, keys, { ...sealed, iv }, Buffer.alloc(0))!.toString()).toBe('PAY 900 EUR to bob, thanks');
  });
});

describe('null cipher', () => {
  it('the "ciphertext" is the plaintext', () => {
    const r = sealRecord('null', { encKey: Buffer.alloc(0), macKey: Buffer.alloc(0) }, Buffer.from('secret'), Buffer.alloc(0), Buffer.alloc(0));
    expect(r.ct.toString()).toBe('secret');
  });
});
