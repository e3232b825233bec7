/**
 * The identity a client checks is the one the user asked for (RFC 6125 §6; an IP address only
 * against iPAddress SANs, RFC 5280 §4.2.1.6), on direct TLS and on STARTTLS, with refusals that
 * name the checked name and a fix; and a server that leaves out its intermediate is named as an
 * incomplete chain, at the client and when the server starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { issueCertificate, PKI_FILES, type PkiMaterial } from '../core/pki.ts';
import { chainGap } from '../core/cert-chain.ts';
import { ChatClient } from '../client/chat-client.ts';
import { startChatServer, type ChatServer } from '../server/chat-server.ts';
import { ERROR_CODES } from '../core/errors.ts';
import { verifyCertificatePem } from '../core/tls/certificate-verification.ts';
import type { Profile } from '../core/profile.ts';
import { makeTestPki, profileOf } from './helpers/lab-env.ts';
import { runCli, startCliServer } from './helpers/cli.ts';

const DAY_MS = 86_400_000;
const validity = () => ({ notBefore: new Date(Date.now() - DAY_MS), notAfter: new Date(Date.now() + 30 * DAY_MS) });

let pki: PkiMaterial;
let pkiDir: string;
let cleanup: () => void;
let tmp: string;
let caFile: string;
const servers: ChatServer[] = [];

beforeAll(async () => {
  ({ pki, dir: pkiDir, cleanup } = await makeTestPki());
  tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-identity-'));
  caFile = path.join(tmp, 'ca.crt');
  writeFileSync(caFile, pki.ca.certPem);
}, 120_000); // makes a lab PKI: six RSA keys, slow on a loaded machine
afterAll(async () => {
  for (const s of servers) await s.close();
  cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

async function serve(profile: Profile, identity: { certPem: string; keyPem: string }): Promise<ChatServer> {
  const s = await startChatServer({ profile, identity, dbPath: path.join(mkdtempSync(path.join(tmp, 'db-')), 'users.db') });
  servers.push(s);
  return s;
}

const leafNaming = (names: { dnsNames?: string[]; ipAddresses?: string[] }) => issueCertificate({ issuer: pki.ca, commonName: 'class server', ...names, ...validity() });

describe('secchat client checks the name the user typed', { timeout: 180_000 }, () => {
  const tlsProfile = () => profileOf({});
  const chat = (port: number, extra: string[] = []) =>
    runCli(['client', '-p', 'tls-verified', '--host', '127.0.0.1', '--port', String(port), '--ca', caFile, '-u', `u${Math.random().toString(36).slice(2, 8)}`, '--register', ...extra], {
      cwd: tmp,
      input: 'hello\n',
      env: { SECCHAT_PASSWORD: 'a-long-password-1' },
    });

  it('refuses a certificate naming only localhost when the user typed 127.0.0.1, saying which name and how to fix it', async () => {
    const s = await serve(tlsProfile(), leafNaming({ dnsNames: ['localhost'] }));
    const r = await chat(s.port);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/hostname mismatch: checked "127\.0\.0\.1" \(an IP address/);
    expect(r.stderr).toContain('DNS:localhost');
    expect(r.stderr).toContain('--servername');
    expect(r.stderr).toContain('pki init --force --name 127.0.0.1');
    expect(r.stderr).not.toMatch(/verify: none|--insecure|turn (off|verification)/i);
  });

  it('accepts a certificate whose only name is the IP SAN 127.0.0.1', async () => {
    const s = await serve(tlsProfile(), leafNaming({ ipAddresses: ['127.0.0.1'] }));
    const r = await chat(s.port);
    expect(r.stderr).not.toMatch(/refused/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('[room] you: hello');
  });

  it('--servername names what to check explicitly', async () => {
    const s = await serve(tlsProfile(), leafNaming({ dnsNames: ['localhost'] }));
    const r = await chat(s.port, ['--servername', 'localhost']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('an IPv6 address is checked against IP entries only, on the secure channel\'s check too', () => {
    const profile = profileOf({ transport: 'plain', channel: { keyExchange: 'ecdhe-signed' } });
    const trust = { caPems: [pki.ca.certPem] };
    const v6Only = leafNaming({ ipAddresses: ['::1'] }).certPem;
    expect(verifyCertificatePem(v6Only, profile, '::1', trust)).toEqual({ ok: true });
    const refused = verifyCertificatePem(v6Only, profile, 'localhost', trust);
    expect(refused).toMatchObject({ ok: false, code: ERROR_CODES.CERT_HOSTNAME });
    const dnsNamedLikeAnAddress = leafNaming({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }).certPem;
    expect(verifyCertificatePem(dnsNamedLikeAnAddress, profile, '::1', trust)).toMatchObject({ ok: false, message: expect.stringContaining('checked "::1" (an IP address') });
  });

  it('the same on a STARTTLS upgrade', async () => {
    const profile = profileOf({ transport: 'starttls-required' });
    const dnsOnly = await serve(profile, leafNaming({ dnsNames: ['localhost'] }));
    const trust = { caPems: [pki.ca.certPem] };
    const err = await ChatClient.connect({ profile, host: '127.0.0.1', port: dnsOnly.port, trust, connectTimeoutMs: 5000 }).catch((e) => e);
    expect(err.code).toBe(ERROR_CODES.CERT_HOSTNAME);
    expect(err.message).toContain('checked "127.0.0.1"');
    const ipOnly = await serve(profile, leafNaming({ ipAddresses: ['127.0.0.1'] }));
    const c = await ChatClient.connect({ profile, host: '127.0.0.1', port: ipOnly.port, trust, connectTimeoutMs: 5000 });
    expect(c.negotiated?.protocol).toMatch(/^TLSv1\.[23]$/);
    c.close();
  });
});

describe('a chain without its intermediate (issue 12.7)', { timeout: 180_000 }, () => {
  let root: { certPem: string; keyPem: string };
  let inter: { certPem: string; keyPem: string };
  let leaf: { certPem: string; keyPem: string };
  beforeAll(() => {
    root = issueCertificate({ commonName: 'Teaching Root CA', isCa: true, ...validity() });
    inter = issueCertificate({ commonName: 'Teaching Intermediate CA', isCa: true, issuer: root, ...validity() });
    leaf = issueCertificate({ commonName: 'class server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], issuer: inter, ...validity() });
  });

  it('the fixture is what openssl calls an incomplete chain (interop)', () => {
    const dir = mkdtempSync(path.join(tmp, 'chain-'));
    for (const [n, pem] of Object.entries({ root: root.certPem, inter: inter.certPem, leaf: leaf.certPem })) writeFileSync(path.join(dir, `${n}.pem`), pem);
    const verify = (extra: string[]) => {
      try {
        return execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'root.pem'), ...extra, path.join(dir, 'leaf.pem')], { encoding: 'utf8', stdio: 'pipe' });
      } catch (e) {
        return String((e as { stdout?: string }).stdout) + String((e as { stderr?: string }).stderr);
      }
    };
    expect(verify([])).toMatch(/unable to get local issuer certificate/);
    expect(verify(['-untrusted', path.join(dir, 'inter.pem')])).toMatch(/: OK/);
  });

  it('the client says the chain is incomplete, names the issuer and the fix', async () => {
    const profile = profileOf({});
    const s = await serve(profile, leaf);
    const err = await ChatClient.connect({ profile, host: '127.0.0.1', port: s.port, trust: { caPems: [root.certPem] }, connectTimeoutMs: 5000 }).catch((e) => e);
    expect(err.code).toBe(ERROR_CODES.CERT_UNKNOWN_CA);
    expect(err.details.reason, err.message).toBe('incomplete chain or unknown CA');
    expect(err.message).toMatch(/the server sent only its own certificate, issued by "CN=Teaching Intermediate CA"/);
    expect(err.message).toMatch(/serve the full chain/);
  });

  it('the same server with the full chain is accepted', async () => {
    const profile = profileOf({});
    const s = await serve(profile, { certPem: leaf.certPem + inter.certPem, keyPem: leaf.keyPem });
    const c = await ChatClient.connect({ profile, host: '127.0.0.1', port: s.port, trust: { caPems: [root.certPem] }, connectTimeoutMs: 5000 });
    expect(c.negotiated).not.toBeNull();
    c.close();
  });

  it('chainGap finds the missing issuer, and nothing missing in a complete chain', () => {
    expect(chainGap(leaf.certPem, [root.certPem])).toEqual({ last: 'CN=class server', missingIssuer: 'CN=Teaching Intermediate CA' });
    expect(chainGap(leaf.certPem + inter.certPem, [root.certPem])).toBeNull();
    expect(chainGap(leaf.certPem + inter.certPem + root.certPem)).toBeNull();
    expect(chainGap(pki.server.certPem, [pki.ca.certPem])).toBeNull();
    expect(chainGap(pki.server.certPem)).toEqual({ last: 'CN=localhost, O=secchat lab', missingIssuer: 'CN=secchat Lab Root CA, O=secchat lab' });
  });

  it('secchat server warns at start when its chain does not reach a self-signed root, and not when it does', async () => {
    const dir = mkdtempSync(path.join(tmp, 'srv-pki-'));
    for (const f of Object.values(PKI_FILES)) {
      copyFileSync(path.join(pkiDir, f.cert), path.join(dir, f.cert));
      copyFileSync(path.join(pkiDir, f.key), path.join(dir, f.key));
    }
    const labInter = issueCertificate({ commonName: 'Lab Intermediate CA', isCa: true, issuer: pki.ca, ...validity() });
    const labLeaf = issueCertificate({ commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], issuer: labInter, ...validity() });
    writeFileSync(path.join(dir, 'server.key'), labLeaf.keyPem, { mode: 0o600 });
    for (const [certPem, warned] of [
      [labLeaf.certPem, true],
      [labLeaf.certPem + labInter.certPem, false],
    ] as const) {
      writeFileSync(path.join(dir, 'server.crt'), certPem);
      const srv = await startCliServer(['-p', 'tls-verified', '--port', '0', '--pki', dir, '--db', path.join(dir, 'users.db')], { cwd: tmp });
      await srv.stop();
      if (warned) {
        expect(srv.stderr()).toMatch(/chain does not reach a self-signed root: "CN=localhost" is issued by "CN=Lab Intermediate CA"/);
        expect(srv.stderr()).toMatch(/append the intermediate/);
      } else expect(srv.stderr()).not.toMatch(/self-signed root/);
    }
  });
});

describe('the wrong transport', { timeout: 60_000 }, () => {
  it('a plaintext client at a TLS server hears nothing, and the timeout says what the silence means (found by a fresh-clone trial)', async () => {
    const s = await serve(profileOf({}), pki.server);
    const err = await ChatClient.connect({ profile: profileOf({ transport: 'plain' }), host: '127.0.0.1', port: s.port, trust: { caPems: [pki.ca.certPem] }, connectTimeoutMs: 400 }).catch((e) => e);
    expect(err.code).toBe(ERROR_CODES.TIMEOUT);
    expect(err.message).toMatch(/^no welcome from 127\.0\.0\.1:\d+ within 400 ms \(the server said nothing: if it runs transport tls, this profile's transport plain cannot talk to it — use a profile with transport: tls\)$/);
  });
});
