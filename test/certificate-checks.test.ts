/**
 * Certificate checks at their edges: the secure channel's certificate verification
 * (verifyCertificatePem: chain of one to a trusted CA, validity dates, RFC 5280 §6.1) and the
 * hostname check both transports share (RFC 6125 §6.4: a name matches dNSName SANs, an IP
 * address matches iPAddress SANs only). Every case is also put to `openssl verify`, a verifier
 * nobody here wrote, which must agree.
 *
 * The cases come from mutation testing (docs/testing.md): a leaf that names the lab CA as its
 * issuer but is signed by another key, a leaf signed by the lab CA's key under another issuer
 * name, the first and last valid second, IP hosts against IP and DNS SANs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { afterAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../core/pki.ts';
import { loadProfile, type Profile } from '../core/profile.ts';
import { ERROR_CODES, type CertificateError } from '../core/errors.ts';
import { isIpAddress, verifyCertificatePem, verifyServerCertificate, type ClientTrust } from '../core/tls/certificate-verification.ts';
import { clientTlsOptions } from '../core/tls/node-options.ts';

const DAY_MS = 86_400_000;
const NOW = new Date('2026-06-01T12:00:00Z');
const notBefore = new Date(NOW.getTime() - DAY_MS);
const notAfter = new Date(NOW.getTime() + 30 * DAY_MS);

const LAB_CA_NAME = { commonName: 'secchat Lab Root CA', organization: 'secchat lab' };
const labCa = issueCertificate({ ...LAB_CA_NAME, isCa: true, notBefore, notAfter: new Date(NOW.getTime() + 365 * DAY_MS) });
const server = issueCertificate({ issuer: labCa, commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'], notBefore, notAfter });
const trust: ClientTrust = { caPems: [labCa.certPem] };

/**
 * A leaf whose issuer name and authority key identifier are the lab CA's, as an attacker who
 * copied them from the real certificate would write them, signed with `signingKeyPem`.
 */
function leafNamingLabCa(opts: { signingKeyPem: string; issuerName?: forge.pki.CertificateField[]; copyAuthorityKeyId?: boolean }): string {
  const ca = forge.pki.certificateFromPem(labCa.certPem);
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = '0a1b2c';
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ shortName: 'CN', value: 'localhost' }]);
  cert.setIssuer(opts.issuerName ?? ca.subject.attributes);
  const ski = (ca.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string }).subjectKeyIdentifier;
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ...(opts.copyAuthorityKeyId === false ? [] : [{ name: 'authorityKeyIdentifier', keyIdentifier: forge.util.hexToBytes(ski) }]),
  ]);
  cert.sign(forge.pki.privateKeyFromPem(opts.signingKeyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

const attackerKey = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;

function profile(client: Partial<Profile['client']>): Profile {
  const p = loadProfile('tls-verified');
  return { ...p, client: { ...p.client, ...client } };
}
const CA_AND_HOST = profile({ verify: 'ca', checkHostname: true });
const CA_ONLY = profile({ verify: 'ca', checkHostname: false });

const tmp = mkdtempSync(path.join(tmpdir(), 'secchat-certcheck-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let fileNo = 0;

/**
 * `openssl verify` against the lab CA alone, at `at`, optionally with a host or IP to match.
 * @returns true when OpenSSL accepts the certificate
 */
function opensslAccepts(certPem: string, at: Date, check?: { host?: string; ip?: string }): boolean {
  const caFile = path.join(tmp, 'ca.pem');
  writeFileSync(caFile, labCa.certPem);
  const leafFile = path.join(tmp, `leaf-${fileNo++}.pem`);
  writeFileSync(leafFile, certPem);
  const args = ['verify', '-CAfile', caFile, '-attime', String(Math.floor(at.getTime() / 1000))];
  if (check?.host) args.push('-verify_hostname', check.host);
  if (check?.ip) args.push('-verify_ip', check.ip);
  try {
    execFileSync('openssl', [...args, leafFile], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

describe('secure-channel certificate: chain to the lab CA (verifyCertificatePem)', () => {
  it('accepts the lab server certificate, as openssl verify does', () => {
    expect(verifyCertificatePem(server.certPem, CA_AND_HOST, 'localhost', trust, NOW)).toEqual({ ok: true });
    expect(opensslAccepts(server.certPem, NOW, { host: 'localhost' })).toBe(true);
  });

  it('refuses a leaf that names the lab CA as issuer (name and key identifier) but is signed by another key', () => {
    const forged = leafNamingLabCa({ signingKeyPem: attackerKey });
    const x = new X509Certificate(forged);
    // The names line up: only the signature tells the forgery apart.
    expect(x.checkIssued(new X509Certificate(labCa.certPem))).toBe(true);
    expect(x.verify(new X509Certificate(labCa.certPem).publicKey)).toBe(false);
    const r = verifyCertificatePem(forged, CA_ONLY, 'localhost', trust, NOW);
    expect(r).toMatchObject({ ok: false, code: ERROR_CODES.CERT_UNKNOWN_CA });
    expect(r.ok === false && r.message).toContain('unknown CA (issuer: CN=secchat Lab Root CA, O=secchat lab)');
    expect(opensslAccepts(forged, NOW)).toBe(false);
  });

  it('refuses a leaf signed with the lab CA key under another issuer name', () => {
    const misnamed = leafNamingLabCa({ signingKeyPem: labCa.keyPem, issuerName: [{ shortName: 'CN', value: 'Some Other CA' }], copyAuthorityKeyId: false });
    expect(new X509Certificate(misnamed).verify(new X509Certificate(labCa.certPem).publicKey)).toBe(true);
    expect(verifyCertificatePem(misnamed, CA_ONLY, 'localhost', trust, NOW)).toMatchObject({ ok: false, code: ERROR_CODES.CERT_UNKNOWN_CA });
    expect(opensslAccepts(misnamed, NOW)).toBe(false);
  });

  it('the same leaf, honestly signed by the lab CA key, passes: the refusals above are about the signature and the name', () => {
    const honest = leafNamingLabCa({ signingKeyPem: labCa.keyPem });
    expect(verifyCertificatePem(honest, CA_AND_HOST, 'localhost', trust, NOW)).toEqual({ ok: true });
    expect(opensslAccepts(honest, NOW, { host: 'localhost' })).toBe(true);
  });

  it('finds the issuer among several trusted CAs, whichever comes first', () => {
    const other = issueCertificate({ commonName: 'Another Root', isCa: true, notBefore, notAfter });
    expect(verifyCertificatePem(server.certPem, CA_ONLY, 'localhost', { caPems: [other.certPem, labCa.certPem] }, NOW)).toEqual({ ok: true });
    expect(verifyCertificatePem(server.certPem, CA_ONLY, 'localhost', { caPems: [other.certPem] }, NOW)).toMatchObject({ ok: false, code: ERROR_CODES.CERT_UNKNOWN_CA });
  });

  it('names a self-signed leaf as self-signed, and a leaf naming itself but signed by another key as unknown CA', () => {
    const self = issueCertificate({ commonName: 'localhost', dnsNames: ['localhost'], notBefore, notAfter });
    expect(verifyCertificatePem(self.certPem, CA_ONLY, 'localhost', trust, NOW)).toMatchObject({ ok: false, code: ERROR_CODES.CERT_SELF_SIGNED });
    const selfNamedForged = leafNamingLabCa({ signingKeyPem: attackerKey, issuerName: [{ shortName: 'CN', value: 'localhost' }], copyAuthorityKeyId: false });
    expect(verifyCertificatePem(selfNamedForged, CA_ONLY, 'localhost', trust, NOW)).toMatchObject({ ok: false, code: ERROR_CODES.CERT_UNKNOWN_CA });
    expect(opensslAccepts(self.certPem, NOW)).toBe(false);
  });

  it('refuses unreadable PEM as an invalid certificate, and verify: none accepts anything', () => {
    expect(verifyCertificatePem('not a certificate', CA_ONLY, 'localhost', trust, NOW)).toMatchObject({ ok: false, code: ERROR_CODES.CERT_INVALID });
    expect(verifyCertificatePem('not a certificate', profile({ verify: 'none' }), 'localhost', trust, NOW)).toEqual({ ok: true });
  });
});

describe('secure-channel certificate: validity dates (RFC 5280 §4.1.2.5, both ends inclusive)', () => {
  // X.509 times have one-second precision; the issued dates are whole seconds.
  const from = new Date(Math.floor(notBefore.getTime() / 1000) * 1000);
  const to = new Date(Math.floor(notAfter.getTime() / 1000) * 1000);

  // OpenSSL's X509_cmp_time counts the very second of notAfter as expired (it compares "<="),
  // one second stricter than RFC 5280's "inclusive"; openssl is asked one second inside there.
  it.each([
    ['one second before notBefore', new Date(from.getTime() - 1000), ERROR_CODES.CERT_NOT_YET_VALID, 0],
    ['exactly notBefore', from, null, 0],
    ['exactly notAfter', to, null, -1000],
    ['one second after notAfter', new Date(to.getTime() + 1000), ERROR_CODES.CERT_EXPIRED, 0],
  ])('%s', (_name, at, code, opensslShiftMs) => {
    const r = verifyCertificatePem(server.certPem, CA_ONLY, 'localhost', trust, at);
    expect(r).toEqual(code === null ? { ok: true } : expect.objectContaining({ ok: false, code }));
    expect(opensslAccepts(server.certPem, new Date(at.getTime() + opensslShiftMs))).toBe(code === null);
  });

  it('names the dates in the refusal', () => {
    const expired = issueCertificate({ issuer: labCa, commonName: 'localhost', dnsNames: ['localhost'], notBefore: new Date(NOW.getTime() - 10 * DAY_MS), notAfter: new Date(NOW.getTime() - DAY_MS) });
    const r = verifyCertificatePem(expired.certPem, CA_ONLY, 'localhost', trust, NOW);
    const x = new X509Certificate(expired.certPem);
    expect(r).toEqual({ ok: false, code: ERROR_CODES.CERT_EXPIRED, message: `certificate refused: certificate expired (valid ${x.validFrom} to ${x.validTo})` });
    const future = issueCertificate({ issuer: labCa, commonName: 'localhost', dnsNames: ['localhost'], notBefore: new Date(NOW.getTime() + DAY_MS), notAfter: new Date(NOW.getTime() + 10 * DAY_MS) });
    const f = verifyCertificatePem(future.certPem, CA_ONLY, 'localhost', trust, NOW);
    expect(f).toEqual({ ok: false, code: ERROR_CODES.CERT_NOT_YET_VALID, message: `certificate refused: certificate not yet valid (valid from ${new X509Certificate(future.certPem).validFrom})` });
  });

  it('a forged leaf is refused for its signature even when its dates are also wrong', () => {
    const forged = leafNamingLabCa({ signingKeyPem: attackerKey });
    expect(verifyCertificatePem(forged, CA_ONLY, 'localhost', trust, new Date(notAfter.getTime() + DAY_MS))).toMatchObject({ code: ERROR_CODES.CERT_UNKNOWN_CA });
  });
});

describe('hostname check: IP hosts match iPAddress SANs only (RFC 6125 §6.4, RFC 5280 §4.2.1.6)', () => {
  const dnsOnly = issueCertificate({ issuer: labCa, commonName: '127.0.0.1', dnsNames: ['localhost', '127.0.0.1'], notBefore, notAfter });
  const ipOnly = issueCertificate({ issuer: labCa, commonName: 'ip-only.invalid', ipAddresses: ['127.0.0.1'], notBefore, notAfter });
  // CN localhost: `openssl verify -verify_hostname` falls back to the CN when there is no DNS SAN;
  // we never read the CN (checkHost subject: 'never', as browsers do since RFC 6125 §6.4.4).
  const ipOnlyCnLocalhost = issueCertificate({ issuer: labCa, commonName: 'localhost', ipAddresses: ['127.0.0.1'], notBefore, notAfter });

  it.each([
    ['127.0.0.1', 'server (DNS localhost, IP 127.0.0.1 and ::1)', true, server.certPem],
    ['::1', 'server (DNS localhost, IP 127.0.0.1 and ::1)', true, server.certPem],
    ['127.0.0.2', 'server (DNS localhost, IP 127.0.0.1 and ::1)', false, server.certPem],
    ['127.0.0.1', 'DNS SANs only, one of them spelling "127.0.0.1", CN 127.0.0.1', false, dnsOnly.certPem],
    ['::1', 'DNS SANs only', false, dnsOnly.certPem],
    ['localhost', 'IP SAN 127.0.0.1 only', false, ipOnly.certPem],
    ['127.0.0.1', 'IP SAN 127.0.0.1 only', true, ipOnly.certPem],
  ])('host %s against %s: accepted %s', (host, _what, accepted, pem) => {
    const r = verifyCertificatePem(pem, CA_AND_HOST, host, trust, NOW);
    expect(r).toEqual(accepted ? { ok: true } : expect.objectContaining({ ok: false, code: ERROR_CODES.CERT_HOSTNAME }));
    if (!accepted) expect(r.ok === false && r.message).toContain(`hostname mismatch: checked "${host}"`);
    expect(opensslAccepts(pem, NOW, isIpAddress(host) ? { ip: host } : { host })).toBe(accepted);
    // checkHostname off: the chain alone decides
    expect(verifyCertificatePem(pem, CA_ONLY, host, trust, NOW)).toEqual({ ok: true });
  });

  it('never matches a name against the subject CN', () => {
    expect(verifyCertificatePem(ipOnlyCnLocalhost.certPem, CA_AND_HOST, 'localhost', trust, NOW)).toMatchObject({ ok: false, code: ERROR_CODES.CERT_HOSTNAME });
    expect(verifyCertificatePem(dnsOnly.certPem, CA_AND_HOST, '127.0.0.1', trust, NOW)).toMatchObject({ ok: false, code: ERROR_CODES.CERT_HOSTNAME });
  });

  it.each([
    ['127.0.0.1', true],
    ['10.1.22.255', true],
    ['::1', true],
    ['2001:db8::7', true],
    ['localhost', false],
    ['1.2.3', false],
    ['1.2.3.4.5', false],
    ['a1.2.3.4', false],
    ['1.2.3.4b', false],
    ['1234.2.3.4', false],
  ])('isIpAddress(%s) = %s', (host, ip) => {
    expect(isIpAddress(host)).toBe(ip);
  });

  it('sends no SNI for an IP host (RFC 6066 §3) and the name otherwise', () => {
    expect(clientTlsOptions(CA_AND_HOST, '127.0.0.1', trust).servername).toBeUndefined();
    expect(clientTlsOptions(CA_AND_HOST, 'localhost', trust).servername).toBe('localhost');
  });
});

describe('TLS: the same IP rules on a real loopback handshake (verifyServerCertificate)', () => {
  /** Starts a TLS server with `pem`, connects to 127.0.0.1 as `host`, and runs our check on secureConnect. */
  async function verifyOverTls(leaf: { certPem: string; keyPem: string }, host: string, p: Profile, trust: ClientTrust): Promise<string | null> {
    const srv = tls.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (s) => s.end());
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as { port: number }).port;
    try {
      return await new Promise<string | null>((resolve, reject) => {
        const sock = tls.connect({ ...clientTlsOptions(p, host, trust), host: '127.0.0.1', port }, () => {
          try {
            verifyServerCertificate(sock, p, host, trust);
            resolve(null);
          } catch (err) {
            resolve((err as CertificateError).code);
          } finally {
            sock.destroy();
          }
        });
        sock.on('error', reject);
        sock.setTimeout(5000, () => reject(new Error('handshake timed out')));
      });
    } finally {
      await new Promise((resolve) => srv.close(resolve));
    }
  }
  const now = new Date();
  const live = { issuer: labCa, notBefore: new Date(now.getTime() - DAY_MS), notAfter: new Date(now.getTime() + DAY_MS) };
  // The handshake runs on today's clock, not NOW: a CA and leaves valid today.
  const liveCa = issueCertificate({ ...LAB_CA_NAME, isCa: true, notBefore: live.notBefore, notAfter: live.notAfter });
  const liveTrust: ClientTrust = { caPems: [liveCa.certPem] };
  const liveDnsOnly = issueCertificate({ ...live, issuer: liveCa, commonName: '127.0.0.1', dnsNames: ['localhost', '127.0.0.1'] });
  const liveIp = issueCertificate({ ...live, issuer: liveCa, commonName: 'localhost', ipAddresses: ['127.0.0.1'] });

  it('an IP host passes on an iPAddress SAN and is refused on a DNS SAN that spells the address', async () => {
    expect(await verifyOverTls(liveIp, '127.0.0.1', CA_AND_HOST, liveTrust)).toBeNull();
    expect(await verifyOverTls(liveDnsOnly, '127.0.0.1', CA_AND_HOST, liveTrust)).toBe(ERROR_CODES.CERT_HOSTNAME);
    expect(await verifyOverTls(liveDnsOnly, 'localhost', CA_AND_HOST, liveTrust)).toBeNull();
    expect(await verifyOverTls(liveIp, 'localhost', CA_AND_HOST, liveTrust)).toBe(ERROR_CODES.CERT_HOSTNAME);
  });
});
