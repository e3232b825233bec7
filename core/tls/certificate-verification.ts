/**
 * Verifies a server certificate the way the profile says (none / CA / CA + hostname / SPKI pin),
 * naming the reason on refusal: chain (RFC 5280 §6.1, by OpenSSL), hostname (RFC 6125 §6.4) and
 * SPKI pin (RFC 7469 §2.4). The node:tls options that go with it: `node-options.ts`.
 *
 * Why verification happens after the handshake here rather than with `rejectUnauthorized`: node
 * only runs `checkServerIdentity` when the chain already verified, and destroys the socket before
 * we can read the certificate's names or dates. We connect with `rejectUnauthorized: false`, then
 * check `authorized`/`authorizationError` (OpenSSL's chain verdict against our `ca` list), the
 * hostname (RFC 6125 via X509Certificate.checkHost) and the pin (RFC 7469 §2.4) before a single
 * application byte is sent or read.
 */
import net from 'node:net';
import type tls from 'node:tls';
import forge from 'node-forge';
import { X509Certificate, createHash } from 'node:crypto';
import { CertificateError, ERROR_CODES } from '../errors.ts';
import type { Profile } from '../profile.ts';
import { distinguishedNameText } from './distinguished-name.ts';

/** What the client trusts: CA certificates (PEM) and the SPKI pin, resolved from the profile. */
export interface ClientTrust {
  /** CA certificates for `verify: ca` (lab CA, plus any a scenario injected, e.g. a rogue root). */
  caPems: string[];
  /** `sha256/<base64>` for `verify: pin`. */
  pin?: string;
}

/** True for an IPv4 or IPv6 literal. */
export function isIpAddress(host: string): boolean {
  return net.isIP(host) !== 0;
}

/** `sha256/<base64>` of the DER SubjectPublicKeyInfo (RFC 7469 §2.4). */
export function spkiPinOf(cert: X509Certificate): string {
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  return 'sha256/' + createHash('sha256').update(der).digest('base64');
}

const OPENSSL_CODE_REASON: Record<string, { code: (typeof ERROR_CODES)[keyof typeof ERROR_CODES]; reason: string }> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: { code: ERROR_CODES.CERT_SELF_SIGNED, reason: 'self-signed certificate' },
  SELF_SIGNED_CERT_IN_CHAIN: { code: ERROR_CODES.CERT_UNKNOWN_CA, reason: 'unknown CA (self-signed root in chain)' },
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: { code: ERROR_CODES.CERT_UNKNOWN_CA, reason: 'unknown CA' },
  UNABLE_TO_GET_ISSUER_CERT: { code: ERROR_CODES.CERT_UNKNOWN_CA, reason: 'unknown CA' },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: { code: ERROR_CODES.CERT_UNKNOWN_CA, reason: 'unknown CA' },
  CERT_HAS_EXPIRED: { code: ERROR_CODES.CERT_EXPIRED, reason: 'certificate expired' },
  CERT_NOT_YET_VALID: { code: ERROR_CODES.CERT_NOT_YET_VALID, reason: 'certificate not yet valid' },
  INVALID_CA: { code: ERROR_CODES.CERT_INVALID, reason: 'issuer is not a valid CA (OpenSSL refused it as an issuer: basicConstraints CA:FALSE or no keyCertSign)' },
  INVALID_PURPOSE: { code: ERROR_CODES.CERT_INVALID, reason: 'wrong extended key usage: not issued for TLS servers' },
  CA_MD_TOO_WEAK: { code: ERROR_CODES.CERT_INVALID, reason: 'signature digest too weak (SHA-1 or MD5)' },
};
// No EE_KEY_TOO_SMALL / CA_KEY_TOO_SMALL: node names neither (both arrive as UNSPECIFIED), and the
// key size is judged here (keySizeRefusal) for every verifying profile anyway.

/**
 * Smallest RSA key a verifying client accepts, in bits (NIST SP 800-131A Rev. 2; CA/Browser Forum
 * Baseline Requirements §6.1.5); DSA keys are held to the same size (SP 800-131A disallows DSA
 * under 2048 bits too). OpenSSL enforces it only from security level 2, and profiles that allow
 * TLS 1.0 must run at level 0, so the check is made here, for every verifying profile.
 */
export const MIN_RSA_KEY_BITS = 2048;

/** Signature algorithms OpenSSL 3 refuses at security level 1 and above (RFC 6194, RFC 9155): OIDs. */
const WEAK_SIGNATURE_OIDS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10040.4.3': 'dsa-with-sha1',
};

/** The certificate's outer signatureAlgorithm OID (RFC 5280 §4.1.1.2), or null when unreadable. */
export function signatureAlgorithmOid(cert: X509Certificate): string | null {
  try {
    const asn = forge.asn1.fromDer(forge.util.createBuffer(cert.raw.toString('binary')));
    const alg = (asn.value as forge.asn1.Asn1[])[1]!;
    return forge.asn1.derToOid((alg.value as forge.asn1.Asn1[])[0]!.value as string);
  } catch {
    return null;
  }
}

/**
 * node reports several OpenSSL chain errors as UNSPECIFIED (it names only some X509_V_ERR codes).
 * Recover the ones the certificate gallery teaches from what the client can see: a weak signature
 * digest on the leaf, or a leaf whose issuer is none of the trusted roots (a leaf used as a CA:
 * node drops such an issuer from the chain it returns, so the presented chain cannot show it).
 */
function diagnoseUnspecified(leaf: X509Certificate, trust: ClientTrust): string {
  const oid = signatureAlgorithmOid(leaf);
  if (oid && WEAK_SIGNATURE_OIDS[oid]) return 'CA_MD_TOO_WEAK';
  const roots = trust.caPems.map((pem) => new X509Certificate(pem));
  if (!roots.some((r) => leaf.checkIssued(r))) return 'INVALID_CA';
  return 'UNSPECIFIED';
}

/** A key-size refusal for an RSA or DSA leaf under {@link MIN_RSA_KEY_BITS}, or null. */
function keySizeRefusal(cert: X509Certificate): CertificateError | null {
  // The modulus (RSA) or prime (DSA) size; EC and EdDSA keys have none and are not judged here.
  const bits = cert.publicKey.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined || bits >= MIN_RSA_KEY_BITS) return null;
  const subject = distinguishedNameText(cert.subject);
  const kind = String(cert.publicKey.asymmetricKeyType).toUpperCase();
  return new CertificateError(ERROR_CODES.CERT_INVALID, `certificate refused: key too small: ${kind}-${bits} (minimum ${MIN_RSA_KEY_BITS} bits); subject ${subject}`, { reason: 'key too small', keyBits: bits, subject });
}

/**
 * Verifies the server certificate of a connected TLS socket per the profile.
 * Call on 'secureConnect', before sending anything.
 * @param host the name or address the user asked for (what the hostname check compares against)
 * @throws CertificateError with code CERT_SELF_SIGNED | CERT_UNKNOWN_CA | CERT_HOSTNAME | CERT_PIN |
 *   CERT_EXPIRED | CERT_NOT_YET_VALID | CERT_INVALID and `details` { reason, opensslCode?, names?,
 *   expected?, got?, validFrom?, validTo? }
 */
export function verifyServerCertificate(socket: tls.TLSSocket, p: Profile, host: string, trust: ClientTrust): void {
  if (p.client.verify === 'none') return;
  const cert = socket.getPeerX509Certificate(); // read once: node hands the peer chain out only on the first call
  if (!cert) throw new CertificateError(ERROR_CODES.CERT_INVALID, 'server sent no certificate', { reason: 'no certificate' });
  const subject = distinguishedNameText(cert.subject);
  if (p.client.verify === 'ca' && !socket.authorized) {
    // Never empty when `authorized` is false (node sets one with the other).
    let opensslCode = String(socket.authorizationError);
    // node reports some chain errors as UNSPECIFIED; an issuer in the presented chain that is not
    // a CA is the one students meet (a leaf used to sign another leaf), so name it.
    if (opensslCode === 'UNSPECIFIED') opensslCode = diagnoseUnspecified(cert, trust);
    const known = OPENSSL_CODE_REASON[opensslCode];
    const dates = { validFrom: cert.validFrom, validTo: cert.validTo };
    let detail = '';
    if (known?.code === ERROR_CODES.CERT_EXPIRED) detail = ` (valid ${cert.validFrom} to ${cert.validTo})`;
    if (known?.code === ERROR_CODES.CERT_NOT_YET_VALID) detail = ` (valid from ${cert.validFrom})`;
    if (known?.code === ERROR_CODES.CERT_UNKNOWN_CA) detail = ` (issuer: ${distinguishedNameText(cert.issuer)})`;
    let reason = known?.reason ?? 'verification failed';
    // OpenSSL says "unable to verify the first certificate" whether the leaf's issuer is an
    // intermediate the server left out or a root nobody trusts: the client cannot tell which
    // (it never saw the issuer), so it names both, the likelier teaching-lab mistake first.
    if (leafOnlyFromUntrustedIssuer(cert, opensslCode)) {
      reason = 'incomplete chain or unknown CA';
      const issuer = distinguishedNameText(cert.issuer);
      detail = `: the server sent only its own certificate, issued by "${issuer}", which is not a CA this client trusts; if "${issuer}" is an intermediate CA the chain is incomplete (fix on the server: serve the full chain, its certificate followed by the intermediates); if it is a root, it is an unknown CA`;
    }
    throw new CertificateError(known?.code ?? ERROR_CODES.CERT_INVALID, `certificate refused: ${reason}: ${opensslCode}${detail}; subject ${subject}`, {
      reason,
      opensslCode,
      subject,
      issuer: distinguishedNameText(cert.issuer),
      ...dates,
    });
  }
  const small = p.client.verify === 'ca' ? keySizeRefusal(cert) : null;
  if (small) throw small;
  const refusal = pinAndHostnameRefusal(cert, p, host, trust);
  if (refusal) throw refusal;
}

/**
 * True when OpenSSL could not find the issuer of the leaf and the server sent no certificate but
 * its leaf (a chain of one that is not self-issued): what a missing intermediate looks like.
 * OpenSSL names a missing issuer at depth 0 UNABLE_TO_VERIFY_LEAF_SIGNATURE (x509_vfy.c); its
 * UNABLE_TO_GET_ISSUER_CERT_LOCALLY is for deeper certificates, i.e. a chain the server did send.
 * @param leaf the peer certificate as first read from the socket (its issuerCertificate link is
 *   the next certificate the server sent, undefined when it sent none)
 */
function leafOnlyFromUntrustedIssuer(leaf: X509Certificate, opensslCode: string): boolean {
  if (opensslCode !== 'UNABLE_TO_VERIFY_LEAF_SIGNATURE') return false;
  return leaf.issuerCertificate === undefined && leaf.subject !== leaf.issuer;
}

/**
 * The checks every server certificate goes through after its chain (TLS or secure channel): the
 * SPKI pin (RFC 7469 §2.4) and the hostname (RFC 6125 §6.4 via X509_check_host / X509_check_ip:
 * SANs only, wildcards in the left label).
 * @returns the refusal, or null when the certificate passes
 */
function pinAndHostnameRefusal(cert: X509Certificate, p: Profile, host: string, trust: ClientTrust): CertificateError | null {
  const subject = distinguishedNameText(cert.subject);
  if (p.client.verify === 'pin') {
    const got = spkiPinOf(cert);
    if (got !== trust.pin) {
      return new CertificateError(ERROR_CODES.CERT_PIN, `certificate refused: pin mismatch: expected ${trust.pin}, got ${got}; subject ${subject}`, {
        reason: 'pin mismatch',
        expected: trust.pin,
        got,
        subject,
      });
    }
  }
  if (p.client.checkHostname) {
    const names = cert.subjectAltName ?? '(no subjectAltName)';
    const matches = isIpAddress(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host, { subject: 'never' }) !== undefined;
    if (!matches) {
      const kind = isIpAddress(host) ? 'an IP address: only the certificate\'s IP Address entries count' : 'a host name: only the certificate\'s DNS entries count';
      return new CertificateError(ERROR_CODES.CERT_HOSTNAME, `certificate refused: hostname mismatch: checked "${host}" (${kind}) against the certificate's names (${names}); fix: connect with --host set to one of those names, give the name you expect with --servername, pin the server key (client.verify: pin), or have the server's owner issue a certificate naming "${host}" (secchat pki init --force --name ${host})`, {
        reason: 'hostname mismatch',
        opensslCode: 'ERR_TLS_CERT_ALTNAME_INVALID',
        host,
        names,
      });
    }
  }
  return null;
}


/**
 * What a client with this profile trusts, from the lab PKI.
 * @param labCaPem      the lab CA certificate (PEM)
 * @param serverCertPem the lab server certificate, whose key `pin: server` pins
 * @param extraCaPems   further roots the victim was made to trust (e.g. a rogue interception CA)
 */
export function resolveTrust(p: Profile, labCaPem: string, serverCertPem: string, extraCaPems: string[] = []): ClientTrust {
  const pin = p.client.pin === 'server' ? spkiPinOf(new X509Certificate(serverCertPem)) : p.client.pin;
  return { caPems: [labCaPem, ...extraCaPems], pin };
}

/**
 * Verifies a certificate PEM received outside TLS (the secure channel's server certificate) the
 * way the profile says — the same rules as {@link verifyServerCertificate}: chain to a trusted CA
 * (signature and validity dates, RFC 5280 §6.1 for a one-level chain), hostname (RFC 6125), pin.
 * @returns `{ ok: true }` or `{ ok: false, code, message }` naming the reason (never throws)
 */
export function verifyCertificatePem(certPem: string, p: Profile, host: string, trust: ClientTrust, now = new Date()): { ok: true } | { ok: false; code: string; message: string } {
  if (p.client.verify === 'none') return { ok: true };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    return { ok: false, code: ERROR_CODES.CERT_INVALID, message: `certificate refused: unreadable certificate (${(err as Error).message})` };
  }
  const subject = distinguishedNameText(cert.subject);
  if (p.client.verify === 'ca') {
    const issuer = trust.caPems.map((pem) => new X509Certificate(pem)).find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
    if (!issuer) {
      // Not checkIssued(cert): OpenSSL refuses a leaf without keyCertSign as its own issuer.
      if (cert.subject === cert.issuer && cert.verify(cert.publicKey)) {
        return { ok: false, code: ERROR_CODES.CERT_SELF_SIGNED, message: `certificate refused: self-signed certificate; subject ${subject}` };
      }
      return { ok: false, code: ERROR_CODES.CERT_UNKNOWN_CA, message: `certificate refused: unknown CA (issuer: ${distinguishedNameText(cert.issuer)}); subject ${subject}` };
    }
    if (now < new Date(cert.validFrom)) return { ok: false, code: ERROR_CODES.CERT_NOT_YET_VALID, message: `certificate refused: certificate not yet valid (valid from ${cert.validFrom})` };
    if (now > new Date(cert.validTo)) return { ok: false, code: ERROR_CODES.CERT_EXPIRED, message: `certificate refused: certificate expired (valid ${cert.validFrom} to ${cert.validTo})` };
    const small = keySizeRefusal(cert);
    if (small) return { ok: false, code: small.code, message: small.message };
  }
  const refusal = pinAndHostnameRefusal(cert, p, host, trust);
  return refusal ? { ok: false, code: refusal.code, message: refusal.message } : { ok: true };
}
