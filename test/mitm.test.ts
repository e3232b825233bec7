/**
 * Every MITM attack against every certificate-verification mode, over real loopback TLS, with
 * inline profiles that are not presets — outcomes must come from what the attack observed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, profileOf, startTestServer, connectClient } from './helpers/lab-env.ts';
import { getAttack } from '../attacks/registry.ts';
import { runAttack } from '../attacks/scenario.ts';
import { RESULT_SCHEMA_VERSION } from '../reports/results.ts';
import { issueCertificate, type PkiMaterial } from '../core/pki.ts';
import { startChatServer } from '../server/chat-server.ts';
import { ERROR_CODES } from '../core/errors.ts';
import type { Profile } from '../core/profile.ts';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let pki: PkiMaterial;
let cleanup: () => void;
beforeAll(async () => {
  ({ pki, cleanup } = await makeTestPki());
});
afterAll(() => cleanup());

type Expect = { outcome: 'succeeded' | 'blocked'; reason: RegExp };
const READ_TLS: Expect = { outcome: 'succeeded', reason: /read the canary inside the TLS session it terminated: the victim accepted/ };
const READ_WIRE: Expect = { outcome: 'succeeded', reason: /read the canary in the bytes on the wire: the chat ran in plaintext/ };
const CIPHERTEXT: Expect = { outcome: 'blocked', reason: /saw only encrypted bytes/ };
const SELF_SIGNED: Expect = { outcome: 'blocked', reason: /refused the connection: certificate refused: self-signed certificate: DEPTH_ZERO_SELF_SIGNED_CERT/ };
const HOSTNAME: Expect = { outcome: 'blocked', reason: /refused the connection: certificate refused: hostname mismatch: checked "localhost" \(a host name[^)]*\) against the certificate's names \(DNS:evil\.example\)/ };
const PIN: Expect = { outcome: 'blocked', reason: /refused the connection: certificate refused: pin mismatch: expected sha256\/\S+, got sha256\// };
const UNKNOWN_CA: Expect = { outcome: 'blocked', reason: /certificate refused: incomplete chain or unknown CA: UNABLE_TO_VERIFY_LEAF_SIGNATURE/ };

// Not presets: names, versions and ciphers differ from profiles/ on purpose.
const modes: Array<{ name: string; profile: Record<string, unknown>; expect: Record<string, Expect> }> = [
  {
    name: 'plain transport',
    profile: { transport: 'plain' },
    expect: { 'mitm-passive': READ_WIRE, 'mitm-self-signed': READ_WIRE, 'mitm-wrong-host': READ_WIRE, 'mitm-rogue-ca': READ_WIRE },
  },
  {
    name: 'verify none (TLS 1.2 only)',
    profile: { tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' }, client: { verify: 'none', checkHostname: false } },
    expect: { 'mitm-passive': CIPHERTEXT, 'mitm-self-signed': READ_TLS, 'mitm-wrong-host': READ_TLS, 'mitm-rogue-ca': READ_TLS },
  },
  {
    name: 'verify ca without hostname',
    profile: { client: { verify: 'ca', checkHostname: false } },
    expect: { 'mitm-passive': CIPHERTEXT, 'mitm-self-signed': SELF_SIGNED, 'mitm-wrong-host': READ_TLS, 'mitm-rogue-ca': READ_TLS },
  },
  {
    name: 'verify ca with hostname',
    profile: { tls: { minVersion: 'TLSv1.3' }, client: { verify: 'ca', checkHostname: true } },
    expect: { 'mitm-passive': CIPHERTEXT, 'mitm-self-signed': SELF_SIGNED, 'mitm-wrong-host': HOSTNAME, 'mitm-rogue-ca': READ_TLS },
  },
  {
    name: 'SPKI pin without hostname check',
    profile: { client: { verify: 'pin', pin: 'server', checkHostname: false } },
    expect: { 'mitm-passive': CIPHERTEXT, 'mitm-self-signed': PIN, 'mitm-wrong-host': PIN, 'mitm-rogue-ca': PIN },
  },
];

describe.each(modes)('MITM attacks against $name', ({ profile: partial, expect: expected }) => {
  it.each(Object.keys(expected))('%s', async (id) => {
    const profile = profileOf({ ...partial, name: 'not-a-preset' });
    const r = await runAttack(getAttack(id), profile, pki);
    const want = expected[id];
    expect(r.outcome, r.reason).toBe(want.outcome);
    expect(r.reason).toMatch(want.reason);
    expect(r.schemaVersion).toBe(RESULT_SCHEMA_VERSION);
    if (r.outcome === 'succeeded') {
      // Confidentiality evidence must contain the recovered canary itself.
      expect(r.evidence.some((e) => e.kind === 'canary-recovered' && e.detail.includes(r.canary))).toBe(true);
      expect(r.impact).toContain('confidentiality');
      if (id !== 'mitm-passive') expect(r.impact).toContain('integrity');
    } else {
      expect(r.impact).toEqual([]);
      expect(r.evidence.some((e) => e.detail.includes(r.canary))).toBe(false);
    }
    if (partial.transport !== 'plain' && r.outcome === 'succeeded') expect(r.negotiated?.protocol).toMatch(/^TLSv1\.[23]$/);
  });
});

describe('a pin that is not the lab server key', () => {
  it('refuses the attacker and the real server alike, so the run gives no verdict (the control run fails)', async () => {
    const profile = profileOf({ client: { verify: 'pin', pin: 'sha256/' + Buffer.alloc(32, 7).toString('base64'), checkHostname: true } });
    const r = await runAttack(getAttack('mitm-self-signed'), profile, pki);
    expect(r.outcome).toBe('error');
    expect(r.reason).toMatch(/^no verdict: the chat does not work with this profile even without an attacker \(SECCHAT_ERR_CERT_PIN: .*pin mismatch: expected sha256\/BwcH/);
    expect(r.evidence.some((e) => e.kind === 'control')).toBe(true);
  });
});

describe('client certificate verification errors name the reason', () => {
  const profile: Profile = profileOf({ client: { verify: 'ca', checkHostname: true } });
  const day = 86_400_000;
  const serve = async (identity: { certPem: string; keyPem: string }) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-verify-'));
    const server = await startChatServer({ profile, identity, dbPath: path.join(dir, 'u.db') });
    opened.push(server); // closed in afterEach, even when an assertion fails
    return server;
  };
  const opened: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
  });
  const leaf = (notBefore: Date, notAfter: Date, issuer = pki.ca) =>
    issueCertificate({ issuer, commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], notBefore, notAfter });

  it('expired, with the dates', async () => {
    const s = await serve(leaf(new Date(Date.now() - 10 * day), new Date(Date.now() - day)));
    const err = await connectClient(profile, pki, s.port).catch((e) => e);
    expect(err.code).toBe(ERROR_CODES.CERT_EXPIRED);
    expect(err.message).toMatch(/certificate expired: CERT_HAS_EXPIRED \(valid .* to .*\)/);
  });

  it('not yet valid, with the start date', async () => {
    const s = await serve(leaf(new Date(Date.now() + day), new Date(Date.now() + 10 * day)));
    const err = await connectClient(profile, pki, s.port).catch((e) => e);
    expect(err.code).toBe(ERROR_CODES.CERT_NOT_YET_VALID);
    expect(err.details.validFrom).toBeTruthy();
  });

  it('unknown CA, naming the issuer', async () => {
    const s = await serve(pki.attackerRogue);
    const err = await connectClient(profile, pki, s.port).catch((e) => e);
    expect(err.code).toBe(ERROR_CODES.CERT_UNKNOWN_CA);
    expect(err.message).toMatch(UNKNOWN_CA.reason);
    expect(err.message).toMatch(/Rogue Interception CA/);
  });

  it('accepts the genuine server', async () => {
    const { server, stop } = await startTestServer(profile, pki);
    const c = await connectClient(profile, pki, server.port);
    expect(c.negotiated?.protocol).toBe('TLSv1.3');
    c.close();
    await stop();
  });
});

describe('a run broken on the attacker\'s side gives no verdict', () => {
  it('is an error, not "blocked", when the attacker\'s own proxy kills every handshake', async () => {
    const { runConversation, newCanary } = await import('../attacks/scenario.ts');
    const { mitmVerdict } = await import('../attacks/plugins/mitm.ts');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-broken-'));
    const profile = profileOf({ client: { verify: 'none', checkHostname: false } });
    const obs = await runConversation(profile, pki, dir, newCanary(), { addon: { name: 'broken', onClientHello: () => ({ action: 'kill', reason: 'attacker bug' }) } });
    const v = mitmVerdict(obs, true);
    expect(v.outcome).toBe('error');
    expect(v.reason).toMatch(/the conversation failed for another reason: SECCHAT_ERR_TLS_HANDSHAKE/);
  });
});
