/**
 * Whether the certificate chain a server is configured to send can be completed to a
 * self-signed root (RFC 5280 §6.1 path building, by name and signature only): a server that
 * leaves out its intermediate is refused by every client that does not happen to hold it
 * (RFC 8446 §4.4.2: the sender's certificate comes first, each following one certifies the one
 * before it; the root may be left out).
 */
import { X509Certificate } from 'node:crypto';
import { ERROR_CODES, SecchatError } from './errors.ts';
import { distinguishedNameText } from './tls/distinguished-name.ts';

/** Most certificates followed when building a path; real chains are 2–4 long. */
export const MAX_CHAIN_LENGTH = 10;

/**
 * The certificates of a PEM bundle, in file order.
 * @throws SecchatError(PKI) when a block is not a readable certificate
 */
export function pemCertificates(text: string): X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new SecchatError(ERROR_CODES.PKI, `certificate ${i + 1} of the bundle is not readable PEM`, {}, { cause: err });
    }
  });
}

/** Where a chain stops short of a root: the last certificate reached and the issuer nobody has. */
export interface ChainGap {
  /** Subject of the last certificate the path reached (one line, comma separated). */
  last: string;
  /** Its issuer's name: the certificate that is missing. */
  missingIssuer: string;
}

const oneLine = (dn: string) => distinguishedNameText(dn);

/**
 * Follows the chain from the served leaf (the first certificate of `servedPem`) through the
 * served certificates and `knownCaPems` (e.g. the lab CA) until a self-signed certificate.
 * @returns null when a self-signed root is reached, else where the path stops
 * @throws SecchatError(PKI) when `servedPem` holds no certificate
 */
export function chainGap(servedPem: string, knownCaPems: readonly string[] = []): ChainGap | null {
  const served = pemCertificates(servedPem);
  if (served.length === 0) throw new SecchatError(ERROR_CODES.PKI, 'the server certificate file holds no PEM certificate');
  const pool = [...served.slice(1), ...knownCaPems.flatMap(pemCertificates)];
  let current = served[0]!;
  for (let i = 0; i < MAX_CHAIN_LENGTH; i++) {
    if (current.subject === current.issuer && current.verify(current.publicKey)) return null;
    const next = pool.find((c) => current.checkIssued(c) && current.verify(c.publicKey));
    if (!next) return { last: oneLine(current.subject), missingIssuer: oneLine(current.issuer) };
    current = next;
  }
  return { last: oneLine(current.subject), missingIssuer: oneLine(current.issuer) };
}
