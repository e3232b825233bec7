/**
 * verifyServerCertificate on real loopback TLS handshakes, one per defect: which refusal each
 * certificate gets (code, reason, OpenSSL's code, the names and dates in the message). The
 * server side is the attacker's TLS context (attacks/proxy/tls-termination.ts: security level 0,
 * so it can present a SHA-1 or RSA-1024 certificate); the client side is what secchat's client
 * uses (clientTlsOptions + verifyServerCertificate on 'secureConnect'). The chain verdict itself
 * comes from OpenSSL, a verifier nobody here wrote; these tests pin how we name it.
 *
 * Fast enough (a few ms a handshake) to run against every mutant of
 * core/tls/certificate-verification.ts (docs/testing.md).
 */
import net from 'node:net';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, type PkiMaterial } from '../core/pki.ts';
import { makeGalleryCertificate, type GalleryEntry } from '../core/pki-gallery.ts';
import { loadProfile, type Profile } from '../core/profile.ts';
import { CertificateError, ERROR_CODES } from '../core/errors.ts';
import { resolveTrust, spkiPinOf, verifyServerCertificate, type ClientTrust } from '../core/tls/certificate-verification.ts';
import { clientTlsOptions, type CertKeyPem } from '../core/tls/node-options.ts';
import { attackerSecureContext } from '../attacks/proxy/tls-termination.ts';

const DAY_MS = 86_400_000;
const now = new Date();
const valid = { notBefore: new Date(now.getTime() - DAY_MS), notAfter: new Date(now.getTime() + 30 * DAY_MS) };
const LAB_CA_NAME = { commonName: 'secchat Lab Root CA', organization: 'secchat lab' };
const ca = issueCertificate({ ...LAB_CA_NAME, isCa: true, ...valid });
const server = issueCertificate({ issuer: ca, commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], ...valid });
const pki = { ca: { ...ca, certPath: '', keyPath: '' }, server: { ...server, certPath: '', keyPath: '' } } as Pick<PkiMaterial, 'ca' | 'server'>;
const trust: ClientTrust = { caPems: [ca.certPem] };
const made = new Map<GalleryEntry, CertKeyPem>();
/** A gallery certificate, made once per file run (RSA key generation dominates the run time). */
function gallery(entry: GalleryEntry): CertKeyPem {
  if (!made.has(entry)) made.set(entry, makeGalleryCertificate(entry, pki, now));
  return made.get(entry)!;
}
/** `make`, run on first use only: a mutant's run makes only the keys its tests need. */
function once<T>(make: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= make());
}
/** A root the client does not trust, an intermediate under it, and leaves for localhost. */
const otherCa = once(() => issueCertificate({ commonName: 'Other Root', organization: 'Elsewhere', isCa: true, ...valid }));
const otherInter = once(() => issueCertificate({ issuer: otherCa(), commonName: 'Other Intermediate', organization: 'Elsewhere', isCa: true, ...valid }));
const leafOfOtherCa = once(() => issueCertificate({ issuer: otherCa(), commonName: 'localhost', dnsNames: ['localhost'], ...valid }));
const leafOfOtherInter = once(() => issueCertificate({ issuer: otherInter(), commonName: 'localhost', dnsNames: ['localhost'], ...valid }));
const selfSigned = once(() => issueCertificate({ commonName: 'localhost', organization: 'Self', dnsNames: ['localhost'], ...valid }));
/** The lab server certificate re-signed by `signer` (its key stays the server's), with `edit` applied first. */
function resigned(signer: { keyPem: string }, digest: 'sha256' | 'md5', edit: (c: forge.pki.Certificate) => void = () => {}): CertKeyPem {
  const c = forge.pki.certificateFromPem(server.certPem);
  edit(c);
  c.sign(forge.pki.privateKeyFromPem(signer.keyPem) as forge.pki.rsa.PrivateKey, digest === 'md5' ? forge.md.md5.create() : forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(c), keyPem: server.keyPem };
}

function profile(name: string, client: Partial<Profile['client']> = {}): Profile {
  const p = loadProfile(name);
  return { ...p, client: { ...p.client, ...client } };
}
const VERIFIED = profile('tls-verified', { verify: 'ca', checkHostname: true });
const CA_ONLY = profile('tls-verified', { verify: 'ca', checkHostname: false });

/** One accepting TLS server for the whole file; `identity` is what the next connection is served. */
let identity: CertKeyPem = server;
let srv: net.Server;
let port = 0;
beforeAll(async () => {
  srv = net.createServer((raw) => {
    const s = new tls.TLSSocket(raw, { isServer: true, secureContext: attackerSecureContext(identity) });
    s.on('error', () => s.destroy());
    s.on('secure', () => s.end());
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  port = (srv.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => srv.close(() => resolve())));

/**
 * Handshakes with `presented` (chain PEM, leaf first) as `host` and runs our check on
 * secureConnect.
 * @returns null when the certificate passes, else the CertificateError thrown
 */
async function verify(presented: CertKeyPem, p: Profile, host = 'localhost', t: ClientTrust = trust): Promise<CertificateError | null> {
  identity = presented;
  return new Promise<CertificateError | null>((resolve, reject) => {
    const sock = tls.connect({ ...clientTlsOptions(p, host, t), host: '127.0.0.1', port }, () => {
      try {
        verifyServerCertificate(sock, p, host, t);
        resolve(null);
      } catch (err) {
        if (err instanceof CertificateError) resolve(err);
        else reject(err);
      } finally {
        sock.destroy();
      }
    });
    sock.on('error', reject);
    sock.setTimeout(5000, () => reject(new Error('handshake timed out')));
  });
}

const subjectOf = (pem: string): string => new X509Certificate(pem).subject.replace(/\n/g, ', ');
const issuerOf = (pem: string): string => new X509Certificate(pem).issuer.replace(/\n/g, ', ');

describe('verify: ca — the chain verdict, named', () => {
  it('accepts the lab server certificate for its DNS name and its IP address', async () => {
    expect(await verify(server, VERIFIED, 'localhost')).toBeNull();
    expect(await verify(server, VERIFIED, '127.0.0.1')).toBeNull();
  });

  it('a self-signed certificate: CERT_SELF_SIGNED, with OpenSSL code, subject and issuer in the details', async () => {
    const self = selfSigned();
    const e = (await verify(self, VERIFIED))!;
    expect(e.code).toBe(ERROR_CODES.CERT_SELF_SIGNED);
    expect(e.message).toBe(`certificate refused: self-signed certificate: DEPTH_ZERO_SELF_SIGNED_CERT; subject ${subjectOf(self.certPem)}`);
    expect(e.details).toEqual({
      reason: 'self-signed certificate',
      opensslCode: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      subject: subjectOf(self.certPem),
      issuer: issuerOf(self.certPem),
      validFrom: new X509Certificate(self.certPem).validFrom,
      validTo: new X509Certificate(self.certPem).validTo,
    });
  });

  it('a leaf from a CA the client does not trust, sent alone: incomplete chain or unknown CA, naming the issuer', async () => {
    const leaf = leafOfOtherCa();
    const e = (await verify(leaf, VERIFIED))!;
    expect(e.code).toBe(ERROR_CODES.CERT_UNKNOWN_CA);
    const issuer = issuerOf(leaf.certPem);
    expect(issuer).toMatch(/^\S+=\S.*, \S+=/); // two RDNs, one line
    expect(e.details).toMatchObject({ reason: 'incomplete chain or unknown CA', opensslCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', issuer });
    expect(e.message).toBe(
      `certificate refused: incomplete chain or unknown CA: UNABLE_TO_VERIFY_LEAF_SIGNATURE: the server sent only its own certificate, issued by "${issuer}", which is not a CA this client trusts; if "${issuer}" is an intermediate CA the chain is incomplete (fix on the server: serve the full chain, its certificate followed by the intermediates); if it is a root, it is an unknown CA; subject ${subjectOf(leaf.certPem)}`,
    );
  });

  it('the same leaf with its untrusted root sent along: unknown CA (self-signed root in chain), not "incomplete chain"', async () => {
    const leaf = leafOfOtherCa();
    const e = (await verify({ certPem: leaf.certPem + otherCa().certPem, keyPem: leaf.keyPem }, VERIFIED))!;
    expect(e.code).toBe(ERROR_CODES.CERT_UNKNOWN_CA);
    expect(e.details).toMatchObject({ reason: 'unknown CA (self-signed root in chain)', opensslCode: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(e.message).toBe(`certificate refused: unknown CA (self-signed root in chain): SELF_SIGNED_CERT_IN_CHAIN (issuer: ${issuerOf(leaf.certPem)}); subject ${subjectOf(leaf.certPem)}`);
  });

  it('missing intermediate (gallery): the leaf alone, issuer named, both readings given', async () => {
    const g = gallery('missing-intermediate');
    const e = (await verify(g, VERIFIED))!;
    expect(e.code).toBe(ERROR_CODES.CERT_UNKNOWN_CA);
    expect(e.details).toMatchObject({ reason: 'incomplete chain or unknown CA', issuer: issuerOf(g.certPem) });
    expect(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']).toContain((e.details as { opensslCode: string }).opensslCode);
    expect(e.message).toContain(`issued by "${issuerOf(g.certPem)}", which is not a CA this client trusts`);
  });

  it('the intermediate sent along but its root untrusted: unknown CA naming the leaf issuer, not "incomplete chain"', async () => {
    const leaf = leafOfOtherInter();
    const e = (await verify({ certPem: leaf.certPem + otherInter().certPem, keyPem: leaf.keyPem }, VERIFIED))!;
    expect(e.code).toBe(ERROR_CODES.CERT_UNKNOWN_CA);
    expect(e.details).toMatchObject({ reason: 'unknown CA', opensslCode: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });
    expect(e.message).toBe(`certificate refused: unknown CA: UNABLE_TO_GET_ISSUER_CERT_LOCALLY (issuer: ${issuerOf(leaf.certPem)}); subject ${subjectOf(leaf.certPem)}`);
    expect(issuerOf(leaf.certPem)).toContain(', ');
  });

  it('expired (gallery): CERT_EXPIRED naming both dates', async () => {
    const g = gallery('expired');
    const x = new X509Certificate(g.certPem);
    const e = (await verify(g, VERIFIED))!;
    expect(e.code).toBe(ERROR_CODES.CERT_EXPIRED);
    expect(e.message).toBe(`certificate refused: certificate expired: CERT_HAS_EXPIRED (valid ${x.validFrom} to ${x.validTo}); subject ${subjectOf(g.certPem)}`);
    expect(e.details).toMatchObject({ reason: 'certificate expired', validFrom: x.validFrom, validTo: x.validTo });
  });

  it('not yet valid (gallery): CERT_NOT_YET_VALID naming the start date', async () => {
    const g = gallery('not-yet-valid');
    const x = new X509Certificate(g.certPem);
    const e = (await verify(g, VERIFIED))!;
    expect(e.code).toBe(ERROR_CODES.CERT_NOT_YET_VALID);
    expect(e.message).toBe(`certificate refused: certificate not yet valid: CERT_NOT_YET_VALID (valid from ${x.validFrom}); subject ${subjectOf(g.certPem)}`);
  });

  it('a leaf used as issuer (gallery, chain sent): INVALID_CA, recovered from node\'s UNSPECIFIED', async () => {
    const e = (await verify(gallery('leaf-as-issuer'), VERIFIED))!;
    expect(e.code).toBe(ERROR_CODES.CERT_INVALID);
    expect(e.details).toMatchObject({ opensslCode: 'INVALID_CA', reason: expect.stringMatching(/^issuer is not a valid CA/) });
  });

  it('a leaf signed by the lab server leaf, sent without it: still INVALID_CA (the issuer is none of the trusted roots)', async () => {
    const leafOnly = gallery('leaf-as-issuer');
    const first = { certPem: leafOnly.certPem.split(/(?<=-----END CERTIFICATE-----)/)[0]! + '\n', keyPem: leafOnly.keyPem };
    const e = (await verify(first, VERIFIED))!;
    // OpenSSL finds the issuer by name (the lab server leaf is not trusted): whatever it says,
    // the client names a chain refusal, never a pass.
    expect(e.code).not.toBe(ERROR_CODES.CERT_HOSTNAME);
    expect([ERROR_CODES.CERT_UNKNOWN_CA, ERROR_CODES.CERT_INVALID]).toContain(e.code);
  });

  it('a leaf naming itself as issuer but signed by another key: unknown CA, not "incomplete chain" (it names no other issuer)', async () => {
    const other = issueCertificate({ commonName: 'x', ...valid });
    const selfIssued = resigned(other, 'sha256', (c) => c.setIssuer(c.subject.attributes));
    const e = (await verify(selfIssued, VERIFIED))!;
    expect(e.code).toBe(ERROR_CODES.CERT_UNKNOWN_CA);
    expect(e.details).toMatchObject({ reason: 'unknown CA', opensslCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(e.message).toBe(`certificate refused: unknown CA: UNABLE_TO_VERIFY_LEAF_SIGNATURE (issuer: ${issuerOf(selfIssued.certPem)}); subject ${subjectOf(selfIssued.certPem)}`);
  });

  it('the lab server certificate with one bit of its signature flipped: refused (OpenSSL code kept, generic reason)', async () => {
    const der = Buffer.from(new X509Certificate(server.certPem).raw);
    der[der.length - 1]! ^= 1;
    const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
    const e = (await verify({ certPem: pem, keyPem: server.keyPem }, VERIFIED))!;
    expect(e.code).toBe(ERROR_CODES.CERT_INVALID);
    expect(e.message).toBe(`certificate refused: verification failed: CERT_SIGNATURE_FAILURE; subject ${subjectOf(pem)}`);
    expect(e.details).toMatchObject({ reason: 'verification failed', opensslCode: 'CERT_SIGNATURE_FAILURE', issuer: subjectOf(ca.certPem) });
  });

  it('an anonymous key exchange (no server certificate at all): refused as "server sent no certificate"', async () => {
    const anon = { ...VERIFIED, tls: { ...VERIFIED.tls, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'AECDH-AES128-SHA:@SECLEVEL=0' } } as Profile;
    const e = (await verify(server, anon))!;
    expect(e.code).toBe(ERROR_CODES.CERT_INVALID);
    expect(e.message).toBe('server sent no certificate');
    expect(e.details).toEqual({ reason: 'no certificate' });
  });

  it('MD5-signed by the lab CA: CA_MD_TOO_WEAK', async () => {
    const e = (await verify(resigned(ca, 'md5'), VERIFIED))!;
    expect(e.code).toBe(ERROR_CODES.CERT_INVALID);
    expect(e.details).toMatchObject({ opensslCode: 'CA_MD_TOO_WEAK', reason: 'signature digest too weak (SHA-1 or MD5)' });
  });

  it('SHA-1 signature (gallery): CA_MD_TOO_WEAK, digest too weak', async () => {
    const e = (await verify(gallery('sha1-signature'), VERIFIED))!;
    expect(e.code).toBe(ERROR_CODES.CERT_INVALID);
    expect(e.details).toMatchObject({ opensslCode: 'CA_MD_TOO_WEAK', reason: 'signature digest too weak (SHA-1 or MD5)' });
  });

  it('clientAuth-only EKU (gallery): INVALID_PURPOSE, wrong extended key usage', async () => {
    const e = (await verify(gallery('wrong-eku'), VERIFIED))!;
    expect(e.code).toBe(ERROR_CODES.CERT_INVALID);
    expect(e.details).toMatchObject({ opensslCode: 'INVALID_PURPOSE', reason: 'wrong extended key usage: not issued for TLS servers' });
  });

  it('RSA-1024 (gallery): key too small, whichever of OpenSSL or our own minimum says so', async () => {
    const e = (await verify(gallery('rsa-1024'), VERIFIED))!;
    expect(e.code).toBe(ERROR_CODES.CERT_INVALID);
    expect(e.message).toMatch(/key too small/);
  });

  it('RSA-1024 on a TLS 1.0 profile (security level 0, OpenSSL silent): our own minimum refuses it, naming the bits', async () => {
    const legacy = profile('legacy-tls10', { verify: 'ca', checkHostname: true });
    const g = gallery('rsa-1024');
    const e = (await verify(g, legacy))!;
    expect(e).not.toBeNull();
    expect(e.code).toBe(ERROR_CODES.CERT_INVALID);
    expect(e.message).toBe(`certificate refused: key too small: RSA-1024 (minimum 2048 bits); subject ${subjectOf(g.certPem)}`);
    expect(e.details).toEqual({ reason: 'key too small', keyBits: 1024, subject: subjectOf(g.certPem) });
  });

  it('a wildcard that does not cover the name and a CN-only certificate (gallery): hostname mismatch naming the SANs', async () => {
    const w = (await verify(gallery('wildcard-mismatch'), VERIFIED))!;
    expect(w.code).toBe(ERROR_CODES.CERT_HOSTNAME);
    expect(w.details).toMatchObject({ reason: 'hostname mismatch', opensslCode: 'ERR_TLS_CERT_ALTNAME_INVALID', host: 'localhost', names: 'DNS:*.localhost' });
    const cn = (await verify(gallery('cn-only'), VERIFIED))!;
    expect(cn.code).toBe(ERROR_CODES.CERT_HOSTNAME);
    expect(cn.details).toMatchObject({ names: '(no subjectAltName)' });
    expect(cn.message).toMatch(/^certificate refused: hostname mismatch: checked "localhost" \(a host name: only the certificate's DNS entries count\) against the certificate's names \(\(no subjectAltName\)\)/);
  });

  it('an IP host against a certificate without that address: the message says only IP entries count, and how to fix it', async () => {
    const e = (await verify(gallery('wildcard-mismatch'), VERIFIED, '127.0.0.1'))!;
    expect(e.code).toBe(ERROR_CODES.CERT_HOSTNAME);
    expect(e.message).toBe(
      'certificate refused: hostname mismatch: checked "127.0.0.1" (an IP address: only the certificate\'s IP Address entries count) against the certificate\'s names (DNS:*.localhost); fix: connect with --host set to one of those names, give the name you expect with --servername, pin the server key (client.verify: pin), or have the server\'s owner issue a certificate naming "127.0.0.1" (secchat pki init --force --name 127.0.0.1)',
    );
    expect(e.details).toEqual({ reason: 'hostname mismatch', opensslCode: 'ERR_TLS_CERT_ALTNAME_INVALID', host: '127.0.0.1', names: 'DNS:*.localhost' });
  });

  it('checkHostname: false accepts the wildcard mismatch, but still refuses a bad chain', async () => {
    expect(await verify(gallery('wildcard-mismatch'), CA_ONLY)).toBeNull();
    expect((await verify(gallery('expired'), CA_ONLY))!.code).toBe(ERROR_CODES.CERT_EXPIRED);
  });

  it('verify: none accepts every certificate, even a self-signed one for another name', async () => {
    const none = profile('tls-no-verify', { verify: 'none', checkHostname: true });
    const self = issueCertificate({ commonName: 'evil.example', dnsNames: ['evil.example'], ...valid });
    expect(await verify(self, none)).toBeNull();
  });
});

describe('verify: pin — the SPKI pin decides, not the chain', () => {
  const pinned = (pin: string | undefined, checkHostname = false): { p: Profile; t: ClientTrust } => ({ p: profile('tls-pinned', { verify: 'pin', checkHostname }), t: { caPems: [], pin } });

  it('accepts a self-signed certificate whose key matches the pin (the chain is not consulted)', async () => {
    const self = selfSigned();
    const { p, t } = pinned(spkiPinOf(new X509Certificate(self.certPem)));
    expect(await verify(self, p, 'localhost', t)).toBeNull();
  });

  it('refuses the genuine lab chain when the pin is another key, naming expected and got', async () => {
    const other = issueCertificate({ commonName: 'x', ...valid });
    const expected = spkiPinOf(new X509Certificate(other.certPem));
    const got = spkiPinOf(new X509Certificate(server.certPem));
    const { p, t } = pinned(expected);
    const e = (await verify(server, p, 'localhost', t))!;
    expect(e.code).toBe(ERROR_CODES.CERT_PIN);
    expect(e.message).toBe(`certificate refused: pin mismatch: expected ${expected}, got ${got}; subject ${subjectOf(server.certPem)}`);
    expect(e.details).toEqual({ reason: 'pin mismatch', expected, got, subject: subjectOf(server.certPem) });
  });

  it('a pinned key with checkHostname still has to name the host', async () => {
    const { p, t } = pinned(spkiPinOf(new X509Certificate(server.certPem)), true);
    expect(await verify(server, p, 'localhost', t)).toBeNull();
    expect((await verify(server, p, 'other.example', t))!.code).toBe(ERROR_CODES.CERT_HOSTNAME);
  });

  it('a pin profile does not apply the CA-only RSA minimum (the pinned key is the trust decision)', async () => {
    const g = gallery('rsa-1024');
    const { p, t } = pinned(spkiPinOf(new X509Certificate(g.certPem)));
    const legacyPinned = { ...p, tls: profile('legacy-tls10').tls };
    expect(await verify(g, legacyPinned, 'localhost', t)).toBeNull();
  });

  it('resolveTrust: pin "server" pins the lab server key; a literal pin is kept; extra roots follow the lab CA', () => {
    const p = profile('tls-pinned', { verify: 'pin', pin: 'server' });
    expect(resolveTrust(p, ca.certPem, server.certPem)).toEqual({ caPems: [ca.certPem], pin: spkiPinOf(new X509Certificate(server.certPem)) });
    const literal = profile('tls-pinned', { verify: 'pin', pin: 'sha256/AAAA' });
    expect(resolveTrust(literal, ca.certPem, server.certPem, ['ROGUE'])).toEqual({ caPems: [ca.certPem, 'ROGUE'], pin: 'sha256/AAAA' });
  });
});
