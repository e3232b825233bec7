/**
 * The pieces of the lab PKI a class needs: server names (SAN dNSName / iPAddress, RFC 5280
 * §4.2.1.6), the exported CA file, and reading a client's trust anchor file — which must be a CA
 * certificate and never a key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caught } from './helpers/caught.ts';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { certificateCovers, certificateNames, checkServerNames, exportCa, initPki, loadPki, loadTrustAnchors, type PkiMaterial } from '../core/pki.ts';
import { ERROR_CODES, UsageError } from '../core/errors.ts';

let tmp: string;
let pki: PkiMaterial;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-pki-trust-'));
  await initPki({ dir: path.join(tmp, 'pki'), names: ['chat.lab', '10.0.0.5', '::1'] });
  pki = loadPki(path.join(tmp, 'pki'));
}, 120_000); // makes a lab PKI: six RSA keys, slow on a loaded machine
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('server certificate names', () => {
  it('puts host names in DNS entries and addresses in IP entries, defaults first, on the server and the forgeries of it', () => {
    expect(certificateNames(pki.server.certPem)).toEqual({ dns: ['localhost', 'chat.lab'], ip: ['127.0.0.1', '10.0.0.5', '0:0:0:0:0:0:0:1'] });
    // The attacker's copies of the server identity carry every name: only the chain betrays them.
    expect(certificateNames(pki.attackerSelfSigned.certPem)).toEqual(certificateNames(pki.server.certPem));
    expect(certificateNames(pki.attackerRogue.certPem)).toEqual(certificateNames(pki.server.certPem));
    expect(certificateNames(pki.attackerWrongHost.certPem)).toEqual({ dns: ['evil.example'], ip: [] });
  });

  it('covers a name the way a client checks it: an address only against IP entries', () => {
    expect(certificateCovers(pki.server.certPem, '10.0.0.5')).toBe(true);
    expect(certificateCovers(pki.server.certPem, '::1')).toBe(true);
    expect(certificateCovers(pki.server.certPem, 'CHAT.LAB')).toBe(true);
    expect(certificateCovers(pki.server.certPem, '10.0.0.6')).toBe(false);
    expect(certificateCovers(pki.server.certPem, 'other.lab')).toBe(false);
    const dnsOnly = certificateNames(pki.attackerWrongHost.certPem);
    expect(dnsOnly.ip).toEqual([]);
  });

  it('refuses a malformed name with a usage error naming --name', () => {
    for (const bad of ['has space', 'under_score.example', '-leading.example', 'a..b', '']) {
      const e = caught(() => checkServerNames([bad]));
      expect(e, bad).toBeInstanceOf(UsageError);
      expect(e.message).toContain('--name');
    }
    expect(() => checkServerNames(['chat.lab', '192.168.1.10', 'fe80::1', '*.lab.example', 'pc-12'])).not.toThrow();
  });
});

describe('the exported CA and a client\'s trust anchors', () => {
  it('export-ca writes the CA certificate only, 0644, with the fingerprint node and openssl use', () => {
    const out = path.join(tmp, 'class-ca.crt');
    const r = exportCa(path.join(tmp, 'pki'), out);
    expect(readFileSync(out, 'utf8')).toBe(r.certPem);
    expect(r.certPem).not.toMatch(/PRIVATE KEY/);
    expect(statSync(out).mode & 0o777).toBe(0o644);
    expect(r.fingerprint256).toBe(new X509Certificate(pki.ca.certPem).fingerprint256);
    expect(r.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(caught(() => exportCa(path.join(tmp, 'nowhere'))).code).toBe(ERROR_CODES.PKI);
  });

  it('loads CA certificates and refuses a key, a server leaf, an empty or a missing file, naming the option', () => {
    const write = (name: string, text: string) => {
      const f = path.join(tmp, name);
      writeFileSync(f, text);
      return f;
    };
    expect(loadTrustAnchors(write('two.pem', pki.ca.certPem + pki.rogueCa.certPem), '--ca')).toHaveLength(2);
    const key = caught(() => loadTrustAnchors(write('with-key.pem', pki.ca.certPem + pki.ca.keyPem), '--ca'));
    expect(key).toBeInstanceOf(UsageError);
    expect(key.message).toMatch(/--ca .*holds a private key; a client needs only the CA certificate/);
    expect(caught(() => loadTrustAnchors(write('leaf.pem', pki.server.certPem), 'client.ca')).message).toMatch(/client\.ca .*is not a CA certificate/);
    expect(caught(() => loadTrustAnchors(write('empty.pem', 'hello'), '--ca')).message).toMatch(/no PEM certificate/);
    expect(caught(() => loadTrustAnchors(path.join(tmp, 'missing.pem'), '--ca')).message).toMatch(/--ca .*cannot read it \(ENOENT\).*pki export-ca/);
  });
});
