/**
 * A profile's TLS capabilities come from OpenSSL, not from the text of `tls.ciphers`: defaults are
 * forward-secret AEAD only, weak settings are found however they are spelled, and settings that
 * cannot work are refused when the profile loads (issue 14, issue 12 item 6).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProfile, parseProfile } from '../core/profile.ts';
import { checkTlsSettings, cipherString, tlsWarnings } from '../core/tls/node-options.ts';
import { checkTlsHandshakes, parseOpensslCipherLine, splitCipherString, suiteRunsOn, suiteUsableWithKey, tlsCapabilities, allSuites } from '../core/tls-capabilities.ts';
import { weaknessesOf } from '../core/weaknesses.ts';
import { ensurePki, type PkiMaterial } from '../core/pki.ts';
import { main } from '../cli/main.ts';

const prof = (tlsYaml: string) => parseProfile(`name: x\ntls: ${tlsYaml}\n`);
const weakSettings = (tlsYaml: string) => weaknessesOf(prof(tlsYaml)).map((w) => w.weakness);

describe('parseOpensslCipherLine (openssl ciphers -V -stdname)', () => {
  it('reads the wire value, both names, the min protocol and Kx/Au/Enc/Mac, and derives the properties', () => {
    const rsa = parseOpensslCipherLine('          0x00,0x2F - TLS_RSA_WITH_AES_128_CBC_SHA                  - AES128-SHA                     SSLv3   Kx=RSA      Au=RSA   Enc=AES(128)               Mac=SHA1')!;
    expect(rsa).toMatchObject({ id: 0x002f, iana: 'TLS_RSA_WITH_AES_128_CBC_SHA', openssl: 'AES128-SHA', minProtocol: 'SSLv3', kx: 'RSA', auth: 'RSA', enc: 'AES(128)', mac: 'SHA1' });
    expect(rsa).toMatchObject({ aead: false, forwardSecret: false, staticRsa: true, cbc: true, sha1Mac: true, nullEncryption: false, anonymous: false, export: false });
    const gcm = parseOpensslCipherLine('          0xC0,0x2F - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256         - ECDHE-RSA-AES128-GCM-SHA256    TLSv1.2 Kx=ECDH     Au=RSA   Enc=AESGCM(128)            Mac=AEAD')!;
    expect(gcm).toMatchObject({ id: 0xc02f, aead: true, forwardSecret: true, staticRsa: false, cbc: false, sha1Mac: false });
    const anon = parseOpensslCipherLine('          0x00,0xA6 - TLS_DH_anon_WITH_AES_128_GCM_SHA256           - ADH-AES128-GCM-SHA256          TLSv1.2 Kx=DH       Au=None  Enc=AESGCM(128)            Mac=AEAD')!;
    expect(anon.anonymous).toBe(true);
    const nul = parseOpensslCipherLine('          0x00,0x3B - TLS_RSA_WITH_NULL_SHA256                      - NULL-SHA256                    TLSv1.2 Kx=RSA      Au=RSA   Enc=None                   Mac=SHA256')!;
    expect(nul).toMatchObject({ nullEncryption: true, cbc: false });
    const t13 = parseOpensslCipherLine('          0x13,0x01 - TLS_AES_128_GCM_SHA256                        - TLS_AES_128_GCM_SHA256         TLSv1.3 Kx=any      Au=any   Enc=AESGCM(128)            Mac=AEAD')!;
    expect(t13).toMatchObject({ forwardSecret: true, aead: true });
    expect(parseOpensslCipherLine('Error in cipher list')).toBeNull();
  });

  it('runs a suite only on the versions OpenSSL allows it, and only with a certificate key it can use', () => {
    const cbc = parseOpensslCipherLine('0xC0,0x13 - TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA - ECDHE-RSA-AES128-SHA TLSv1 Kx=ECDH Au=RSA Enc=AES(128) Mac=SHA1')!;
    expect(['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'].map((v) => suiteRunsOn(cbc, v as 'TLSv1'))).toEqual([true, true, true, false]);
    const ecdsa = parseOpensslCipherLine('0xC0,0x2B - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 - ECDHE-ECDSA-AES128-GCM-SHA256 TLSv1.2 Kx=ECDH Au=ECDSA Enc=AESGCM(128) Mac=AEAD')!;
    expect(suiteUsableWithKey(ecdsa, 'rsa')).toBe(false);
    expect(suiteUsableWithKey(ecdsa, 'ec')).toBe(true);
  });

  it('splits node\'s one cipher string the way node does', () => {
    expect(splitCipherString('TLS_AES_128_GCM_SHA256:AES128-SHA:@SECLEVEL=0')).toEqual({ cipherList: 'AES128-SHA:@SECLEVEL=0', cipherSuites: 'TLS_AES_128_GCM_SHA256' });
    expect(splitCipherString('ECDHE+AESGCM').cipherSuites).toMatch(/^TLS_AES_256_GCM_SHA384:/);
  });
});

describe('modern defaults (issue 14)', () => {
  it('a profile with no tls: section, and tls-verified, negotiate only forward-secret AEAD suites on TLS 1.2 and 1.3', () => {
    for (const p of [parseProfile('name: x\n'), loadProfile('tls-verified')]) {
      const caps = tlsCapabilities(p);
      expect(caps.versions.map((v) => v.version)).toEqual(['TLSv1.2', 'TLSv1.3']);
      for (const v of caps.versions) {
        expect(v.suites.length).toBeGreaterThan(0);
        for (const s of v.suites) expect({ s: s.openssl, fs: s.forwardSecret, aead: s.aead }).toEqual({ s: s.openssl, fs: true, aead: true });
      }
      expect(weaknessesOf(p).filter((w) => w.setting === 'tls.ciphers')).toEqual([]);
    }
  });

  it('presets that teach a weakness still show it', () => {
    expect(allSuites(tlsCapabilities(loadProfile('tls12-rsa-kx'))).every((s) => s.staticRsa)).toBe(true);
    const legacy = tlsCapabilities(loadProfile('legacy-tls10'));
    expect(legacy.versions.find((v) => v.version === 'TLSv1')!.suites.some((s) => s.staticRsa)).toBe(true);
    const fallback = tlsCapabilities(loadProfile('tls-fallback'));
    expect(fallback.versions.find((v) => v.version === 'TLSv1')!.suites.length).toBeGreaterThan(0);
  });
});

describe('weak settings computed by OpenSSL, however they are spelled (issue 14)', () => {
  const RSA_KX = /RSA key exchange is allowed/;
  const CBC = /CBC-mode suites are allowed/;
  for (const ciphers of ['HIGH', 'DEFAULT', 'ALL:@SECLEVEL=1', 'kRSA+AESGCM']) {
    it(`tls.ciphers: ${ciphers} is flagged for static-RSA key exchange${ciphers === 'kRSA+AESGCM' ? '' : ' and CBC suites'}`, () => {
      const w = weakSettings(`{ciphers: "${ciphers}"}`);
      expect(w.some((x) => RSA_KX.test(x))).toBe(true);
      if (ciphers !== 'kRSA+AESGCM') expect(w.some((x) => CBC.test(x))).toBe(true);
      else expect(w.some((x) => CBC.test(x))).toBe(false);
    });
  }

  it('tls.ciphers: ECDHE+AESGCM is not flagged', () => {
    const w = weakSettings('{ciphers: "ECDHE+AESGCM"}');
    expect(w.some((x) => RSA_KX.test(x) || CBC.test(x) || /SHA1/.test(x))).toBe(false);
  });

  it('static RSA is not flagged when the range excludes every version that could use it', () => {
    expect(weakSettings('{minVersion: TLSv1.3, maxVersion: TLSv1.3}').some((x) => RSA_KX.test(x))).toBe(false);
  });

  it('NULL and anonymous suites are flagged when the security level lets them through', () => {
    expect(weakSettings('{ciphers: "ECDHE+AESGCM:aNULL:@SECLEVEL=0"}').some((x) => /NULL, anonymous or export/.test(x))).toBe(true);
    expect(weakSettings('{ciphers: "ECDHE+AESGCM:aNULL"}').some((x) => /NULL, anonymous or export/.test(x))).toBe(false); // level 1 removes them
  });
});

describe('TLS settings that cannot work are refused at load (issue 12 item 6)', () => {
  let pki: PkiMaterial;
  beforeAll(async () => {
    pki = await ensurePki(mkdtempSync(path.join(os.tmpdir(), 'secchat-caps-pki-')));
  });

  it.each([
    ['{minVersion: TLSv1.2, maxVersion: TLSv1.2, ciphers: "TLS_AES_128_GCM_SHA256"}', /tls\.ciphers: TLSv1\.2 is allowed .* no handshake can use it/],
    ['{minVersion: TLSv1.2, ciphers: "TLS_AES_128_GCM_SHA256"}', /tls\.ciphers: TLSv1\.2 is allowed .* no handshake can use it/],
    ['{minVersion: TLSv1.3, maxVersion: TLSv1.3, ciphers: "ECDHE+AESGCM"}', /tls\.ciphers: "ECDHE\+AESGCM" has no effect/],
    ['{minVersion: TLSv1.2, maxVersion: TLSv1.2, ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"}', /need a certificate key other than the server's RSA key/],
    ['{minVersion: TLSv1.2, maxVersion: TLSv1.2, ciphersuites: TLS_AES_128_GCM_SHA256}', /tls\.ciphersuites: has no effect/],
    ['{minVersion: TLSv1, maxVersion: TLSv1.3}', /TLSv1 is allowed .* no handshake can use it: tls\.ciphers is not set, and the default list holds only AEAD suites, which need TLS 1\.2; TLSv1 has CBC suites only — set tls\.ciphers/],
    ['{minVersion: TLSv1.1, maxVersion: TLSv1.2}', /^(?![\s\S]*OpenSSL enables no)[\s\S]*TLSv1\.1 is allowed .* tls\.ciphers is not set/],
  ])('%s', (y, why) => {
    expect(() => checkTlsSettings(prof(y))).toThrow(why);
  });

  it('the fix the TLS 1.0 refusal suggests is accepted', () => {
    expect(() => checkTlsSettings(prof('{minVersion: TLSv1, maxVersion: TLSv1.3, ciphers: "ECDHE+AESGCM:ECDHE+AES"}'))).not.toThrow();
  });

  it('TLS 1.0 with the given @SECLEVEL=2 is refused by a real handshake, and no note claims level 0 was applied', async () => {
    const p = prof('{minVersion: TLSv1, maxVersion: TLSv1, ciphers: "DEFAULT:@SECLEVEL=2"}');
    expect(cipherString(p)).not.toMatch(/@SECLEVEL=0/);
    expect(tlsWarnings(p).join('\n')).not.toMatch(/security level 0/);
    await expect(checkTlsHandshakes(p, pki.server)).rejects.toThrow(/tls\.ciphers: TLSv1 is allowed but a TLSv1 handshake with this server fails .*no suitable signature algorithm/);
  });

  it('every preset passes the handshake check', async () => {
    for (const name of ['tls-verified', 'legacy-tls10', 'tls-fallback', 'tls12-rsa-kx', 'tls13-only', 'starttls-required']) await checkTlsHandshakes(loadProfile(name), pki.server);
  });

  it('`secchat profiles check` exits 2 naming the field', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-caps-'));
    const cases: Array<[string, RegExp]> = [
      ['{minVersion: TLSv1, maxVersion: TLSv1, ciphers: "DEFAULT:@SECLEVEL=2"}', /tls\.ciphers: TLSv1 is allowed/],
      ['{minVersion: TLSv1.2, ciphers: "TLS_AES_128_GCM_SHA256"}', /tls\.ciphers: TLSv1\.2 is allowed/],
    ];
    for (const [i, [y, why]] of cases.entries()) {
      const file = path.join(dir, `p${i}.yaml`);
      writeFileSync(file, `name: x\ntls: ${y}\n`);
      let err = '';
      const code = await main(['node', 'secchat', 'profiles', 'check', file, '--pki', pki.dir], { out: () => {}, err: (t) => (err += t), interactive: false });
      expect(code).toBe(2);
      expect(err).toMatch(why);
    }
  });
});
