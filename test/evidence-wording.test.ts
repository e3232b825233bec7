/**
 * Evidence text pinned where it is built: a certificate subject prints only the attributes present
 * (core/tls/distinguished-name.ts — a certificate's empty `O=` once printed as "O=)"), a probe's
 * refusal is cut between clauses (attacks/kit/position.ts — a cut hostname refusal once ended
 * "fix: )"), and a hop's group is printed only when measured or known to be none
 * (reports/results.ts — a TLS 1.3 target hop once read "no (EC)DHE group").
 */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { cutAtClause, probeRefusal } from '../attacks/kit/position.ts';
import { CertificateError, ERROR_CODES } from '../core/errors.ts';
import { issueCertificate } from '../core/pki.ts';
import { loadProfile } from '../core/profile.ts';
import { verifyCertificatePem } from '../core/tls/certificate-verification.ts';
import { distinguishedNameText } from '../core/tls/distinguished-name.ts';
import { negotiatedWords } from '../reports/results.ts';

const day = 86_400_000;

/** A self-signed certificate whose subject carries an empty organization (node prints "O="). */
function selfSignedWithEmptyOrganization(): string {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - day);
  cert.validity.notAfter = new Date(Date.now() + day);
  const attrs = [{ shortName: 'CN', value: 'localhost' }, { shortName: 'O', value: '' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

describe('distinguished names: only the attributes present', () => {
  it.each([
    ['CN=localhost\nO=secchat lab', 'CN=localhost, O=secchat lab'],
    ['CN=localhost\nO=', 'CN=localhost'],
    ['O=\nCN=localhost\nOU= ', 'CN=localhost'],
    ['O=', '(empty)'],
    ['', '(empty)'],
  ])('%j → %s', (dn, text) => expect(distinguishedNameText(dn)).toBe(text));

  it('a self-signed certificate with an empty O is refused naming only its CN', () => {
    const profile = loadProfile('tls-verified');
    const ca = issueCertificate({ commonName: 'Some CA', isCa: true, notBefore: new Date(Date.now() - day), notAfter: new Date(Date.now() + day) });
    const r = verifyCertificatePem(selfSignedWithEmptyOrganization(), profile, 'localhost', { caPems: [ca.certPem] });
    expect(r).toEqual({ ok: false, code: ERROR_CODES.CERT_SELF_SIGNED, message: 'certificate refused: self-signed certificate; subject CN=localhost' });
  });
});

describe("a probe's refusal, cut between clauses", () => {
  it('a hostname refusal keeps the names it checked and drops the fix hint whole, never "fix: )"', () => {
    const profile = loadProfile('tls-verified');
    const ca = issueCertificate({ commonName: 'Lab CA', isCa: true, notBefore: new Date(Date.now() - day), notAfter: new Date(Date.now() + day) });
    const leaf = issueCertificate({ issuer: ca, commonName: 'evil.example', dnsNames: ['evil.example'], notBefore: new Date(Date.now() - day), notAfter: new Date(Date.now() + day) });
    const r = verifyCertificatePem(leaf.certPem, profile, 'localhost', { caPems: [ca.certPem] });
    expect(r.ok).toBe(false);
    const full = (r as { message: string }).message;
    expect(full).toContain('; fix: connect with --host'); // the source has a hint; the probe line has no room for it
    const why = probeRefusal(new CertificateError(ERROR_CODES.CERT_HOSTNAME, `server certificate rejected: ${full}`));
    expect(why).toEqual({
      ok: false,
      why: 'SECCHAT_ERR_CERT_HOSTNAME: server certificate rejected: certificate refused: hostname mismatch: checked "localhost" (a host name: only the certificate\'s DNS entries count) against the certificate\'s names (DNS:evil.example) …',
    });
  });

  it('keeps whole clauses, marks what it left out, and cuts a too-long first clause after a whole word', () => {
    expect(cutAtClause('short; enough', 40)).toBe('short; enough');
    expect(cutAtClause('first clause; second clause; fix: a long hint', 32)).toBe('first clause; second clause …');
    expect(cutAtClause('subject CN=localhost, O=secchat lab', 28)).toBe('subject CN=localhost …');
    expect(cutAtClause('x'.repeat(50), 10)).toBe('xxxxxxxx …');
    // The edges: exactly max is whole; a clause list that fills the room exactly is kept whole.
    expect(cutAtClause('aaaa; bbbb', 10)).toBe('aaaa; bbbb');
    expect(cutAtClause('aaaa; bbbb; c', 12)).toBe('aaaa; bbbb …');
    expect(cutAtClause('aaa; bbb; ccc; ddd', 12)).toBe('aaa; bbb …');
    // No clause fits: after the last whole word within the room, not one seen beyond it…
    expect(cutAtClause('alpha beta gamma delta', 13)).toBe('alpha beta …');
    expect(cutAtClause('alpha beta gamma', 13)).toBe('alpha beta …');
    // …unless that word boundary lies in the first half of the room (one long token fills it).
    expect(cutAtClause('abcde fghijklmnop', 12)).toBe('abcde fghi …');
    expect(cutAtClause('abcdef ghijklmnop', 12)).toBe('abcdef …');
    for (let max = 3; max <= 60; max++) {
      const s = cutAtClause('refused: self-signed certificate; subject CN=localhost, O=secchat lab; fix: pin it', max);
      expect(s.length, `max ${max}: ${s}`).toBeLessThanOrEqual(max);
      expect(s).not.toMatch(/(=|: |\()\s*…?$/); // never a field cut to its name
    }
  });
});

describe("a hop's negotiated parameters as words", () => {
  it('TLS 1.3 with no group measured says nothing about the group (TLS 1.3 always runs (EC)DHE)', () => {
    expect(negotiatedWords({ protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', group: null })).toEqual(['TLSv1.3', 'TLS_AES_256_GCM_SHA384']);
  });
  it('a measured group is printed; "no (EC)DHE group" only for a static-RSA suite', () => {
    expect(negotiatedWords({ protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', group: 'X25519' })).toEqual(['TLSv1.3', 'TLS_AES_128_GCM_SHA256', 'X25519']);
    expect(negotiatedWords({ protocol: 'TLSv1.2', cipher: 'TLS_RSA_WITH_AES_256_CBC_SHA', group: null })).toEqual(['TLSv1.2', 'TLS_RSA_WITH_AES_256_CBC_SHA', 'no (EC)DHE group']);
    expect(negotiatedWords({ protocol: 'TLSv1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', group: null })).toEqual(['TLSv1.2', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256']);
  });
});
