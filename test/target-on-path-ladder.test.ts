/**
 * The target variants of replay and tamper climb the same positions as mitm-wrong-host: a client
 * that verifies the chain but not the host name accepts a genuine certificate for the attacker's
 * own name, so the attacker acts inside TLS (found by a fresh-clone trial: both read "blocked" by
 * TLS record protection while mitm-wrong-host succeeded on the same app, and the consistency
 * checker said so). The careful client with `--no-check-hostname` is that app.
 */
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseTargetText } from '../core/target.ts';
import type { PkiMaterial } from '../core/pki.ts';
import { runTargetAttack } from '../attacks/targets/run.ts';
import { makeTestPki } from './helpers/lab-env.ts';
import { describeWithPython } from './helpers/python.ts';

const FIXTURES = path.resolve('test/fixtures');
const needsPython = describeWithPython;

const CHAIN_ONLY = `
name: careful-chain-only
description: the careful app with the half fix (CA verification, no host name check)
server:
  command: python3 targets/careful/server.py --port {port} --cert {cert} --key {key}
  ready: listening
  certificate: targets/pki/server.crt
  privateKey: targets/pki/server.key
  transport: tls
client:
  command: python3 targets/careful/client.py --host {host} --port {port} --ca {ca} --server-name {name} --no-check-hostname
  send: "alice\\n{canary}\\n"
  expectServerName: localhost
  ca: targets/pki/ca.crt
observer:
  command: python3 targets/careful/client.py --host {host} --port {port} --ca {ca} --server-name {name}
  send: "bob\\n"
`;

let pki: PkiMaterial;
let cleanup: () => void;
beforeAll(async () => {
  ({ pki, cleanup } = await makeTestPki());
});
afterAll(() => cleanup?.());

needsPython('replay and tamper against a target client that checks the chain but not the name', () => {
  const target = () => parseTargetText(CHAIN_ONLY, 'careful-chain-only.yaml', FIXTURES);

  it('replay: inside TLS with the wrong-host certificate, the duplicate is delivered', async () => {
    const c = await runTargetAttack('replay', target(), pki);
    expect(c.outcome, c.reason).toBe('succeeded');
    expect(c.reason).toMatch(/^the client refused a self-signed certificate \(TLS alert unknown_ca\) → terminated TLS with a genuine certificate for the attacker's own name from a CA the client trusts, which the client accepted: it does not check the host name \(TLSv1\.[23] [A-Z0-9_-]+\) → the server delivered the canary [2-9] times to the other client$/);
    expect(c.evidence.some((e) => e.kind === 'attacker' && /inside the TLS session it terminated/.test(e.detail))).toBe(true);
  }, 90_000);

  it('tamper: the altered canary reaches the other client', async () => {
    const c = await runTargetAttack('tamper', target(), pki);
    expect(c.outcome, c.reason).toBe('succeeded');
    expect(c.reason).toMatch(/it does not check the host name .* → the other client received the ALTERED canary/);
  }, 90_000);
});
