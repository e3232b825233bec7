/**
 * The attacker-position ladder (issue 9) end to end over loopback: for each rung, one profile the
 * attacker climbs it on (the attack succeeds, its evidence states the chain and the canary or
 * password) and one it cannot (blocked, naming the real stopper). No profile here is a preset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, profileOf } from './helpers/lab-env.ts';
import { getAttack } from '../attacks/registry.ts';
import { runAttack } from '../attacks/scenario.ts';
import { probePosition } from '../attacks/kit/position.ts';
import type { PkiMaterial } from '../core/pki.ts';
import type { CellResult } from '../reports/results.ts';

let pki: PkiMaterial;
let cleanup: () => void;
beforeAll(async () => {
  ({ pki, cleanup } = await makeTestPki());
});
afterAll(() => cleanup());

const run = (id: string, partial: Record<string, unknown>): Promise<CellResult> => runAttack(getAttack(id), profileOf({ name: 'ladder', ...partial }), pki);
const chainOf = (r: CellResult) => r.evidence.find((e) => e.kind === 'position')?.detail ?? '';

function expectOutcome(r: CellResult, outcome: CellResult['outcome'], reason: RegExp): void {
  expect(r.outcome, `${r.attack}: ${r.reason}`).toBe(outcome);
  expect(r.reason).toMatch(reason);
}

describe('rung 2: STARTTLS stripped', () => {
  it('opportunistic STARTTLS: the probe strips it, and tamper alters the dm in plaintext', async () => {
    const p = profileOf({ name: 'ladder', transport: 'starttls' });
    const pos = await probePosition(p, pki);
    expect(pos.strippedStarttls).toBe(true);
    expect(pos.tls).toBeNull();
    const r = await runAttack(getAttack('tamper'), p, pki);
    expectOutcome(r, 'succeeded', /stripped the STARTTLS offer \(the client carried on in plaintext\) → the attacker rewrote the readable chat frame's text/);
    expect(r.evidence.find((e) => e.kind === 'altered-delivery')?.detail).toMatch(/bob received "altered[0-9a-f]+ is the secret"/);
  });
  it('required STARTTLS with a verifying client: the strip is refused, TLS stays closed, tamper is blocked by the TLS record MAC', async () => {
    const r = await run('tamper', { transport: 'starttls-required' });
    expectOutcome(r, 'blocked', /flipped one bit inside a TLS application_data record.*TLS record MAC check failed/);
    expect(r.evidence.find((e) => e.kind === 'position-probe')?.detail).toMatch(/stripping the STARTTLS offer: the client refused \(SECCHAT_ERR_STARTTLS_UNAVAILABLE.*self-signed certificate: the client refused.*wrong-host certificate: the client refused/);
  });
});

describe('rung 3: TLS terminated with a certificate the client accepts', () => {
  it('a client that skips the hostname check: wrong-host certificate → alice\'s password read → the attacker logs in as alice', async () => {
    const r = await run('replay-login', { transport: 'tls', client: { verify: 'ca', checkHostname: false } });
    expectOutcome(r, 'succeeded', /terminated TLS with the wrong-host certificate \(the client does not check the hostname \(it refused the self-signed one: .*\)\) → the attacker read alice's password in her login frame/);
    expect(r.evidence.find((e) => e.kind === 'password-recovered')?.detail).toContain('"dragon2024"');
  });
  it('the same client: replay delivers the canary twice inside the TLS the attacker terminated', async () => {
    const r = await run('replay', { transport: 'tls', client: { verify: 'ca', checkHostname: false } });
    expectOutcome(r, 'succeeded', /bob received the canary 2 times: the replayed message was accepted in the same connection \(terminated TLS with the wrong-host certificate .* → sent alice's readable dm twice\)/);
  });
  it('a client that verifies chain and hostname: both certificates refused, replay-login blocked by TLS', async () => {
    const r = await run('replay-login', { transport: 'tls' });
    expectOutcome(r, 'blocked', /could not read alice's login; the replayed login was refused: .*TLS/);
    expect(chainOf(r)).toBe('on the path between the victim and the server');
  });
});

describe('rung 4: secure channel taken over', () => {
  it('unsigned ECDHE: the key shares are swapped, and tamper rewrites the opened dm and re-seals it', async () => {
    const r = await run('tamper', { transport: 'plain', client: { verify: 'ca', checkHostname: true }, channel: { keyExchange: 'ecdhe' } });
    expectOutcome(r, 'succeeded', /took over the secure channel by swapping the unsigned ECDHE key shares .* → the attacker rewrote alice's dm opened inside the channel it negotiated, and re-sealed it/);
    expect(r.evidence.find((e) => e.kind === 'altered-delivery')?.detail).toMatch(/bob received "altered/);
  });
  it('a channel certificate the client accepts (verify: none): replay re-seals alice\'s dm', async () => {
    const r = await run('replay', { transport: 'plain', client: { verify: 'none' }, channel: { keyExchange: 'ecdhe-signed' } });
    expectOutcome(r, 'succeeded', /took over the secure channel with the self-signed certificate .* → re-sealed alice's dm a second time in the channel it negotiated with the server/);
  });
  it('signed ECDHE with a verifying client: no takeover, tamper is caught by the channel MAC', async () => {
    const r = await run('tamper', { transport: 'plain', client: { verify: 'ca', checkHostname: true }, channel: { keyExchange: 'ecdhe-signed' } });
    expectOutcome(r, 'blocked', /the secure channel refused it \(bad_record_mac\)/);
    expect(r.evidence.find((e) => e.kind === 'position-probe')?.detail).toMatch(/its own unsigned key share: the client refused.*self-signed certificate: the client refused.*wrong-host certificate: the client refused/);
  });
});

describe('rung 5: inside a channel whose cipher authenticates nothing', () => {
  const signed = (c: Record<string, unknown>) => ({ transport: 'plain', client: { verify: 'ca', checkHostname: true }, channel: { keyExchange: 'ecdhe-signed', ...c } });
  it('aes-128-cbc with sequence numbers: the copy\'s seq is rewritten and bob receives the canary twice', async () => {
    const r = await run('replay', signed({ ciphers: ['aes-128-cbc'] }));
    expectOutcome(r, 'succeeded', /re-sent the sealed frame with seq \d+ → \d+ .* CBC without a MAC authenticates nothing/);
  });
  it('null cipher: a passive reader takes alice\'s password from her sealed login frame and logs in', async () => {
    const r = await run('replay-login', signed({ ciphers: ['null'] }));
    expectOutcome(r, 'succeeded', /read alice's password in her login frame \(readable inside a null-cipher sealed frame\)/);
  });
  it('reached by rewriting the cipher offer when nothing authenticates it: tamper flips the CBC IV', async () => {
    const r = await run('tamper', signed({ ciphers: ['aes-256-gcm', 'aes-128-cbc'], transcriptMac: false }));
    expectOutcome(r, 'succeeded', /rewrote the channel cipher offer \(nothing authenticates it: the client accepted aes-128-cbc, which authenticates nothing\) → the attacker XOR-ed/);
  });
  it('the transcript MAC catches the rewritten offer: no rung 5, tamper is caught by the AEAD tag', async () => {
    const r = await run('tamper', signed({ ciphers: ['aes-256-gcm', 'aes-128-cbc'], transcriptMac: true }));
    expectOutcome(r, 'blocked', /bad_record_mac/);
    expect(r.evidence.find((e) => e.kind === 'position-probe')?.detail).toMatch(/cipher offer rewritten to null\/aes-128-cbc: refused \(.*transcript/);
  });
  it('an AEAD cipher with sequence numbers: the same replay is refused (bad_sequence)', async () => {
    const r = await run('replay', signed({ ciphers: ['aes-256-gcm'] }));
    expectOutcome(r, 'blocked', /a MAC binds its seq.*bad_sequence/);
  });
});
