/**
 * The stolen server key of retro-decrypt: loading it (RSA only: only RSA key transport can be
 * opened with it) and the RSAES-PKCS1-v1_5 decryption of a recorded pre-master secret
 * (RFC 8017 §7.2.2, RFC 5246 §7.4.7.1).
 * @module
 */
import { constants, createPrivateKey, createPublicKey, privateDecrypt, type KeyObject } from 'node:crypto';
import { ERROR_CODES, SecchatError } from '../../core/errors.ts';

/**
 * Load the stolen key.
 * @throws SecchatError(PKI) when the PEM is not an RSA private key node can read.
 */
export function loadRsaKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new SecchatError(ERROR_CODES.PKI, 'the stolen server key is not a readable PEM private key', {}, { cause: err });
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new SecchatError(ERROR_CODES.PKI, `the stolen server key is ${key.asymmetricKeyType}, not RSA: it cannot decrypt a key exchange`, {
      keyType: key.asymmetricKeyType,
    });
  }
  return key;
}

/**
 * RSAES-PKCS1-v1_5 decryption (RFC 8017 §7.2.2). Node 20 refuses RSA_PKCS1_PADDING in
 * privateDecrypt (the Marvin-attack mitigation), so do the raw RSA operation and unpad by hand:
 * EM = 0x00 || 0x02 || PS (≥ 8 non-zero bytes) || 0x00 || M. Offline, so timing does not matter.
 * @returns M, or null when the padding is wrong.
 */
export function rsaPkcs1v15Decrypt(key: KeyObject, ciphertext: Buffer): Buffer | null {
  let em: Buffer;
  try {
    em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ciphertext);
  } catch {
    return null; // wrong length or ciphertext ≥ modulus
  }
  if (em[0] !== 0x00 || em[1] !== 0x02) return null;
  const sep = em.indexOf(0x00, 2);
  if (sep < 10) return null; // no separator, or PS shorter than 8 bytes
  return em.subarray(sep + 1);
}

/** The DER SubjectPublicKeyInfo of a key (of its public half, for a private key). */
export function spkiOf(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' });
}
