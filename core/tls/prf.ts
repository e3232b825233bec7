/**
 * The TLS 1.0–1.2 key schedule, pure functions over buffers: the TLS 1.2 PRF (RFC 5246 §5) and the
 * TLS 1.0/1.1 MD5⊕SHA-1 PRF (RFC 2246 §5), the master secret (RFC 5246 §8.1) and the extended
 * master secret from the session hash (RFC 7627 §4), the key block (RFC 5246 §6.3) and Finished
 * verify_data (RFC 5246 §7.4.9). Record protection with these keys: `record-protection.ts`.
 *
 * Used offline by the retro-decrypt attack: nothing here is constant-time, because it is never run
 * against a live peer.
 */
import { createHash, createHmac } from 'node:crypto';
import { BULK_CIPHER_SIZES, HASH_BYTES, type BulkCipher, type HashName } from './cipher-suites.ts';

/** The PRF in force: SHA-256 / SHA-384 for TLS 1.2 (per suite), MD5⊕SHA-1 for TLS 1.0 and 1.1. */
export type PrfKind = 'SHA256' | 'SHA384' | 'MD5SHA1';

/** node:crypto names of the hashes the PRF and record MACs use. */
export const NODE_HASH: Record<HashName | 'MD5', string> = { SHA1: 'sha1', SHA256: 'sha256', SHA384: 'sha384', MD5: 'md5' };

/**
 * P_hash (RFC 5246 §5): HMAC_hash(secret, A(i) + seed) for A(0) = seed, A(i) = HMAC(secret, A(i-1)),
 * concatenated and cut to `length` bytes.
 */
export function pHash(hash: HashName | 'MD5', secret: Buffer, seed: Buffer, length: number): Buffer {
  const alg = NODE_HASH[hash];
  const out: Buffer[] = [];
  let total = 0;
  let a = seed;
  while (total < length) {
    a = createHmac(alg, secret).update(a).digest();
    const block = createHmac(alg, secret).update(a).update(seed).digest();
    out.push(block);
    total += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/**
 * PRF(secret, label, seed) of the given kind, `length` bytes.
 * TLS 1.2 (RFC 5246 §5): P_<hash>(secret, label + seed).
 * TLS 1.0/1.1 (RFC 2246 §5): P_MD5(S1, label + seed) XOR P_SHA-1(S2, label + seed), where S1 and S2
 * are the two halves of the secret (sharing the middle byte when its length is odd).
 * @param label ASCII, e.g. "master secret"
 */
export function prf(kind: PrfKind, secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'ascii'), seed]);
  if (kind !== 'MD5SHA1') return pHash(kind, secret, labelSeed, length);
  const half = Math.ceil(secret.length / 2);
  const md5 = pHash('MD5', secret.subarray(0, half), labelSeed, length);
  const sha = pHash('SHA1', secret.subarray(secret.length - half), labelSeed, length);
  for (let i = 0; i < length; i++) md5[i]! ^= sha[i]!;
  return md5;
}

/** The PRF for a negotiated version and suite PRF hash: MD5⊕SHA-1 before TLS 1.2. */
export function prfKindFor(version: number, suitePrfHash: 'SHA256' | 'SHA384'): PrfKind {
  return version >= 0x0303 ? suitePrfHash : 'MD5SHA1';
}

/**
 * Hash of handshake messages as the PRF kind defines it: the suite hash in TLS 1.2, MD5 || SHA-1
 * (36 bytes) before (RFC 2246 §7.4.9). Used for the session hash (RFC 7627 §3) and Finished.
 */
export function handshakeHash(kind: PrfKind, transcript: Buffer): Buffer {
  if (kind !== 'MD5SHA1') return createHash(NODE_HASH[kind]).update(transcript).digest();
  return Buffer.concat([createHash('md5').update(transcript).digest(), createHash('sha1').update(transcript).digest()]);
}

/** master_secret = PRF(pre_master_secret, "master secret", ClientHello.random + ServerHello.random)[0..47] (RFC 5246 §8.1). */
export function masterSecret(kind: PrfKind, preMasterSecret: Buffer, clientRandom: Buffer, serverRandom: Buffer): Buffer {
  return prf(kind, preMasterSecret, 'master secret', Buffer.concat([clientRandom, serverRandom]), 48);
}

/**
 * master_secret = PRF(pre_master_secret, "extended master secret", session_hash)[0..47] (RFC 7627 §4),
 * where session_hash = Hash(handshake messages up to and including ClientKeyExchange) (§3).
 */
export function extendedMasterSecret(kind: PrfKind, preMasterSecret: Buffer, sessionHash: Buffer): Buffer {
  return prf(kind, preMasterSecret, 'extended master secret', sessionHash, 48);
}

/** Keys of one direction of a TLS ≤ 1.2 connection. Empty buffers where the suite needs none. */
export interface DirectionKeys {
  macKey: Buffer;
  key: Buffer;
  /** GCM: the 4-byte implicit salt; ChaCha20: the 12-byte nonce mask; CBC in TLS 1.0: the first IV. */
  iv: Buffer;
}

/**
 * Split the key block (RFC 5246 §6.3): PRF(master_secret, "key expansion", server_random +
 * client_random) into client MAC key, server MAC key, client key, server key, client IV, server IV.
 * CBC suites take IVs from the block only in TLS 1.0 (later versions send an explicit IV per record).
 */
export function deriveKeys(
  kind: PrfKind,
  version: number,
  cipher: BulkCipher,
  mac: HashName | null,
  master: Buffer,
  clientRandom: Buffer,
  serverRandom: Buffer,
): { client: DirectionKeys; server: DirectionKeys } {
  const sizes = BULK_CIPHER_SIZES[cipher];
  const macBytes = mac ? HASH_BYTES[mac] : 0;
  const ivBytes = sizes.blockBytes > 0 ? (version <= 0x0301 ? sizes.blockBytes : 0) : sizes.fixedIvBytes;
  const block = prf(kind, master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * (macBytes + sizes.keyBytes + ivBytes));
  let at = 0;
  const take = (n: number) => block.subarray(at, (at += n));
  const clientMac = take(macBytes);
  const serverMac = take(macBytes);
  const clientKey = take(sizes.keyBytes);
  const serverKey = take(sizes.keyBytes);
  const clientIv = take(ivBytes);
  const serverIv = take(ivBytes);
  return { client: { macKey: clientMac, key: clientKey, iv: clientIv }, server: { macKey: serverMac, key: serverKey, iv: serverIv } };
}

/** verify_data = PRF(master_secret, "client finished" | "server finished", Hash(handshake))[0..11] (RFC 5246 §7.4.9). */
export function finishedVerifyData(kind: PrfKind, master: Buffer, sender: 'client' | 'server', transcriptHash: Buffer): Buffer {
  return prf(kind, master, `${sender} finished`, transcriptHash, 12);
}
