/**
 * The TLS 1.2 Certificate handshake message (RFC 5246 §7.4.2): a 3-byte-length list of DER
 * certificates, the leaf first. Verifying what it carries is `certificate-verification.ts`.
 */
import { Cursor } from './byte-cursor.ts';

/**
 * A TLS 1.2 Certificate message (RFC 5246 §7.4.2): DER certificates, the leaf first.
 * (TLS 1.3's Certificate has a context and per-entry extensions and is encrypted anyway.)
 * @throws ProtocolError on truncation or trailing bytes.
 */
export function parseCertificateTls12(body: Buffer): Buffer[] {
  const c = new Cursor(body, 'Certificate');
  const list = new Cursor(c.vec(3, 'certificate_list'), 'Certificate');
  c.end();
  const certs: Buffer[] = [];
  while (list.remaining > 0) certs.push(list.vec(3, 'ASN.1Cert'));
  return certs;
}
