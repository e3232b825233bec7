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
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, type PkiMaterial } from '../core/pki.ts';
import { makeGalleryCertificate, type GalleryEntry } from '../core/pki-gallery.ts';
import { loadProfile, type Profile } from '../core/profile.ts';
import { CertificateError, ERROR_CODES } from '../core/errors.ts';
import { resolveTrust, spkiPinOf, verifyCertificatePem, verifyServerCertificate, type ClientTrust } from '../core/tls/certificate-verification.ts';
import { clientTlsOptions, type CertKeyPem } from '../core/tls/node-options.ts';
import { attackerSecureContext } from '../attacks/proxy/tls-termination.ts';

const DAY_MS = 86_400_000;
const now = new Date();
const valid = { notBefore: new Date(now.getTime() - DAY_MS), notAfter: new Date(now.getTime() + 30 * DAY_MS) };
const LAB_CA_NAME = { commonName: 'secchat Lab Root CA', organization: 'secchat lab' };
const ca = issueCertificate({ ...LAB_CA_NAME, isCa: true, ...valid });
const server = issueCertificate({ issuer: ca, commonName: 'localhost', organization: 'secchat lab', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], ...valid });
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

/** Certificates only the openssl command line makes here (EC and DSA keys, ECDSA/DSA signatures). */
const tmp = mkdtempSync(path.join(tmpdir(), 'secchat-certverify-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}
const read = (f: string): string => readFileSync(path.join(tmp, f), 'utf8');
const caFiles = once(() => {
  writeFileSync(path.join(tmp, 'ca.pem'), ca.certPem);
  writeFileSync(path.join(tmp, 'ca.key'), ca.keyPem, { mode: 0o600 });
  writeFileSync(path.join(tmp, 'server.key'), server.keyPem, { mode: 0o600 });
  return { cert: 'ca.pem', key: 'ca.key' };
});
/**
 * A leaf for localhost with the key in `keyFile` (made by openssl), issued by `issuer` with `digest`.
 * @returns the leaf PEM and its key PEM
 */
function opensslLeaf(name: string, keyFile: string, issuer: { cert: string; key: string }, digest: 'sha256' | 'sha1'): CertKeyPem {
  openssl('req', '-new', '-key', keyFile, '-subj', `/CN=localhost/O=${name}`, '-addext', 'subjectAltName=DNS:localhost', '-out', `${name}.csr`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', issuer.cert, '-CAkey', issuer.key, `-${digest}`, '-days', '2', '-copy_extensions', 'copy', '-set_serial', String(Date.now()), '-out', `${name}.pem`);
  return { certPem: read(`${name}.pem`), keyPem: read(keyFile) };
}
/** A self-signed CA (openssl) with the key made by `genkey` into `<name>.key`. */
function opensslCa(name: string, genkey: string[]): { cert: string; key: string } {
  openssl(...genkey, '-out', `${name}.key`);
  openssl('req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-days', '2', '-sha256', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-out', `${name}.pem`);
  return { cert: `${name}.pem`, key: `${name}.key` };
}
const ecLeaf = once(() => {
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ec.key');
  return opensslLeaf('ec-leaf', 'ec.key', caFiles(), 'sha256');
});

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
    expect((e.details as { opensslCode: string }).opensslCode).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
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

  it('a trusted intermediate whose own issuer is missing: UNABLE_TO_GET_ISSUER_CERT, unknown CA', async () => {
    const e = (await verify(leafOfOtherInter(), VERIFIED, 'localhost', { caPems: [otherInter().certPem] }))!;
    expect(e.code).toBe(ERROR_CODES.CERT_UNKNOWN_CA);
    expect(e.details).toMatchObject({ reason: 'unknown CA', opensslCode: 'UNABLE_TO_GET_ISSUER_CERT' });
    expect(e.message).toBe(`certificate refused: unknown CA: UNABLE_TO_GET_ISSUER_CERT (issuer: ${issuerOf(leafOfOtherInter().certPem)}); subject ${subjectOf(leafOfOtherInter().certPem)}`);
  });

  it('an EC (P-256) leaf from the lab CA (made by openssl) passes: the key-size minimum judges RSA and DSA moduli only', async () => {
    expect(await verify(ecLeaf(), VERIFIED)).toBeNull();
    expect(verifyCertificatePem(ecLeaf().certPem, VERIFIED, 'localhost', trust)).toEqual({ ok: true });
  });

  it('SHA-1 signatures by an ECDSA and by a DSA CA (made by openssl): CA_MD_TOO_WEAK, like RSA\'s', async () => {
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'leaf.key');
    const ecCa = opensslCa('EC-Root', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const ecdsaSha1 = opensslLeaf('ecdsa-sha1', 'leaf.key', ecCa, 'sha1');
    const e1 = (await verify(ecdsaSha1, VERIFIED, 'localhost', { caPems: [read(ecCa.cert)] }))!;
    expect(e1.details).toMatchObject({ opensslCode: 'CA_MD_TOO_WEAK', reason: 'signature digest too weak (SHA-1 or MD5)' });
    openssl('genpkey', '-genparam', '-algorithm', 'DSA', '-pkeyopt', 'dsa_paramgen_bits:2048', '-out', 'dsa.params');
    const dsaCa = opensslCa('DSA-Root', ['genpkey', '-paramfile', 'dsa.params']);
    const dsaSha1 = opensslLeaf('dsa-sha1', 'leaf.key', dsaCa, 'sha1');
    const e2 = (await verify(dsaSha1, VERIFIED, 'localhost', { caPems: [read(dsaCa.cert)] }))!;
    expect(e2.details).toMatchObject({ opensslCode: 'CA_MD_TOO_WEAK', reason: 'signature digest too weak (SHA-1 or MD5)' });
  }, 60_000);

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

  it('the pin is sha256/ and the base64 SHA-256 of the DER SubjectPublicKeyInfo, as openssl computes it (RFC 7469 §2.4)', () => {
    caFiles();
    const der = execFileSync('openssl', ['pkey', '-in', 'server.key', '-pubout', '-outform', 'DER'], { cwd: tmp });
    const b64 = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der }).toString('base64');
    expect(spkiPinOf(new X509Certificate(server.certPem))).toBe(`sha256/${b64}`);
  });

  it('resolveTrust: pin "server" pins the lab server key; a literal pin is kept; extra roots follow the lab CA', () => {
    const p = profile('tls-pinned', { verify: 'pin', pin: 'server' });
    expect(resolveTrust(p, ca.certPem, server.certPem)).toEqual({ caPems: [ca.certPem], pin: spkiPinOf(new X509Certificate(server.certPem)) });
    const literal = profile('tls-pinned', { verify: 'pin', pin: 'sha256/AAAA' });
    expect(resolveTrust(literal, ca.certPem, server.certPem, ['ROGUE'])).toEqual({ caPems: [ca.certPem, 'ROGUE'], pin: 'sha256/AAAA' });
  });
});

describe('verifyCertificatePem (the secure channel\'s certificate): the refusals, named', () => {
  const PIN = profile('tls-pinned', { verify: 'pin', checkHostname: true });

  it('unreadable PEM names the parser\'s complaint', () => {
    const r = verifyCertificatePem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', CA_ONLY, 'localhost', trust);
    expect(r).toMatchObject({ ok: false, code: ERROR_CODES.CERT_INVALID });
    expect(r.ok === false && r.message).toMatch(/^certificate refused: unreadable certificate \(.+\)$/);
  });

  it('self-signed: the message names the subject on one line', () => {
    const self = selfSigned();
    expect(verifyCertificatePem(self.certPem, CA_ONLY, 'localhost', trust)).toEqual({ ok: false, code: ERROR_CODES.CERT_SELF_SIGNED, message: `certificate refused: self-signed certificate; subject ${subjectOf(self.certPem)}` });
    expect(subjectOf(self.certPem)).toContain(', ');
  });

  it('signed by its own key under another issuer name: unknown CA, not self-signed (it does not name itself)', () => {
    const own = resigned(server, 'sha256', (c) => c.setIssuer([{ shortName: 'CN', value: 'Somebody Else' }]));
    expect(new X509Certificate(own.certPem).verify(new X509Certificate(own.certPem).publicKey)).toBe(true);
    expect(verifyCertificatePem(own.certPem, CA_ONLY, 'localhost', trust)).toMatchObject({ ok: false, code: ERROR_CODES.CERT_UNKNOWN_CA });
  });

  it('verify: pin does not consult the chain: a pinned self-signed certificate passes, another key is a pin mismatch', () => {
    const self = selfSigned();
    const pin = spkiPinOf(new X509Certificate(self.certPem));
    expect(verifyCertificatePem(self.certPem, PIN, 'localhost', { caPems: [], pin })).toEqual({ ok: true });
    expect(verifyCertificatePem(server.certPem, PIN, 'localhost', { caPems: [ca.certPem], pin })).toMatchObject({ ok: false, code: ERROR_CODES.CERT_PIN });
  });

  it('an RSA-1024 leaf from the lab CA: key too small, naming the bits', () => {
    const g = gallery('rsa-1024');
    expect(verifyCertificatePem(g.certPem, CA_ONLY, 'localhost', trust)).toEqual({
      ok: false,
      code: ERROR_CODES.CERT_INVALID,
      message: `certificate refused: key too small: RSA-1024 (minimum 2048 bits); subject ${subjectOf(g.certPem)}`,
    });
  });

  it('a DSA-1024 leaf from the lab CA (made by openssl): key too small too, naming DSA', () => {
    openssl('genpkey', '-genparam', '-algorithm', 'DSA', '-pkeyopt', 'dsa_paramgen_bits:1024', '-out', 'dsa1024.params');
    openssl('genpkey', '-paramfile', 'dsa1024.params', '-out', 'dsa1024.key');
    const dsa = opensslLeaf('dsa-1024', 'dsa1024.key', caFiles(), 'sha256');
    expect(verifyCertificatePem(dsa.certPem, CA_ONLY, 'localhost', trust)).toEqual({
      ok: false,
      code: ERROR_CODES.CERT_INVALID,
      message: `certificate refused: key too small: DSA-1024 (minimum 2048 bits); subject ${subjectOf(dsa.certPem)}`,
    });
  }, 30_000);
});
