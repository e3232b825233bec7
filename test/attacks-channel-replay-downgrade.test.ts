/**
 * The issue-3 attacks end to end over loopback: each one succeeds against a weak inline profile
 * and is blocked against a sound one, with the reason asserted. None of these profiles is a preset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, profileOf } from './helpers/lab-env.ts';
import { getAttack } from '../attacks/registry.ts';
import { runAttack } from '../attacks/scenario.ts';
import type { PkiMaterial } from '../core/pki.ts';
import type { CellResult } from '../reports/results.ts';

let pki: PkiMaterial;
let cleanup: () => void;
beforeAll(async () => {
  ({ pki, cleanup } = await makeTestPki());
});
afterAll(() => cleanup());

const run = (id: string, partial: Record<string, unknown>): Promise<CellResult> => runAttack(getAttack(id), profileOf({ name: 'student-profile', ...partial }), pki);
const channel = (c: Record<string, unknown>) => ({ transport: 'plain', client: { verify: 'ca', checkHostname: true }, channel: { keyExchange: 'ecdhe-signed', ...c } });

function expectOutcome(r: CellResult, outcome: CellResult['outcome'], reason: RegExp): void {
  expect(r.outcome, `${r.attack}: ${r.reason}`).toBe(outcome);
  expect(r.reason).toMatch(reason);
  if (outcome !== 'succeeded') expect(r.impact).toEqual([]);
}

describe('replay', () => {
  it('succeeds on plaintext: bob receives the canary again, in the same and a new connection', async () => {
    const r = await run('replay', { transport: 'plain' });
    expectOutcome(r, 'succeeded', /bob received the canary 3 times: the replayed message was accepted in the same connection \(sent alice's readable dm twice\) and on a new connection/);
    expect(r.impact).toEqual(['integrity']);
  });
  it('succeeds inside an AEAD channel without replay protection', async () => {
    expectOutcome(await run('replay', channel({ replayProtection: 'none' })), 'succeeded', /accepted in the same connection/);
  });
  it('is blocked by channel sequence numbers (bad_sequence) and the nonce window (replayed_nonce)', async () => {
    expectOutcome(await run('replay', channel({ replayProtection: 'sequence' })), 'blocked', /same connection — re-sent the sealed frame as recorded \(a MAC binds its seq\/ts\/nonce.*\); the secure channel refused it \(bad_sequence\).*new connection — the secure channel refused it \(transcript_mismatch\)/);
    expectOutcome(await run('replay', channel({ replayProtection: 'window' })), 'blocked', /\(replayed_nonce\)/);
  });
  it('is blocked by the TLS record MAC', async () => {
    expectOutcome(await run('replay', { transport: 'tls', tls: { minVersion: 'TLSv1.3' } }), 'blocked', /same connection — re-sent the recorded bytes of alice's message in her connection; the TLS record MAC check failed/);
  });
});

describe('replay-login', () => {
  it('succeeds on plaintext with password login: the attacker reads the password and logs in with it', async () => {
    const r = await run('replay-login', { transport: 'plain' });
    expectOutcome(r, 'succeeded', /the attacker read alice's password in her login frame \(read on the stream\), then logged in as alice with it/);
    expect(r.evidence.find((e) => e.kind === 'attacker-login-accepted')?.detail).toMatch(/logged in alice for the attacker's connection 127\.0\.0\.1:\d+/);
    expect(r.evidence.find((e) => e.kind === 'password-recovered')?.detail).toMatch(/"dragon2024"/);
  });
  it('challenge-response on plaintext: the recorded proof is guessed offline when the password is common', async () => {
    const r = await run('replay-login', { transport: 'plain', auth: { method: 'challenge', storage: 'sha256' } });
    expectOutcome(r, 'succeeded', /recorded alice's challenge and proof \(read on the stream\) and guessed her password offline: candidate #\d+ of the common-password list reproduced her proof \(sha256 verifier/);
    expect(r.evidence.find((e) => e.kind === 'password-recovered')?.detail).toContain('"dragon2024"');
  });
  it('is blocked by challenge-response login with passphrases outside every list: the single-use challenge', async () => {
    const r = await run('replay-login', { transport: 'plain', auth: { method: 'challenge', storage: 'sha256', passwordPolicy: { minLength: 15, rejectCommon: true } } });
    expectOutcome(r, 'blocked', /read alice's challenge proof but guessed offline through all \d+ candidates .*: her password is in no list; the replayed login was refused: the single-use challenge \(.*(stale_challenge|bad_credentials)/);
  });
  it('is blocked by TLS', async () => {
    expectOutcome(await run('replay-login', { transport: 'tls' }), 'blocked', /TLS/);
  });
});

describe('tamper', () => {
  it('succeeds on plaintext, under the null cipher and under CBC without MAC', async () => {
    const plain = await run('tamper', { transport: 'plain' });
    expectOutcome(plain, 'succeeded', /bob received an altered message without any error: the attacker rewrote the readable chat frame's text/);
    expect(plain.evidence[0].detail).toMatch(/bob received "altered[0-9a-f]+ is the secret"/);
    expectOutcome(await run('tamper', channel({ ciphers: ['null'] })), 'succeeded', /null-cipher sealed frame/);
    expectOutcome(await run('tamper', channel({ ciphers: ['aes-128-cbc'] })), 'succeeded', /XOR-ed .* into the CBC IV/);
  });
  it('is blocked by every authenticated cipher and by TLS', async () => {
    for (const c of ['aes-256-gcm', 'chacha20-poly1305', 'aes-128-cbc-hmac-sha256']) {
      expectOutcome(await run('tamper', channel({ ciphers: [c] })), 'blocked', /the secure channel refused it \(bad_record_mac\)/);
    }
    expectOutcome(await run('tamper', { transport: 'tls', tls: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' } }), 'blocked', /flipped one bit inside a TLS application_data record.*TLS record MAC check failed/);
  });
});

describe('downgrade-fallback', () => {
  it('succeeds when the client falls back: the session runs below the maximum, and the SCSV probe is reported', async () => {
    // TLS 1.1 has no AEAD suite: the profile names CBC ones for it (the default list is AEAD only).
    const r = await run('downgrade-fallback', { tls: { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.3', ciphers: 'ECDHE+AESGCM:ECDHE-RSA-AES128-SHA' }, client: { fallback: true } });
    expectOutcome(r, 'succeeded', /alice's session ran on TLSv1\.1 .*below the profile's maximum TLSv1\.3.*TLS_FALLBACK_SCSV.*retries carried no SCSV/);
    expect(r.negotiated?.protocol).toBe('TLSv1.1');
    expect(r.evidence.find((e) => e.kind === 'fallback-scsv')?.detail).toMatch(/alert inappropriate_fallback \(86\)/);
    expect(r.evidence.find((e) => e.kind === 'client-hellos')?.detail).toMatch(/offering up to TLSv1\.3, TLSv1\.3, TLSv1\.2.*TLS_FALLBACK_SCSV absent from every one/);
    expect(r.data).toMatchObject({ clientSentScsv: false, fallbackScsvProbe: 'inappropriate_fallback' });
    expect(r.evidence.find((e) => e.kind === 'client-fallback')?.detail).toMatch(/alice's client gave up 2 handshake\(s\) and retried lower: max TLSv1\.3 .*; max TLSv1\.2 /);
  });
  it('is blocked when the client does not fall back', async () => {
    expectOutcome(await run('downgrade-fallback', { tls: { minVersion: 'TLSv1.2' } }), 'blocked', /the client did not fall back/);
  });
  it('is not applicable with a single version', async () => {
    expectOutcome(await run('downgrade-fallback', { tls: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } }), 'not-applicable', /allows only TLSv1\.3/);
  });
});

describe('downgrade-starttls', () => {
  it('succeeds against opportunistic STARTTLS: the canary crosses in plaintext', async () => {
    const r = await run('downgrade-starttls', { transport: 'starttls' });
    expectOutcome(r, 'succeeded', /stripped the STARTTLS offer/);
    expect(r.evidence.some((e) => e.kind === 'canary-recovered' && e.detail.includes(r.canary))).toBe(true);
  });
  it('is blocked when the client requires STARTTLS', async () => {
    expectOutcome(await run('downgrade-starttls', { transport: 'starttls-required' }), 'blocked', /did not offer STARTTLS; refusing to continue in plaintext/);
  });
});

describe('downgrade-cipher', () => {
  it('succeeds without a transcript MAC: null lets it read, CBC lets it alter', async () => {
    const n = await run('downgrade-cipher', channel({ ciphers: ['chacha20-poly1305', 'null'], transcriptMac: false }));
    expectOutcome(n, 'succeeded', /ran on the null cipher .* read the canary/);
    expect(n.evidence.some((e) => e.detail.includes(n.canary))).toBe(true);
    expectOutcome(await run('downgrade-cipher', channel({ ciphers: ['aes-256-gcm', 'aes-128-cbc'], transcriptMac: false })), 'succeeded', /aes-128-cbc without a MAC; the attacker XOR-ed .* bob received the altered canary/);
  });
  it('is blocked by the transcript MAC, and by a server without weak ciphers', async () => {
    expectOutcome(await run('downgrade-cipher', channel({ ciphers: ['aes-256-gcm', 'null'], transcriptMac: true })), 'blocked', /transcript_mismatch/);
    expectOutcome(await run('downgrade-cipher', channel({ ciphers: ['aes-256-gcm'], transcriptMac: false })), 'blocked', /no_common_cipher/);
  });
});

describe('MITM attacks against the secure channel', () => {
  it('unsigned ECDHE falls to every active MITM, even with a pinned-key client', async () => {
    for (const id of ['mitm-self-signed', 'mitm-wrong-host']) {
      const r = await run(id, { transport: 'plain', client: { verify: 'pin', pin: 'server' }, channel: { keyExchange: 'ecdhe' } });
      expectOutcome(r, 'succeeded', /read the canary/);
      expect(r.evidence.some((e) => /channel MITM: answered the victim's ch_hello \(ecdhe\)/.test(e.detail))).toBe(true);
    }
  });
  it('signed ECDHE and RSA stand or fall with the verification settings, as TLS does', async () => {
    expectOutcome(await run('mitm-self-signed', channel({})), 'blocked', /server certificate rejected: certificate refused: self-signed/);
    expectOutcome(await run('mitm-wrong-host', { ...channel({}), channel: { keyExchange: 'rsa' } }), 'blocked', /hostname mismatch/);
    expectOutcome(await run('mitm-self-signed', { ...channel({}), client: { verify: 'none', checkHostname: false } }), 'succeeded', /read the canary/);
    expectOutcome(await run('mitm-rogue-ca', channel({})), 'succeeded', /read the canary/);
  });
});

describe('frames injected before the protection is up are not trusted', () => {
  // An on-path attacker appends a forged dm right behind the server's plaintext welcome.
  const injectAfterWelcome = {
    name: 'inject',
    onData(_c: unknown, data: Buffer, dir: string) {
      if (dir !== 's2c' || !data.includes('"type":"welcome"')) return undefined;
      return Buffer.concat([data, Buffer.from('{"type":"dm","from":"alice","to":"bob","text":"forged by the attacker"}\n')]);
    },
  };
  it.each([
    ['before the secure channel is established', { transport: 'plain', channel: { keyExchange: 'ecdhe-signed' } }],
    ['before the STARTTLS upgrade', { transport: 'starttls-required' }],
  ])('%s', async (_label, partial) => {
    const { runConversation, newCanary } = await import('../attacks/scenario.ts');
    const { mkdtempSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const obs = await runConversation(profileOf({ name: 'inject', ...partial }), pki, mkdtempSync(path.join(os.tmpdir(), 'secchat-inj-')), newCanary(), { addon: injectAfterWelcome as never });
    expect(obs.bobReceived).toBe(obs.canaryMessage); // the real conversation still works
    for (const who of ['alice', 'bob'] as const) expect(obs.clients[who].received.some((f) => f.text === 'forged by the attacker')).toBe(false);
  });
});
