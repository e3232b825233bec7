/**
 * TLS ≤ 1.2 key exchange messages: the RSA ClientKeyExchange (RFC 5246 §7.4.7.1), the ECDHE
 * ServerKeyExchange (RFC 8422 §5.4) and the DHE one (RFC 5246 §7.4.3). TLS 1.3 carries its key
 * exchange in key_share (`client-hello.ts`, `server-hello.ts`).
 */
import { ProtocolError } from '../errors.ts';
import { Cursor } from './byte-cursor.ts';
import { groupName, type NamedValue } from './registry.ts';

/**
 * RSA ClientKeyExchange (RFC 5246 §7.4.7.1): the pre-master secret encrypted to the server's
 * certificate key, behind a 2-byte length (TLS 1.0+; SSLv3 had none, and is not handled).
 * @throws ProtocolError on truncation or trailing bytes.
 */
export function parseClientKeyExchangeRsa(body: Buffer): { encryptedPreMasterSecret: Buffer } {
  const c = new Cursor(body, 'ClientKeyExchange');
  const encryptedPreMasterSecret = c.vec(2, 'encrypted_pre_master_secret');
  c.end();
  return { encryptedPreMasterSecret };
}

/** An ECDHE ServerKeyExchange (RFC 8422 §5.4): the server's ephemeral public point, signed. */
export interface EcdheServerKeyExchange {
  /** 3 = named_curve, the only type still allowed (RFC 8422 §5.4). */
  curveType: number;
  group: NamedValue;
  publicKey: Buffer;
  /** TLS 1.2 SignatureScheme (RFC 5246 §7.4.1.4.1); undefined before TLS 1.2. */
  signatureAlgorithm?: number;
  signature: Buffer;
}

/**
 * Decode an ECDHE ServerKeyExchange body.
 * @param version the negotiated version: TLS 1.2 adds the 2-byte signature algorithm.
 * @throws ProtocolError on truncation, trailing bytes, or a curve type other than named_curve.
 */
export function parseServerKeyExchangeEcdhe(body: Buffer, version = 0x0303): EcdheServerKeyExchange {
  const c = new Cursor(body, 'ServerKeyExchange');
  const curveType = c.u8('curve_type');
  if (curveType !== 3) {
    throw new ProtocolError(`ServerKeyExchange: curve type ${curveType} is not named_curve`, { field: 'ServerKeyExchange.curve_type', value: curveType });
  }
  const id = c.u16('namedcurve');
  const publicKey = c.vec(1, 'public');
  return { curveType, group: { id, name: groupName(id) }, publicKey, ...readSignature(c, version) };
}

/** A DHE ServerKeyExchange (RFC 5246 §7.4.3): explicit finite-field parameters, signed. */
export interface DheServerKeyExchange {
  p: Buffer;
  g: Buffer;
  publicKey: Buffer;
  /** Size of the prime in bits, leading zero bytes ignored. */
  primeBits: number;
  signatureAlgorithm?: number;
  signature: Buffer;
}

/**
 * Decode a DHE ServerKeyExchange body.
 * @param version the negotiated version: TLS 1.2 adds the 2-byte signature algorithm.
 * @throws ProtocolError on truncation or trailing bytes.
 */
export function parseServerKeyExchangeDhe(body: Buffer, version = 0x0303): DheServerKeyExchange {
  const c = new Cursor(body, 'ServerKeyExchange');
  const p = c.vec(2, 'dh_p');
  const g = c.vec(2, 'dh_g');
  const publicKey = c.vec(2, 'dh_Ys');
  const signed = readSignature(c, version);
  let first = 0;
  while (first < p.length && p[first] === 0) first++;
  const primeBits = first === p.length ? 0 : (p.length - first - 1) * 8 + (32 - Math.clz32(p[first]!));
  return { p, g, publicKey, primeBits, ...signed };
}

/**
 * The signature that ends a ServerKeyExchange: a `digitally-signed` struct (RFC 5246 §4.7), whose
 * 2-byte SignatureAndHashAlgorithm exists from TLS 1.2 on (§7.4.1.4.1), then the 2-byte-length
 * signature; nothing may follow it.
 * @param version the negotiated version (0x0303 = TLS 1.2)
 * @throws ProtocolError on truncation or trailing bytes
 */
function readSignature(c: Cursor, version: number): { signatureAlgorithm?: number; signature: Buffer } {
  const signatureAlgorithm = version >= 0x0303 ? c.u16('signature_algorithm') : undefined;
  const signature = c.vec(2, 'signature');
  c.end();
  return { signatureAlgorithm, signature };
}
