/**
 * Key exchange primitives of the secure channel, all from `node:crypto`:
 *
 * - X25519 (RFC 7748 §5, §6.1): private keys built from injected random bytes (PKCS#8, RFC 8410),
 *   public keys as the raw 32-byte u-coordinate.
 * - RSA-OAEP with SHA-256 and MGF1-SHA-256 (RFC 8017 §7.1) to wrap the rsa mode's secret.
 * - Signatures over the server's X25519 share for `ecdhe-signed`: RSA-PSS/SHA-256 with a 32-byte
 *   salt (RFC 8017 §8.1) for RSA keys, ECDSA/SHA-256 for EC keys, Ed25519 (RFC 8032) for Ed25519 keys.
 * - SPKI pins (`sha256/<base64>`, RFC 7469 §2.4) for reports.
 * @module
 */
import { constants, createHash, createPrivateKey, createPublicKey, diffieHellman, privateDecrypt, publicEncrypt, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { ERROR_CODES, UsageError } from '../errors.ts';

/** X25519 private and public key length in bytes. */
export const X25519_KEY_BYTES = 32;
/** Appended to the signed data so a share signature cannot be replayed in another protocol. */
export const SERVER_SHARE_CONTEXT = 'secchat-channel-v1 ecdhe-signed server share';
/** Signature schemes, by the certificate key type that makes them. */
export const SIGNATURE_SCHEMES = { rsa: 'rsa_pss_rsae_sha256', ec: 'ecdsa_sha256', ed25519: 'ed25519' } as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[keyof typeof SIGNATURE_SCHEMES];

// PKCS#8 PrivateKeyInfo for id-X25519 (1.3.101.110) up to the 32 key bytes (RFC 8410 §7).
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** An X25519 key pair. */
export interface X25519KeyPair {
  privateKey: KeyObject;
  /** the public u-coordinate, 32 bytes little-endian (RFC 7748 §5) */
  publicRaw: Buffer;
}

/**
 * Builds an X25519 key pair from 32 private key bytes (clamped by OpenSSL, RFC 7748 §5).
 * @param scalar 32 bytes, e.g. from the injected `randomBytes`
 */
export function x25519KeyPairFromScalar(scalar: Buffer): X25519KeyPair {
  if (scalar.length !== X25519_KEY_BYTES) throw new RangeError(`x25519KeyPairFromScalar: need ${X25519_KEY_BYTES} bytes, got ${scalar.length}`);
  const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, scalar]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return { privateKey, publicRaw: Buffer.from(jwk.x as string, 'base64url') };
}

/** An X25519 public key object from its raw 32 bytes. */
export function x25519PublicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/**
 * X25519(privateKey, peer share).
 * @returns the 32-byte shared secret, or null when the share is unusable (e.g. a low-order point,
 *          for which OpenSSL refuses the all-zero result, RFC 7748 §6.1)
 */
export function x25519SharedSecret(privateKey: KeyObject, peerRaw: Buffer): Buffer | null {
  if (peerRaw.length !== X25519_KEY_BYTES) return null;
  try {
    return diffieHellman({ privateKey, publicKey: x25519PublicKeyFromRaw(peerRaw) });
  } catch {
    return null;
  }
}

/** The bytes the server signs in `ecdhe-signed`: client random || server random || share || context. */
export function serverShareSignedData(clientRandom: Buffer, serverRandom: Buffer, serverShare: Buffer): Buffer {
  return Buffer.concat([clientRandom, serverRandom, serverShare, Buffer.from(SERVER_SHARE_CONTEXT, 'utf8')]);
}

/** The signature scheme a key makes, or null for key types the channel does not sign with. */
export function signatureSchemeFor(key: KeyObject): SignatureScheme | null {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return SIGNATURE_SCHEMES.rsa;
    case 'ec':
      return SIGNATURE_SCHEMES.ec;
    case 'ed25519':
      return SIGNATURE_SCHEMES.ed25519;
    default:
      return null;
  }
}

/**
 * Signs `data` with the server key.
 * @throws RangeError for a key type with no scheme (construction checks this first)
 */
export function signWithKey(privateKey: KeyObject, data: Buffer): { scheme: SignatureScheme; signature: Buffer } {
  const scheme = signatureSchemeFor(privateKey);
  if (scheme === SIGNATURE_SCHEMES.rsa) {
    return { scheme, signature: sign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }) };
  }
  if (scheme === SIGNATURE_SCHEMES.ec) return { scheme, signature: sign('sha256', data, privateKey) };
  if (scheme === SIGNATURE_SCHEMES.ed25519) return { scheme, signature: sign(null, data, privateKey) };
  throw new RangeError(`signWithKey: cannot sign with a ${privateKey.asymmetricKeyType} key`);
}

/**
 * Checks a signature made by {@link signWithKey}.
 * @returns true only when `scheme` is the one the key's type makes and the signature verifies
 */
export function verifyWithKey(publicKey: KeyObject, scheme: string, data: Buffer, signature: Buffer): boolean {
  if (signatureSchemeFor(publicKey) !== scheme) return false;
  try {
    if (scheme === SIGNATURE_SCHEMES.rsa) return verify('sha256', data, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
    if (scheme === SIGNATURE_SCHEMES.ec) return verify('sha256', data, publicKey, signature);
    return verify(null, data, publicKey, signature);
  } catch {
    return false;
  }
}

/** RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) encryption of `secret` to `publicKey`. */
export function rsaOaepWrap(publicKey: KeyObject, secret: Buffer): Buffer {
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, secret);
}

/**
 * Inverse of {@link rsaOaepWrap}.
 * @returns the secret, or null when decryption fails (wrong key, altered ciphertext)
 */
export function rsaOaepUnwrap(privateKey: KeyObject, wrapped: Buffer): Buffer | null {
  try {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrapped);
  } catch {
    return null;
  }
}

/** Parses a PEM certificate, or returns null when it is not one. */
export function parseCertificate(pem: string): X509Certificate | null {
  try {
    return new X509Certificate(pem);
  } catch {
    return null;
  }
}

/** Checked server identities by PEM pair (bounded: a process serves a handful of identities). */
const identities = new Map<string, { cert: X509Certificate; key: KeyObject }>();
const MAX_CACHED_IDENTITIES = 32;

/**
 * Parses a channel server's certificate and private key and checks that the key is the
 * certificate's. A server does this once per identity, not on each connection (parsing and the
 * key check cost ~1 ms of CPU per connection otherwise); only a successful check is remembered.
 * @returns the certificate and key objects
 * @throws UsageError naming `options.serverCert.keyPem` / `.certPem` when one is unreadable, or
 *         when the key is not the certificate's
 */
export function checkedServerIdentity(certPem: string, keyPem: string): { cert: X509Certificate; key: KeyObject } {
  const id = `${certPem}\0${keyPem}`;
  const known = identities.get(id);
  if (known) return known;
  const cert = parseCertificate(certPem);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new UsageError(ERROR_CODES.USAGE, `options.serverCert.keyPem: not a readable private key (${(err as Error).message})`);
  }
  if (!cert) throw new UsageError(ERROR_CODES.USAGE, 'options.serverCert.certPem: not a PEM certificate');
  if (!cert.checkPrivateKey(key)) throw new UsageError(ERROR_CODES.USAGE, 'options.serverCert: keyPem is not the key of certPem');
  if (identities.size >= MAX_CACHED_IDENTITIES) identities.delete(identities.keys().next().value as string);
  identities.set(id, { cert, key });
  return { cert, key };
}

/** The SPKI pin of a public key: `sha256/` + base64(SHA-256(DER SubjectPublicKeyInfo)). */
export function spkiPin(publicKey: KeyObject): string {
  return 'sha256/' + createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
}
