/**
 * Runs that stopped waiting: `secchat attack replay --profile channel-ecdhe-unsigned` and `attack
 * tamper` on a plain-transport, unverified, signed-channel profile exited with code 13 and no
 * output. The attack itself finished; the server's close() then waited on a connection the
 * server had already finished (paused: it reads nothing more, so it neither sees its peer's
 * close nor keeps the event loop alive), bounded only by an unref'd timer, and with nothing else
 * pending Node gave up on the top-level await. Only a separate process shows it (vitest's own
 * handles keep the loop alive), so the commands run as a user runs them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from './helpers/cli.ts';
import { makeTestPki } from './helpers/lab-env.ts';
import { STOPPED_WAITING_MESSAGE } from '../bin/exit-guard.mjs';

let dir: string;
let pkiDir: string;
let cleanupPki: () => void;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-exit13-'));
  const p = await makeTestPki();
  pkiDir = p.dir;
  cleanupPki = p.cleanup;
}, 120_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  cleanupPki?.();
});

/** Runs `secchat attack ID --profile PROFILE --json` from the sources; checks it ended with a verdict. */
async function attackVerdict(id: string, profile: string): Promise<{ outcome: string; reason: string }> {
  const r = await runCli(['attack', id, '--profile', profile, '--pki', pkiDir, '--json'], { cwd: dir, env: { SECCHAT_TSX: '1' }, timeoutMs: 100_000 });
  expect(r.stderr).not.toContain(STOPPED_WAITING_MESSAGE);
  expect(r.code, `exit code (stderr: ${r.stderr.slice(0, 400)})`).toBe(0);
  const result = JSON.parse(r.stdout) as { outcome: string; reason: string };
  expect(['succeeded', 'blocked', 'error', 'not-applicable']).toContain(result.outcome);
  return result;
}

describe('single-run attacks that take over the secure channel end with a verdict', () => {
  it('replay on channel-ecdhe-unsigned exits 0 with its verdict in the JSON', async () => {
    const v = await attackVerdict('replay', 'channel-ecdhe-unsigned');
    // The unsigned key shares are swapped: a "blocked" here would be the worst kind of wrong.
    expect(v.outcome, v.reason).not.toBe('blocked');
  }, 120_000);

  it('tamper on a plain, unverified, ecdhe-signed profile exits 0 with its verdict in the JSON', async () => {
    const file = path.join(dir, 'v4.yaml');
    writeFileSync(file, 'name: v4\ntransport: plain\nclient:\n  verify: none\nchannel:\n  keyExchange: ecdhe-signed\n');
    const v = await attackVerdict('tamper', file);
    // verify: none accepts the attacker's self-signed channel certificate.
    expect(v.outcome, v.reason).not.toBe('blocked');
  }, 120_000);
});

describe('bin/exit-guard.mjs', () => {
  /** Runs a tiny entry module that installs the guard and then awaits `awaited`. */
  function runEntry(body: string): Promise<{ code: number | null; stderr: string }> {
    const guard = pathToFileURL(path.resolve(__dirname, '../bin/exit-guard.mjs')).href;
    const file = path.join(dir, `entry-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(file, `import { installExitGuard } from ${JSON.stringify(guard)};\nlet done = false;\ninstallExitGuard(() => done);\n${body}\n`);
    return new Promise((resolve) => {
      const p = spawn(process.execPath, [file], { cwd: dir });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (code) => resolve({ code, stderr }));
    });
  }

  it('turns an unsettled top-level await into a message on stderr (exit code stays 13)', async () => {
    const r = await runEntry('await new Promise(() => {});');
    expect(r.code).toBe(13);
    expect(r.stderr).toContain(STOPPED_WAITING_MESSAGE);
  });

  it('says nothing when main() returned, whatever the code', async () => {
    const r = await runEntry('await Promise.resolve();\ndone = true;\nprocess.exitCode = 13;');
    expect(r.code).toBe(13);
    expect(r.stderr).toBe('');
  });
});
