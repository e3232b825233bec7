import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveSessionKeys, hkdfSha256 } from '../core/channel/kdf.ts';
import { x25519KeyPairFromScalar, x25519SharedSecret } from '../core/channel/keyexchange.ts';
import { CHANNEL_CIPHERS } from '../core/profile.ts';
import { CHANNEL_CIPHER_SPECS } from '../core/channel/ciphers.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('HKDF-SHA256 (RFC 5869 appendix A)', () => {
  it('test case 1', () => {
    const okm = hkdfSha256(Buffer.alloc(22, 0x0b), hex('000102030405060708090a0b0c'), hex('f0f1f2f3f4f5f6f7f8f9'), 42);
    expect(okm.toString('hex')).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });
  it('test case 3 (empty salt and info)', () => {
    const okm = hkdfSha256(Buffer.alloc(22, 0x0b), Buffer.alloc(0), Buffer.alloc(0), 42);
    expect(okm.toString('hex')).toBe('8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8');
  });
});

describe('X25519 (RFC 7748 §6.1) through node:crypto key objects', () => {
  const alicePriv = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const alicePub = hex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  const bobPriv = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  const bobPub = hex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
  const jwkPrivate = (d: Buffer, x: Buffer) => createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: d.toString('base64url'), x: x.toString('base64url') }, format: 'jwk' });
  const jwkPublic = (x: Buffer) => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: x.toString('base64url') }, format: 'jwk' });

  it('both sides compute K from JWK-built keys', () => {
    expect(diffieHellman({ privateKey: jwkPrivate(alicePriv, alicePub), publicKey: jwkPublic(bobPub) }).toString('hex')).toBe(shared);
    expect(diffieHellman({ privateKey: jwkPrivate(bobPriv, bobPub), publicKey: jwkPublic(alicePub) }).toString('hex')).toBe(shared);
  });

  it("the channel's scalar-built key pair gives the RFC public key and shared secret", () => {
    const alice = x25519KeyPairFromScalar(alicePriv);
    const bob = x25519KeyPairFromScalar(bobPriv);
    expect(alice.publicRaw.toString('hex')).toBe(alicePub.toString('hex'));
    expect(bob.publicRaw.toString('hex')).toBe(bobPub.toString('hex'));
    expect(x25519SharedSecret(alice.privateKey, bobPub)?.toString('hex')).toBe(shared);
  });

  it('refuses a low-order share (all-zero output) and a wrong-length share', () => {
    const alice = x25519KeyPairFromScalar(alicePriv);
    expect(x25519SharedSecret(alice.privateKey, Buffer.alloc(32))).toBeNull();
    expect(x25519SharedSecret(alice.privateKey, Buffer.alloc(31, 9))).toBeNull();
  });
});

describe('key schedule', () => {
  const ikm = Buffer.alloc(32, 7);
  const cr = Buffer.alloc(32, 1);
  const sr = Buffer.alloc(32, 2);

  it.each(CHANNEL_CIPHERS)('%s: key lengths follow the cipher table, directions and finished keys all differ', (cipher) => {
    const k = deriveSessionKeys(ikm, cr, sr, cipher);
    const spec = CHANNEL_CIPHER_SPECS[cipher];
    expect(k.clientToServer.encKey.length).toBe(spec.keyBytes);
    expect(k.serverToClient.macKey.length).toBe(spec.macKeyBytes);
    if (spec.keyBytes) expect(k.clientToServer.encKey.equals(k.serverToClient.encKey)).toBe(false);
    if (spec.macKeyBytes) expect(k.clientToServer.macKey.equals(k.serverToClient.macKey)).toBe(false);
    expect(k.clientFinishedKey.equals(k.serverFinishedKey)).toBe(false);
  });

  it('is the documented HKDF call (salt = client random || server random, labelled info)', () => {
    const k = deriveSessionKeys(ikm, cr, sr, 'aes-256-gcm');
    expect(k.clientToServer.encKey.equals(hkdfSha256(ikm, Buffer.concat([cr, sr]), Buffer.from('secchat-channel-v1 c2s key aes-256-gcm'), 32))).toBe(true);
    expect(k.serverFinishedKey.equals(hkdfSha256(ikm, Buffer.concat([cr, sr]), Buffer.from('secchat-channel-v1 s finished'), 32))).toBe(true);
  });

  it('swapping the randoms changes every key', () => {
    const a = deriveSessionKeys(ikm, cr, sr, 'aes-128-gcm');
    const b = deriveSessionKeys(ikm, sr, cr, 'aes-128-gcm');
    expect(a.clientToServer.encKey.equals(b.clientToServer.encKey)).toBe(false);
  });
});
