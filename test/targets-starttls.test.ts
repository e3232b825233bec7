/**
 * `downgrade-starttls` against a STARTTLS target (attacks/targets/starttls-strip.ts), end to end
 * over loopback with the Python fixture test/fixtures/targets/starttls: the opportunistic client
 * carries on in plaintext once the offer is deleted (the canary is read on the wire), the client
 * started with --require-tls refuses (its message and exit status are the evidence). Also the
 * target schema's rules for `transport: starttls` and its line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTarget, validateTarget } from '../core/target.ts';
import { ensurePki, type PkiMaterial } from '../core/pki.ts';
import { runTargetAttack } from '../attacks/targets/run.ts';
import { describeWithPython } from './helpers/python.ts';

const FIXTURES = path.resolve('test/fixtures');
// CI installs python3 (.ci/run); a laptop without it skips loudly rather than silently.
const needsPython = describeWithPython;

describe('target schema: transport starttls and its line', () => {
  const base = { name: 't', server: { command: 's {port}', transport: 'starttls' }, client: { command: 'c {port}', send: '{canary}\n' } };
  const problems = (starttls: unknown) => {
    try {
      validateTarget({ ...base, server: { ...base.server, starttls } }, 'x.yaml', FIXTURES);
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  };

  it('accepts one printable line ending in a newline', () => {
    expect(problems('STARTTLS\n')).toBe('');
    expect(problems('STARTTLS\r\n')).toBe('');
    expect(loadTarget(path.join(FIXTURES, 'starttls-opportunistic.yaml')).server).toMatchObject({ transport: 'starttls', starttls: 'STARTTLS\n' });
  });

  it('refuses a line without its newline, several lines, or an invisible one, naming the field', () => {
    expect(problems('STARTTLS')).toMatch(/server\.starttls: must be one line ending in a newline, e\.g\. "STARTTLS\\n" \(got "STARTTLS"\)/);
    expect(problems('STARTTLS\nEHLO\n')).toMatch(/server\.starttls: must be printable ASCII on one line/);
    expect(problems(' \n')).toMatch(/server\.starttls: must be printable ASCII on one line, starting with a visible character/);
    expect(problems('')).toMatch(/server\.starttls: /);
  });
});

needsPython('downgrade-starttls against a STARTTLS target (the offer deleted on-path)', () => {
  let pki: PkiMaterial;
  let tmp: string;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-starttls-'));
    pki = await ensurePki(path.join(tmp, 'pki'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('opportunistic client: carries on in plaintext, and the canary crosses the proxy readable', async () => {
    const c = await runTargetAttack('downgrade-starttls', loadTarget(path.join(FIXTURES, 'starttls-opportunistic.yaml')), pki);
    expect(`${c.outcome}: ${c.reason}`).toMatch(/^succeeded: deleted "STARTTLS" from the server's greeting \("HELLO chat STARTTLS" → "HELLO chat"\) → the client carried on without TLS and the canary crossed the proxy in plaintext \(connection \d+, client → server\)/);
    const seen = c.evidence.find((e) => e.kind === 'canary-recovered');
    expect(seen?.detail).toContain(c.canary);
    expect(seen?.detail).toMatch(/\(c2s, client-wire\)/);
    expect(c.evidence.some((e) => e.kind === 'tls')).toBe(false);
    expect(c.evidence.find((e) => e.kind === 'target-client')?.detail).toMatch(/offers no STARTTLS .* continuing in plaintext/);
  }, 90_000);

  it('--require-tls client: refuses to continue, and the evidence names what it printed and its exit status', async () => {
    const c = await runTargetAttack('downgrade-starttls', loadTarget(path.join(FIXTURES, 'starttls-required.yaml')), pki);
    expect(`${c.outcome}: ${c.reason}`).toMatch(/^blocked: deleted "STARTTLS" .* → the client refused to continue without TLS: it printed "refusing to continue: the server did not offer STARTTLS .*" and exited with status 3; the canary never crossed the proxy/);
    expect(c.evidence.some((e) => e.kind === 'canary-recovered')).toBe(false);
    // "blocked" rests on the chat working without the attacker: the runner's control run says so.
    expect(c.evidence.find((e) => e.kind === 'control')?.detail).toMatch(/the canary reached the observer client/);
  }, 90_000);

  it('a target speaking TLS from the first byte has no offer to strip: n/a with the reason', async () => {
    const c = await runTargetAttack('downgrade-starttls', loadTarget(path.join(FIXTURES, 'careful.yaml')), pki);
    expect(c.outcome).toBe('not-applicable');
    expect(c.reason).toMatch(/speaks tls from the first byte: there is no STARTTLS offer to strip/);
  });
});
