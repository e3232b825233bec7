import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listPresets, loadProfile, parseProfile } from '../core/profile.ts';
import { checkTlsSettings, cipherString } from '../core/tls/node-options.ts';
import { UsageError } from '../core/errors.ts';
import { main } from '../cli/main.ts';

function problemsOf(yaml: string): string[] {
  try {
    parseProfile(yaml, 't.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as UsageError).details.problems as string[];
  }
  throw new Error('profile was accepted');
}

describe('profile validation', () => {
  it('names the field, the allowed values and what was given for a bad enum', () => {
    expect(problemsOf('name: x\nclient:\n  verify: cert\n')).toEqual(['client.verify: must be one of none | ca | pin (got "cert")']);
    expect(problemsOf('name: x\ntls:\n  minVersion: SSLv3\n')[0]).toBe('tls.minVersion: must be one of TLSv1 | TLSv1.1 | TLSv1.2 | TLSv1.3 (got "SSLv3")');
  });

  it('rejects unknown keys and lists the allowed ones (node:tls would silently ignore them)', () => {
    const [p] = problemsOf('name: x\ntls:\n  ciphersuite: TLS_AES_128_GCM_SHA256\n');
    expect(p).toMatch(/^tls\.ciphersuite: unknown key; allowed keys here: .*ciphersuites/);
  });

  it('reports every problem at once', () => {
    expect(problemsOf('name: X Y\ntransport: udp\nclient: {checkHostname: "yes"}\n')).toHaveLength(3);
  });

  it('checks rules across fields', () => {
    expect(problemsOf('name: x\ntls: {minVersion: TLSv1.3, maxVersion: TLSv1.2}\n')[0]).toMatch(/minVersion \(TLSv1.3\) is newer than tls.maxVersion/);
    expect(problemsOf('name: x\nclient: {verify: pin}\n')[0]).toMatch(/client.pin: required/);
    expect(problemsOf('name: x\nclient: {verify: pin, pin: "sha256/abc"}\n')[0]).toMatch(/client.pin/);
  });

  it('rejects YAML syntax errors and non-mappings', () => {
    expect(() => parseProfile('name: [unclosed', 't.yaml')).toThrow(/not valid YAML/);
    expect(() => parseProfile('- a\n- b\n', 't.yaml')).toThrow(/must be a YAML mapping/);
  });

  it('accepts JSON and fills secure defaults', () => {
    const p = parseProfile('{"name": "json-one"}', 'j.json');
    expect(p.transport).toBe('tls');
    expect(p.client).toMatchObject({ verify: 'ca', checkHostname: true, fallback: false });
    expect(p.tls).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', extendedMasterSecret: true });
    expect(p.auth).toEqual({ storage: 'scrypt', method: 'password' });
  });

  it('has at least the presets the course needs, each valid, named like its file, with a description', () => {
    const presets = listPresets();
    for (const need of ['plaintext', 'tls-no-verify', 'tls-verify-no-hostname', 'tls-verified', 'tls-pinned', 'tls13-only', 'legacy-tls10']) expect(presets).toContain(need);
    for (const name of presets) {
      const p = loadProfile(name);
      expect(p.name).toBe(name);
      expect(p.description.length).toBeGreaterThan(20);
      checkTlsSettings(p);
    }
  });

  it('refuses cipher strings OpenSSL does not know, naming the field', () => {
    const p = parseProfile('name: x\ntls: {ciphers: NOT-A-CIPHER}\n');
    expect(() => checkTlsSettings(p)).toThrow(/tls\.ciphers: OpenSSL refused "NOT-A-CIPHER"/);
  });

  it('puts TLS 1.3 suites into node\'s one cipher string and applies security level 0 for TLS 1.0', () => {
    const p = parseProfile('name: x\ntls: {minVersion: TLSv1, ciphers: "AES128-SHA", ciphersuites: TLS_AES_128_GCM_SHA256}\n');
    expect(cipherString(p)).toBe('TLS_AES_128_GCM_SHA256:AES128-SHA:@SECLEVEL=0');
  });

  it('the CLI exits 2 with the field named for an invalid profile, and for an unknown preset', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-prof-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'name: bad\ntransport: carrier-pigeon\n');
    let err = '';
    const io = { out: () => {}, err: (t: string) => (err += t), interactive: false };
    expect(await main(['node', 'secchat', 'profiles', 'check', file], io)).toBe(2);
    expect(err).toContain('transport: must be one of plain | tls | starttls | starttls-required (got "carrier-pigeon")');
    err = '';
    expect(await main(['node', 'secchat', 'attack', 'mitm-passive', '--profile', 'no-such-preset'], io)).toBe(2);
    expect(err).toMatch(/no profile "no-such-preset".*presets: .*tls-verified/);
  });
});

describe('settings that cannot have any effect are refused, naming why', () => {
  it.each([
    ['name: x\ntransport: plain\ntls: {minVersion: TLSv1.3}\n', /^tls: has no effect with transport: plain/],
    ['name: x\ntransport: plain\nclient: {fallback: true}\n', /client.fallback: has no effect with transport: plain/],
    ['name: x\nclient: {verify: none, checkHostname: true}\n', /client.checkHostname: true has no effect with client.verify: none/],
    ['name: x\nchannel: {ciphers: [aes-256-gcm]}\n', /channel.ciphers: has no effect with channel.keyExchange: none/],
    ['name: x\nchannel: {keyExchange: ecdhe-signed, replayWindowMs: 1000}\n', /channel.replayWindowMs: only used with channel.replayProtection: window/],
  ])('%s', (yaml, message) => {
    expect(problemsOf(yaml as string)[0]).toMatch(message as RegExp);
  });
  it('explains that a bare YAML null is not the null cipher', () => {
    expect(problemsOf('name: x\nchannel: {keyExchange: ecdhe, ciphers: [null]}\n')[0]).toMatch(/write "null" in quotes for the null cipher/);
    expect(parseProfile('name: x\nchannel: {keyExchange: ecdhe, ciphers: ["null"]}\n').channel.ciphers).toEqual(['null']);
  });
  it('still accepts verify: none on its own (checkHostname defaults quietly)', () => {
    expect(parseProfile('name: x\nclient: {verify: none}\n').client.verify).toBe('none');
  });
});

describe('profiles show', () => {
  it('prints, for every preset, a profile that validates again (round trip)', async () => {
    const { stringify } = await import('yaml');
    const { effectiveSettings } = await import('../core/profile.ts');
    for (const name of listPresets()) {
      const p = loadProfile(name);
      const again = parseProfile(stringify(effectiveSettings(p)), `${name} (shown)`);
      expect(effectiveSettings(again), name).toEqual(effectiveSettings(p));
    }
  });
});
