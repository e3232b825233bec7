/**
 * The attacker's certificates for a target: the names its client expects (a DNS name, or an IP
 * address as an iPAddress SAN, RFC 5280 §4.2.1.6) on a certificate the attacker issues itself.
 * Shared by every target variant that terminates the student's TLS.
 */
import { issueCertificate, NOT_BEFORE_BACKDATE_MS } from '../../core/pki.ts';
import { isIpAddress } from '../../core/tls/certificate-verification.ts';
import type { CertKeyPem } from '../../core/tls/node-options.ts';
import type { Target } from '../../core/target.ts';

/** The names the attacker's certificates carry for a target: the name its client expects, and the loopback address. */
export function targetNames(t: Target): { commonName: string; dnsNames: string[]; ipAddresses: string[] } {
  const n = t.client.expectServerName;
  return isIpAddress(n) ? { commonName: n, dnsNames: [], ipAddresses: [n] } : { commonName: n, dnsNames: [n], ipAddresses: ['127.0.0.1'] };
}

/** A certificate valid now for ~a month, signed by `issuer` (null: self-signed). */
export function attackerCertFor(t: Target, issuer: CertKeyPem | null, names = targetNames(t)): CertKeyPem {
  const now = Date.now();
  return issueCertificate({ ...names, issuer, notBefore: new Date(now - NOT_BEFORE_BACKDATE_MS), notAfter: new Date(now + 30 * 86_400_000) });
}
