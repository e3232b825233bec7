import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveKeys, extendedMasterSecret, masterSecret, prf } from '../core/tls/prf.ts';
import { RecordDecryptor, protectRecord, type RecordProtection } from '../core/tls/record-protection.ts';
import { BULK_CIPHER_SIZES, type BulkCipher, type HashName } from '../core/tls/cipher-suites.ts';

const h = (s: string) => Buffer.from(s, 'hex');

describe('TLS PRF (RFC 5246 §5)', () => {
  // The "TLS 1.2 PRF" test vectors posted to the IETF TLS list (widely reused by TLS libraries).
  // Both outputs were re-derived here with an independent python3 hmac P_hash before being trusted.
  it('P_SHA256 vector: 100 bytes for "test label"', () => {
    const out = prf('SHA256', h('9bbe436ba940f017b17652849a71db35'), 'test label', h('a0ba9f936cda311827a6f796ffd5198c'), 100);
    expect(out.toString('hex')).toBe(
      'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab' +
        '4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
    );
  });

  it('P_SHA384 vector: 148 bytes for "test label"', () => {
    const out = prf('SHA384', h('b80b733d6ceefcdc71566ea48e5567df'), 'test label', h('cd665cf6a8447dd6ff8b27555edb7465'), 148);
    expect(out.toString('hex')).toBe(
      '7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd' +
        '8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d9184259b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6' +
        '91c8f3a26854308d5eaa3be85e0990703d73e56f',
    );
  });

  it('TLS 1.0 MD5⊕SHA-1 PRF with an odd-length secret (halves share the middle byte), cross-checked with python3', () => {
    const secret = Buffer.from(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(prf('MD5SHA1', secret, 'master secret', Buffer.from('seedseed'), 40).toString('hex')).toBe(
      'c6e7ba1c5369ed35485a413490b24337552f0dbc4d48a6b76b28f93da5eaf72bef5310974ab96255',
    );
  });

  it('a prefix of a longer output equals the shorter output; master secrets are 48 bytes and differ', () => {
    const s = randomBytes(48);
    expect(prf('SHA256', s, 'x', Buffer.from('y'), 20)).toEqual(prf('SHA256', s, 'x', Buffer.from('y'), 77).subarray(0, 20));
    const classic = masterSecret('SHA256', s, randomBytes(32), randomBytes(32));
    const ems = extendedMasterSecret('SHA256', s, randomBytes(32));
    expect(classic.length).toBe(48);
    expect(ems.length).toBe(48);
    expect(classic.equals(ems)).toBe(false);
  });
});

describe('key block (RFC 5246 §6.3)', () => {
  it('splits MAC keys, keys and IVs in order, with IVs only for GCM and TLS 1.0 CBC', () => {
    const ms = randomBytes(48);
    const cr = randomBytes(32);
    const sr = randomBytes(32);
    const gcm = deriveKeys('SHA256', 0x0303, 'AES-128-GCM', null, ms, cr, sr);
    const block = prf('SHA256', ms, 'key expansion', Buffer.concat([sr, cr]), 40);
    expect(Buffer.concat([gcm.client.key, gcm.server.key, gcm.client.iv, gcm.server.iv])).toEqual(block);
    expect(gcm.client.macKey.length).toBe(0);
    const cbc12 = deriveKeys('SHA256', 0x0303, 'AES-256-CBC', 'SHA1', ms, cr, sr);
    expect([cbc12.client.macKey.length, cbc12.client.key.length, cbc12.client.iv.length]).toEqual([20, 32, 0]);
    const cbc10 = deriveKeys('MD5SHA1', 0x0301, 'AES-128-CBC', 'SHA1', ms, cr, sr);
    expect(cbc10.server.iv.length).toBe(16);
  });
});

describe('record unprotection (RFC 5288, RFC 5246 §6.2.3.2, RFC 7366, RFC 7905)', () => {
  const variants: Array<{ cipher: BulkCipher; mac: HashName | null; etm: boolean }> = [
    { cipher: 'AES-128-GCM', mac: null, etm: false },
    { cipher: 'AES-256-GCM', mac: null, etm: false },
    { cipher: 'CHACHA20-POLY1305', mac: null, etm: false },
    { cipher: 'AES-128-CBC', mac: 'SHA1', etm: false },
    { cipher: 'AES-256-CBC', mac: 'SHA256', etm: false },
    { cipher: 'AES-128-CBC', mac: 'SHA256', etm: true },
    { cipher: 'AES-256-CBC', mac: 'SHA384', etm: true },
  ];
  const protection = (v: (typeof variants)[number]): RecordProtection => {
    const sizes = BULK_CIPHER_SIZES[v.cipher];
    return {
      version: 0x0303,
      cipher: v.cipher,
      mac: v.mac,
      encryptThenMac: v.etm,
      keys: { key: randomBytes(sizes.keyBytes), iv: randomBytes(sizes.fixedIvBytes), macKey: randomBytes(v.mac ? { SHA1: 20, SHA256: 32, SHA384: 48 }[v.mac] : 0) },
    };
  };

  for (const v of variants) {
    const label = `${v.cipher}${v.mac ? `-${v.mac}` : ''}${v.etm ? ' encrypt-then-MAC' : ''}`;
    it(`${label}: round-trips in sequence, and any flipped bit is rejected, not thrown`, () => {
      const p = protection(v);
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 }), fc.nat(), (plaintexts, flipSeed) => {
          const dec = new RecordDecryptor(p);
          const records = plaintexts.map((pt, i) => protectRecord(p, BigInt(i), 23, 0x0303, Buffer.from(pt), randomBytes(16)));
          records.forEach((rec, i) => {
            const r = dec.unprotect(23, 0x0303, rec);
            expect(r.ok && r.plaintext.equals(Buffer.from(plaintexts[i]!))).toBe(true);
          });
          // A fresh decryptor at the right sequence number rejects a tampered copy of record 0.
          const tampered = Buffer.from(records[0]!);
          const bit = flipSeed % (tampered.length * 8);
          tampered[bit >> 3]! ^= 1 << (bit & 7);
          const r = new RecordDecryptor(p).unprotect(23, 0x0303, tampered);
          expect(r.ok).toBe(false);
        }),
        { numRuns: 40 },
      );
    });
  }

  it('the sequence number and the record type are authenticated', () => {
    for (const v of variants) {
      const p = protection(v);
      const rec = protectRecord(p, 1n, 23, 0x0303, Buffer.from('hello'), randomBytes(16));
      expect(new RecordDecryptor(p).unprotect(23, 0x0303, rec).ok).toBe(false); // decryptor is at seq 0
      const dec = new RecordDecryptor(p);
      dec.unprotect(23, 0x0303, Buffer.alloc(64)); // consume seq 0 (garbage, rejected)
      expect(dec.unprotect(21, 0x0303, rec).ok).toBe(false);
    }
  });

  it('CBC: padding bytes must all equal the padding length, even when the MAC is right', () => {
    // Hand-built MAC-then-encrypt record: content + HMAC + padding (RFC 5246 §6.2.3.2).
    const macKey = randomBytes(32);
    const key = randomBytes(16);
    const p: RecordProtection = { version: 0x0303, cipher: 'AES-128-CBC', mac: 'SHA256', encryptThenMac: false, keys: { key, iv: Buffer.alloc(0), macKey } };
    const content = Buffer.from('twelve bytes');
    const header = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 23, 3, 3, 0, content.length]);
    const mac = createHmac('sha256', macKey).update(header).update(content).digest();
    const build = (padding: Buffer) => {
      const iv = randomBytes(16);
      const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
      return Buffer.concat([iv, c.update(Buffer.concat([content, mac, padding])), c.final()]);
    };
    // 12 + 32 = 44 bytes; 4 bytes of padding (3 + length byte) make 48.
    const good = new RecordDecryptor(p).unprotect(23, 0x0303, build(Buffer.from([3, 3, 3, 3])));
    expect(good.ok && good.plaintext.equals(content)).toBe(true);
    expect(new RecordDecryptor(p).unprotect(23, 0x0303, build(Buffer.from([3, 9, 3, 3])))).toMatchObject({ ok: false, reason: expect.stringMatching(/padding/) });
    expect(new RecordDecryptor(p).unprotect(23, 0x0303, build(Buffer.from([0, 0, 0, 0])))).toMatchObject({ ok: false });
  });

  it('reports short or misaligned records as failures', () => {
    const gcm = new RecordDecryptor(protection(variants[0]!));
    expect(gcm.unprotect(23, 0x0303, Buffer.alloc(10))).toMatchObject({ ok: false, reason: expect.stringMatching(/too short/) });
    const cbc = new RecordDecryptor(protection(variants[3]!));
    expect(cbc.unprotect(23, 0x0303, Buffer.alloc(16 + 17))).toMatchObject({ ok: false, reason: expect.stringMatching(/blocks/) });
  });
});
