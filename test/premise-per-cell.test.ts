/**
 * A premise is judged per cell, end to end over loopback: `mitm-rogue-ca` assumes the victim
 * trusts the attacker's rogue root, but against a client that verifies nothing (or not the host
 * name, or a plain transport) the attacker needs no rogue root — the cell must record
 * `premiseUsed: false`, and the row's verdict must read as a plain failure, not as "holds except
 * under a premise". A verifying client needs the premise, and says so. Own profiles (no presets)
 * and a student's target whose client is handed a CA file it never uses.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, profileOf } from './helpers/lab-env.ts';
import { getAttack } from '../attacks/registry.ts';
import { runMatrix } from '../attacks/matrix.ts';
import { loadTarget, parseTargetText } from '../core/target.ts';
import type { PkiMaterial } from '../core/pki.ts';
import type { CellResult, MatrixResults } from '../reports/results.ts';
import { profileVerdict } from '../reports/verdict.ts';
import { renderMarkdown } from '../reports/markdown.ts';
import { HAVE_PYTHON, describeWithPython } from './helpers/python.ts';

const FIXTURES = path.resolve('test/fixtures');

/** The naive fixture's client (CERT_NONE), started with a CA file in its environment that it never reads. */
const NAIVE_GIVEN_A_CA = `
name: naive-given-a-ca
description: the naive client, handed a CA file it ignores (verification off)
server:
  command: python3 targets/naive/server.py --port {port} --cert {cert} --key {key}
  ready: listening
  certificate: targets/pki/server.crt
  privateKey: targets/pki/server.key
  transport: tls
client:
  command: env UNUSED_CA_FILE={ca} python3 targets/naive/client.py --host {host} --port {port}
  send: "alice\\n{canary}\\n"
  expectServerName: localhost
  ca: targets/pki/ca.crt
`;

let pki: PkiMaterial;
let cleanup: () => void;
let results: MatrixResults;
beforeAll(async () => {
  ({ pki, cleanup } = await makeTestPki());
  const profiles = [
    profileOf({ name: 'own-no-verify', tls: { minVersion: 'TLSv1.2' }, client: { verify: 'none', checkHostname: false } }),
    profileOf({ name: 'own-no-hostname', client: { verify: 'ca', checkHostname: false } }),
    profileOf({ name: 'own-plain', transport: 'plain' }),
    profileOf({ name: 'own-verified', client: { verify: 'ca', checkHostname: true } }),
  ];
  const targets = HAVE_PYTHON ? [parseTargetText(NAIVE_GIVEN_A_CA, 'naive-given-a-ca.yaml', FIXTURES), loadTarget(path.join(FIXTURES, 'careful.yaml'))] : [];
  results = await runMatrix({ profiles, targets, targetOnlyAttacks: [], attacks: [getAttack('mitm-rogue-ca')], pki, concurrency: 3 });
}, 240_000);
afterAll(() => cleanup());

const cell = (row: string): CellResult => {
  const c = results.cells.find((x) => x.profile === row && x.attack === 'mitm-rogue-ca');
  expect(c, row).toBeDefined();
  return c!;
};
const premiseLine = (c: CellResult) => c.evidence.find((e) => e.kind === 'premise')?.detail ?? '';

describe('own profiles × mitm-rogue-ca', () => {
  it('verify none: the canary read with no rogue root installed — premiseUsed false, a plain failure', () => {
    const c = cell('own-no-verify');
    expect(c.outcome, c.reason).toBe('succeeded');
    expect(c.premiseUsed).toBe(false);
    expect(c.reason).toMatch(/^without the premise \(no rogue root installed\): terminated TLS with the self-signed certificate \(the client accepted a certificate no trusted CA issued: it does not verify the chain\) → the attacker read the canary inside the TLS session it terminated/);
    expect(premiseLine(c)).toMatch(/^not needed: /);
    expect(c.evidence.some((e) => e.kind === 'canary-recovered' && e.detail.includes(c.canary))).toBe(true);
    expect(profileVerdict(results, 'own-no-verify')).toMatchObject({ status: 'fails', line: 'fails: confidentiality and integrity (mitm-rogue-ca)' });
    expect(renderMarkdown(results)).toContain('| own-no-verify | **SUCCEEDED** |');
  });

  it('no hostname check: the wrong-host certificate gets the attacker in without the premise', () => {
    const c = cell('own-no-hostname');
    expect(c.outcome, c.reason).toBe('succeeded');
    expect(c.premiseUsed).toBe(false);
    expect(c.reason).toMatch(/terminated TLS with the wrong-host certificate \(the client does not check the hostname/);
    expect(profileVerdict(results, 'own-no-hostname').status).toBe('fails');
  });

  it('plain transport: read on the wire, no premise', () => {
    const c = cell('own-plain');
    expect(c.outcome, c.reason).toBe('succeeded');
    expect(c.premiseUsed).toBe(false);
    expect(c.reason).toMatch(/the attacker read the canary in the bytes on the wire: the chat ran in plaintext/);
    expect(profileVerdict(results, 'own-plain').status).toBe('fails');
  });

  it('a verifying client: the premise was needed (the probe shows what the attacker reaches without it)', () => {
    const c = cell('own-verified');
    expect(c.outcome, c.reason).toBe('succeeded');
    expect(c.premiseUsed).toBe(true);
    expect(c.reason).toMatch(/^premise: the victim was made to trust the attacker's rogue root/);
    expect(c.evidence.some((e) => e.kind === 'premise' && /^needed: without the rogue root the attacker reaches only on the path between the victim and the server, where the chat frames cross unreadable/.test(e.detail))).toBe(true);
    expect(c.evidence.find((e) => e.kind === 'position-probe')?.detail).toMatch(/self-signed certificate: the client refused.*wrong-host certificate: the client refused/);
    expect(profileVerdict(results, 'own-verified')).toMatchObject({ status: 'holds-except-premise' });
    expect(renderMarkdown(results)).toContain('| own-verified | *SUCCEEDED* if rogue root trusted |');
  });
});

describeWithPython('targets × mitm-rogue-ca', () => {
  it('a client that verifies nothing, even when handed a CA file: no premise needed, a plain failure', () => {
    const c = cell('naive-given-a-ca');
    expect(c.outcome, c.reason).toBe('succeeded');
    expect(c.premiseUsed).toBe(false);
    expect(c.reason).not.toMatch(/^premise:/);
    expect(premiseLine(c)).toMatch(/^not needed: /);
    expect(profileVerdict(results, 'naive-given-a-ca')).toMatchObject({ status: 'fails', line: 'fails: confidentiality and integrity (mitm-rogue-ca)' });
  });

  it('the careful client needs the rogue root: premiseUsed true, and the run without it is named', () => {
    const c = cell('careful');
    expect(c.outcome, c.reason).toBe('succeeded');
    expect(c.premiseUsed).toBe(true);
    expect(c.reason).toMatch(/^premise: the victim was made to trust the attacker's rogue root/);
    expect(c.evidence.some((e) => e.kind === 'premise' && /^needed: without it the client refused the attacker's certificate with TLS alert unknown_ca/.test(e.detail))).toBe(true);
    expect(profileVerdict(results, 'careful').status).toBe('holds-except-premise');
    // The victim hop is TLS 1.3 with the attacker as server: its group is read from the attacker's flight.
    expect(c.negotiated).toMatchObject({ protocol: 'TLSv1.3', group: expect.stringMatching(/^(X25519|P-256|P-384|X448|X25519MLKEM768)$/) });
    expect(renderMarkdown(results)).not.toMatch(/TLSv1\.3 · [^\n]* · no \(EC\)DHE group/);
  });
});
