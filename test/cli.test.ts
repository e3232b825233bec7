/**
 * The command line as a user meets it: --help everywhere, the client scripted through stdin
 * against a server started by the CLI in another process, and exit codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildProgram, loadProgram, main } from '../cli/main.ts';
import { COMMANDS } from '../cli/command-registry.ts';
import type { Command } from 'commander';
import { BIN, runCli, startCliServer } from './helpers/cli.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `secchat ARGS` in the test folder (test/helpers/cli.ts), killed after 20 s unless told otherwise. */
const run = (args: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}) => runCli(args, { cwd: dir, timeoutMs: 20_000, ...opts });

function allCommands(c: Command, prefix: string[] = []): string[][] {
  return c.commands.flatMap((s) => [[...prefix, s.name()], ...allCommands(s, [...prefix, s.name()])]);
}

describe('secchat CLI', () => {
  it('prints --help for every command and subcommand, exit 0', async () => {
    const cmds = allCommands(await loadProgram(undefined, 'all'));
    expect(cmds.map((c) => c.join(' '))).toEqual(expect.arrayContaining(['pki init', 'server', 'client', 'attack', 'matrix', 'report']));
    for (const c of cmds) {
      let out = '';
      const code = await main(['node', 'secchat', ...c, '--help'], { out: (t) => (out += t), err: () => {}, interactive: false });
      expect(code, c.join(' ')).toBe(0);
      expect(out, c.join(' ')).toMatch(/Usage: secchat/);
    }
  });

  it('lists every registered command cheaply, and each loaded command says what the registry says', async () => {
    const stubs = buildProgram().commands;
    expect(stubs.map((c) => c.name())).toEqual(COMMANDS.map((e) => e.name));
    const loaded = (await loadProgram(undefined, 'all')).commands;
    for (const e of COMMANDS) expect(loaded.find((c) => c.name() === e.name)?.description(), e.name).toBe(e.description);
    let out = '';
    expect(await main(['node', 'secchat', '--help'], { out: (t) => (out += t), err: () => {}, interactive: false })).toBe(0);
    for (const e of COMMANDS) expect(out).toContain(e.name);
  });

  it('exits 2 on an unknown option or attack', async () => {
    const io = { out: () => {}, err: () => {}, interactive: false };
    expect(await main(['node', 'secchat', 'matrix', '--frobnicate'], io)).toBe(2);
    expect(await main(['node', 'secchat', 'attack', 'no-such-attack', '-p', 'tls-verified'], io)).toBe(2);
  });

  it('pki init writes keys with mode 0600 and reuses them', async () => {
    const r1 = await run(['pki', 'init', '--dir', 'pki']);
    expect(r1.code).toBe(0);
    expect(r1.stdout).toMatch(/created the lab PKI/);
    expect(statSync(path.join(dir, 'pki', 'server.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(dir, 'pki', 'server.key'), 'utf8')).not.toBe('');
    const r2 = await run(['pki', 'init', '--dir', 'pki']);
    expect(r2.stdout).toMatch(/exists; reused/);
  });

  it('server + scripted clients: messages from stdin lines, received lines on stdout', async () => {
    const server = await startCliServer(['--profile', 'tls-verified', '--port', '0', '--pki', 'pki', '--db', 'users.db'], { cwd: dir, timeoutMs: 15_000 });
    try {
      const port = server.port;
      const common = ['client', '--profile', 'tls-verified', '--port', String(port), '--pki', 'pki', '--register'];
      // bob stays connected long enough to receive alice's dm: his input ends only after a delay.
      const bob = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [BIN, ...common, '--user', 'bob', '--json'], { cwd: dir, env: { ...process.env, SECCHAT_PASSWORD: 'bob-password-1' } });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d) => (stdout += d));
        p.stderr.on('data', (d) => (stderr += d));
        p.on('close', (code) => resolve({ code, stdout, stderr }));
        const waitAlice = setInterval(() => {
          if (stdout.includes('"type":"dm"')) {
            clearInterval(waitAlice);
            p.stdin.end('/dm alice thanks\n');
          }
        }, 50);
        setTimeout(() => {
          clearInterval(waitAlice);
          p.stdin.end();
        }, 15_000);
      });
      await new Promise((r) => setTimeout(r, 1500));
      const alice = await run([...common, '--user', 'alice'], { input: 'hello room\n/dm bob secret \x1b[31mred\n', env: { SECCHAT_PASSWORD: 'alice-password-1' } });
      const b = await bob;
      expect(alice.code, alice.stderr).toBe(0);
      expect(alice.stderr).toMatch(/connected to 127\.0\.0\.1:\d+ \(TLSv1\.3 /);
      expect(b.code, b.stderr).toBe(0);
      const frames = b.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(frames).toContainEqual(expect.objectContaining({ type: 'msg', from: 'alice', text: 'hello room' }));
      expect(frames).toContainEqual(expect.objectContaining({ type: 'dm', from: 'alice', text: 'secret \x1b[31mred' }));
      expect(server.stderr()).toMatch(/connect peer=127\.0\.0\.1:\d+ protocol=TLSv1\.3 cipher=TLS_AES_256_GCM_SHA384/);
      expect(server.stderr()).not.toMatch(/alice-password-1/);
    } finally {
      await server.stop();
    }
    expect(server.stderr()).toMatch(/SIGTERM: closing every connection/);
  });

  it('a dm sent to an offline user is printed at their next login, as text and as --json; every printed line ends with a newline', async () => {
    const server = await startCliServer(['--profile', 'tls-verified', '--port', '0', '--pki', 'pki', '--db', 'offline.db'], { cwd: dir, timeoutMs: 15_000 });
    try {
      const port = server.port;
      const common = ['client', '--profile', 'tls-verified', '--port', String(port), '--pki', 'pki'];
      const carolEnv = { SECCHAT_PASSWORD: 'carol-password-1' };
      const aliceEnv = { SECCHAT_PASSWORD: 'alice-password-1' };
      // Both accounts exist; carol then leaves, so she is offline for what follows.
      const reg = await run([...common, '--register', '--user', 'carol'], { input: '', env: carolEnv });
      expect(reg.code, reg.stderr).toBe(0);
      const alice = await run([...common, '--register', '--user', 'alice'], { input: '/dm carol offline-test-1\n', env: aliceEnv });
      expect(alice.code, alice.stderr).toBe(0);
      expect(alice.stderr).toContain('* carol is offline: stored for their next login');

      // The stored dm rides right behind the login ok: it must be printed, not lost.
      const carol = await run([...common, '--user', 'carol'], { input: '', env: carolEnv });
      expect(carol.code, carol.stderr).toBe(0);
      expect(carol.stderr).toMatch(/logged in as carol; online: carol\n/);
      expect(carol.stdout).toMatch(/^\[dm\] alice → carol: offline-test-1 \(sent \d{4}-\d\d-\d\dT[\d:.]+Z while you were offline\)\n/m);

      const alice2 = await run([...common, '--user', 'alice'], { input: '/dm carol offline-test-2\n', env: aliceEnv });
      expect(alice2.stderr).toContain('stored for their next login');
      const carolJson = await run([...common, '--user', 'carol', '--json'], { input: '', env: carolEnv });
      expect(carolJson.code, carolJson.stderr).toBe(0);
      const frames = carolJson.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(frames).toContainEqual(expect.objectContaining({ type: 'dm', from: 'alice', to: 'carol', text: 'offline-test-2', offline: true }));
      // Delivered once: the first login's dm is not handed over again.
      expect(frames.filter((f) => f.type === 'dm')).toHaveLength(1);

      // Two clients in one terminal must not glue their output: every stream ends on a newline.
      for (const r of [reg, alice, carol, alice2, carolJson]) {
        for (const text of [r.stdout, r.stderr]) if (text) expect(text.endsWith('\n'), JSON.stringify(text)).toBe(true);
      }
    } finally {
      await server.stop();
    }
  }, 120_000); // five client processes one after another, on a loaded machine

  it('client without a password on a non-terminal stdin says how to give one (exit 2)', async () => {
    const r = await run(['client', '--profile', 'plaintext', '--user', 'x', '--port', '1', '--pki', 'pki']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SECCHAT_PASSWORD/);
  });

  it('attack --json prints one result object with the documented fields', async () => {
    const r = await run(['attack', 'mitm-self-signed', '--profile', 'tls-no-verify', '--pki', 'pki', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(Object.keys(o)).toEqual(expect.arrayContaining(['schemaVersion', 'profile', 'attack', 'outcome', 'impact', 'reason', 'canary', 'evidence', 'negotiated', 'durationMs']));
    expect(o.outcome).toBe('succeeded');
    expect(existsSync(path.join(dir, 'pki', 'ca.crt'))).toBe(true);
  });
});
