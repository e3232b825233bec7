/**
 * The lab PKI, checked by parties other than the code that built it: node's X509Certificate,
 * the openssl CLI (3.0), and a real node:tls handshake on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { ERROR_CODES, SecchatError } from '../core/errors.ts';
import {
  LEAF_VALIDITY_DAYS, CA_VALIDITY_DAYS, NOT_BEFORE_BACKDATE_MS, PKI_FILES, type PkiMaterial, type PkiRole,
  ensurePki, initPki, issueCertificate, loadPki, spkiPin,
} from '../core/pki.ts';

const DAY_MS = 86_400_000;
let tmp: string;
let dir: string;
let pki: PkiMaterial;
let now: Date;
const x509 = {} as Record<PkiRole, X509Certificate>;
const roles = Object.keys(PKI_FILES) as PkiRole[];

/** Run openssl; never throws, so a test can assert on failure as well as success. */
function openssl(args: string[], input?: Buffer | string): { ok: boolean; out: string; stdout: Buffer } {
  try {
    const stdout = execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
    return { ok: true, out: stdout.toString('latin1'), stdout };
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    return { ok: false, out: `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`, stdout: e.stdout ?? Buffer.alloc(0) };
  }
}
const file = (role: PkiRole, kind: 'cert' | 'key' = 'cert'): string => path.join(dir, PKI_FILES[role][kind]);
const text = (role: PkiRole): string => openssl(['x509', '-in', file(role), '-noout', '-text']).out;

/** Collect a thrown SecchatError (or fail). */
async function caught(fn: () => unknown): Promise<SecchatError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecchatError);
    return err as SecchatError;
  }
  throw new Error('expected a SecchatError, nothing was thrown');
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-pki-'));
  dir = path.join(tmp, 'pki');
  now = new Date(Math.floor(Date.now() / 1000) * 1000);
  expect(await initPki({ dir, now })).toEqual({ dir, created: true });
  pki = loadPki(dir);
  for (const role of roles) x509[role] = new X509Certificate(pki[role].certPem);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('certificate contents (node X509Certificate)', () => {
  it('lab CA is a self-issued CA root', () => {
    expect(x509.ca.subject).toContain('CN=secchat Lab Root CA');
    expect(x509.ca.issuer).toBe(x509.ca.subject);
    expect(x509.ca.ca).toBe(true);
    expect(x509.ca.verify(x509.ca.publicKey)).toBe(true);
  });

  it('server leaf: CN, SANs, issuer, not a CA, matches localhost and 127.0.0.1', () => {
    const s = x509.server;
    expect(s.subject).toContain('CN=localhost');
    expect(s.issuer).toBe(x509.ca.subject);
    expect(s.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(s.ca).toBe(false);
    expect(s.checkHost('localhost')).toBe('localhost');
    expect(s.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(s.checkHost('evil.example')).toBeUndefined();
    expect(s.verify(x509.ca.publicKey)).toBe(true);
    expect(s.verify(x509.rogueCa.publicKey)).toBe(false);
    expect(s.checkIssued(x509.ca)).toBe(true);
  });

  it('self-signed attacker copies the server identity but signs itself', () => {
    const a = x509.attackerSelfSigned;
    expect(a.subject).toBe(x509.server.subject);
    expect(a.issuer).toBe(a.subject);
    expect(a.subjectAltName).toBe(x509.server.subjectAltName);
    expect(a.ca).toBe(false);
    expect(a.verify(a.publicKey)).toBe(true);
    expect(a.verify(x509.ca.publicKey)).toBe(false);
    expect(a.publicKey.equals(x509.server.publicKey)).toBe(false);
  });

  it('wrong-host attacker is genuinely lab-issued but names only evil.example', () => {
    const w = x509.attackerWrongHost;
    expect(w.subject).toContain('CN=evil.example');
    expect(w.subjectAltName).toBe('DNS:evil.example');
    expect(w.verify(x509.ca.publicKey)).toBe(true);
    expect(w.checkHost('evil.example')).toBe('evil.example');
    expect(w.checkHost('localhost')).toBeUndefined();
    expect(w.checkIP('127.0.0.1')).toBeUndefined();
  });

  it('rogue CA is a different root, and its leaf claims localhost', () => {
    expect(x509.rogueCa.subject).toContain('CN=Rogue Interception CA');
    expect(x509.rogueCa.subject).not.toBe(x509.ca.subject);
    expect(x509.rogueCa.ca).toBe(true);
    const r = x509.attackerRogue;
    expect(r.issuer).toBe(x509.rogueCa.subject);
    expect(r.checkHost('localhost')).toBe('localhost');
    expect(r.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(r.verify(x509.rogueCa.publicKey)).toBe(true);
    expect(r.verify(x509.ca.publicKey)).toBe(false);
  });

  it('serials are positive, at most 16 bytes, and distinct', () => {
    const serials = roles.map((role) => BigInt(`0x${x509[role].serialNumber}`));
    for (const s of serials) {
      expect(s > 0n).toBe(true);
      expect(s < 1n << 127n).toBe(true);
    }
    expect(new Set(serials).size).toBe(roles.length);
  });

  it('validity: backdated notBefore, leaf period within 825 days, CA ten years', () => {
    const notBefore = now.getTime() - NOT_BEFORE_BACKDATE_MS;
    for (const role of roles) {
      const c = x509[role];
      expect(new Date(c.validFrom).getTime()).toBe(notBefore);
      const days = role === 'ca' || role === 'rogueCa' ? CA_VALIDITY_DAYS : LEAF_VALIDITY_DAYS;
      // Inclusive period (RFC 5280 §4.1.2.5): the last valid second is days * 86400 - 1 after notBefore.
      expect(new Date(c.validTo).getTime() - notBefore).toBe(days * DAY_MS - 1000);
    }
    expect(LEAF_VALIDITY_DAYS).toBeLessThanOrEqual(825);
  });
});

describe('extensions and algorithms (openssl x509 -text)', () => {
  it('CA: critical basicConstraints CA:TRUE, critical keyCertSign+cRLSign, SKI', () => {
    const t = text('ca');
    expect(t).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(t).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    expect(t).toMatch(/X509v3 Subject Key Identifier:/);
    expect(t).not.toMatch(/Extended Key Usage/);
  });

  it('server: CA:FALSE, digitalSignature+keyEncipherment, serverAuth, AKI = CA SKI', () => {
    const t = text('server');
    expect(t).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(t).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    expect(t).toMatch(/X509v3 Extended Key Usage:\s*\n\s+TLS Web Server Authentication\n/);
    const caSki = /Subject Key Identifier:\s*\n\s+([0-9A-F:]+)/.exec(text('ca'))?.[1];
    const aki = /Authority Key Identifier:\s*\n\s+(?:keyid:)?([0-9A-F:]+)/.exec(t)?.[1];
    expect(caSki).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(aki).toBe(caSki);
  });

  it('every certificate: v3, sha256WithRSAEncryption, RSA-2048 by default', () => {
    for (const role of roles) {
      const t = text(role);
      expect(t).toContain('Version: 3 (0x2)');
      expect(t.match(/Signature Algorithm: sha256WithRSAEncryption/g)).toHaveLength(2);
      expect(t).toContain('Public-Key: (2048 bit)');
    }
  });
});

describe('openssl verify interop', () => {
  it('server.crt chains to ca.crt (strict, sslserver purpose, hostname and IP)', () => {
    const r = openssl(['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', 'localhost', '-verify_ip', '127.0.0.1', '-CAfile', file('ca'), file('server')]);
    expect(r.out).toContain(': OK');
    expect(r.ok).toBe(true);
  });

  it('rogue leaf fails against the lab CA and passes against the rogue CA', () => {
    const lab = openssl(['verify', '-CAfile', file('ca'), file('attackerRogue')]);
    expect(lab.ok).toBe(false);
    expect(lab.out).toContain('unable to get local issuer certificate');
    const rogue = openssl(['verify', '-x509_strict', '-CAfile', file('rogueCa'), file('attackerRogue')]);
    expect(rogue.ok).toBe(true);
    expect(rogue.out).toContain(': OK');
  });

  it('wrong-host leaf chains to the lab CA but fails hostname verification for localhost', () => {
    expect(openssl(['verify', '-x509_strict', '-CAfile', file('ca'), file('attackerWrongHost')]).ok).toBe(true);
    const r = openssl(['verify', '-CAfile', file('ca'), '-verify_hostname', 'localhost', file('attackerWrongHost')]);
    expect(r.ok).toBe(false);
    expect(r.out).toContain('hostname mismatch');
  });

  it('self-signed leaf fails against the lab CA', () => {
    const r = openssl(['verify', '-CAfile', file('ca'), file('attackerSelfSigned')]);
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/self[- ]signed certificate/);
  });
});

describe('files on disk', () => {
  it('private keys are 0600, certificates 0644, directory 0700', () => {
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const role of roles) {
      expect(statSync(file(role, 'key')).mode & 0o777).toBe(0o600);
      expect(statSync(file(role, 'cert')).mode & 0o777).toBe(0o644);
    }
  });

  it('re-running initPki reuses every file byte for byte', async () => {
    const before = roles.map((role) => readFileSync(file(role)).toString() + readFileSync(file(role, 'key')).toString());
    expect(await initPki({ dir })).toEqual({ dir, created: false });
    expect(roles.map((role) => readFileSync(file(role)).toString() + readFileSync(file(role, 'key')).toString())).toEqual(before);
  });

  it('force regenerates every certificate and key, and tightens a loosened key mode', async () => {
    const copy = path.join(tmp, 'forced');
    cpSync(dir, copy, { recursive: true });
    const keyPath = path.join(copy, PKI_FILES.server.key);
    chmodSync(keyPath, 0o644);
    expect(await initPki({ dir: copy, force: true })).toEqual({ dir: copy, created: true });
    const fresh = loadPki(copy);
    for (const role of roles) {
      expect(fresh[role].certPem).not.toBe(pki[role].certPem);
      expect(fresh[role].keyPem).not.toBe(pki[role].keyPem);
    }
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
  });

  it('a partial directory throws naming the missing files and --force', async () => {
    const copy = path.join(tmp, 'partial');
    cpSync(dir, copy, { recursive: true });
    unlinkSync(path.join(copy, 'server.key'));
    unlinkSync(path.join(copy, 'rogue-ca.crt'));
    const err = await caught(() => initPki({ dir: copy }));
    expect(err.code).toBe(ERROR_CODES.PKI);
    expect(err.message).toContain('server.key');
    expect(err.message).toContain('rogue-ca.crt');
    expect(err.message).toContain('--force');
    expect(err.details.missing).toEqual(['server.key', 'rogue-ca.crt']);
  });

  it('loadPki names missing and unreadable files and says to run `secchat pki init`', async () => {
    const empty = await caught(() => loadPki(path.join(tmp, 'nowhere')));
    expect(empty.code).toBe(ERROR_CODES.PKI);
    expect(empty.message).toContain('secchat pki init');
    expect(empty.details.missing).toHaveLength(12);

    const copy = path.join(tmp, 'corrupt');
    cpSync(dir, copy, { recursive: true });
    writeFileSync(path.join(copy, 'ca.crt'), 'not a certificate');
    cpSync(path.join(dir, 'rogue-ca.key'), path.join(copy, 'server.key')); // a key from another pair
    const err = await caught(() => loadPki(copy));
    expect(err.message).toContain('ca.crt');
    expect(err.message).toMatch(/server\.key \(does not match server\.crt\)/);
    expect(err.message).not.toContain('BEGIN'); // never echo key material
  });

  it('ensurePki creates a missing PKI and then loads it', async () => {
    const fresh = await ensurePki(path.join(tmp, 'ensured', 'nested'));
    expect(new X509Certificate(fresh.server.certPem).verify(new X509Certificate(fresh.ca.certPem).publicKey)).toBe(true);
    expect((await ensurePki(fresh.dir)).server.certPem).toBe(fresh.server.certPem);
  });
});

describe('spkiPin (RFC 7469 §2.4)', () => {
  it('equals the openssl pipeline x509 -pubkey | pkey -pubin -outform der | dgst -sha256 -binary | base64', () => {
    for (const role of ['server', 'ca', 'attackerRogue'] as const) {
      const pubPem = openssl(['x509', '-in', file(role), '-pubkey', '-noout']).stdout;
      const der = openssl(['pkey', '-pubin', '-outform', 'der'], pubPem).stdout;
      const digest = openssl(['dgst', '-sha256', '-binary'], der).stdout;
      const b64 = openssl(['base64', '-A'], digest).out.trim();
      expect(digest).toHaveLength(32);
      expect(spkiPin(pki[role].certPem)).toBe(`sha256/${b64}`);
    }
  });

  it('differs between keys and rejects non-certificates', async () => {
    expect(spkiPin(pki.server.certPem)).not.toBe(spkiPin(pki.attackerSelfSigned.certPem));
    expect((await caught(() => spkiPin('garbage'))).code).toBe(ERROR_CODES.PKI);
  });
});

describe('issueCertificate (in memory)', () => {
  it('issues an expired leaf under the lab CA that openssl rejects as expired', () => {
    const leaf = issueCertificate({ issuer: pki.ca, commonName: 'localhost', dnsNames: ['localhost'], notBefore: new Date(Date.now() - 10 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
    const c = new X509Certificate(leaf.certPem);
    expect(c.verify(x509.ca.publicKey)).toBe(true);
    expect(new Date(c.validTo).getTime()).toBeLessThan(Date.now());
    const leafFile = path.join(tmp, 'expired.crt');
    writeFileSync(leafFile, leaf.certPem);
    const r = openssl(['verify', '-CAfile', file('ca'), leafFile]);
    expect(r.ok).toBe(false);
    expect(r.out).toContain('certificate has expired');
  });

  it('rejects impossible arguments with SecchatError(PKI)', async () => {
    const t = new Date();
    expect((await caught(() => issueCertificate({ commonName: 'x', notBefore: t, notAfter: t }))).message).toContain('notAfter');
    expect((await caught(() => issueCertificate({ commonName: 'x', ipAddresses: ['300.1.1.1'], notBefore: t, notAfter: new Date(t.getTime() + DAY_MS) }))).message).toContain('300.1.1.1');
    expect((await caught(() => issueCertificate({ commonName: '', notBefore: t, notAfter: new Date(t.getTime() + DAY_MS) }))).code).toBe(ERROR_CODES.PKI);
    const mismatched = { certPem: pki.ca.certPem, keyPem: pki.rogueCa.keyPem };
    expect((await caught(() => issueCertificate({ issuer: mismatched, commonName: 'x', notBefore: t, notAfter: new Date(t.getTime() + DAY_MS) }))).message).toContain('does not match');
  });

  it('rsa-4096 keys on request', () => {
    const c = issueCertificate({ commonName: 'big', keyType: 'rsa-4096', notBefore: new Date(), notAfter: new Date(Date.now() + DAY_MS) });
    expect(new X509Certificate(c.certPem).publicKey.asymmetricKeyDetails?.modulusLength).toBe(4096);
  });
});

describe('real TLS handshake (node:tls on loopback)', () => {
  /** Serve `role` on 127.0.0.1:0 and connect trusting `caRole`; resolve with the client's verdict. */
  async function handshake(role: PkiRole, caRole: PkiRole): Promise<{ authorized: boolean; error: string | null }> {
    const server = tls.createServer({ cert: pki[role].certPem, key: pki[role].keyPem }, (s) => s.end());
    server.on('tlsClientError', () => {}); // the client may reject us; that is the point
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      return await new Promise((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ca: pki[caRole].certPem, servername: 'localhost', rejectUnauthorized: false }, () => {
          const authError = socket.authorizationError;
          resolve({ authorized: socket.authorized, error: authError === null || authError === undefined ? null : String(authError) });
          socket.destroy();
        });
        socket.on('error', reject);
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('client trusting ca.crt accepts server.crt for servername localhost', async () => {
    expect(await handshake('server', 'ca')).toEqual({ authorized: true, error: null });
  });

  it('client trusting ca.crt rejects the rogue, wrong-host and self-signed leaves', async () => {
    expect(await handshake('attackerRogue', 'ca')).toEqual({ authorized: false, error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(await handshake('attackerWrongHost', 'ca')).toEqual({ authorized: false, error: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(await handshake('attackerSelfSigned', 'ca')).toEqual({ authorized: false, error: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });
});
