/**
 * Interop with a client nobody here wrote: `openssl s_client` talks JSON Lines to our server,
 * and is refused the TLS versions the profile disallows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { makeTestPki, profileOf, startTestServer } from './helpers/lab-env.ts';
import type { PkiMaterial } from '../core/pki.ts';

let pki: PkiMaterial;
let cleanup: () => void;
beforeAll(async () => {
  ({ pki, cleanup } = await makeTestPki());
});
afterAll(() => cleanup());

/** Runs s_client without blocking our event loop (the server under test runs in this process). */
function sClient(port: number, args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-CAfile', pki.ca.certPath, '-verify_return_error', ...args]);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill(), 10_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    p.stdin.end(input);
  });
}

describe('openssl s_client against the secchat server', () => {
  it('openssl is installed', () => {
    expect(spawnSync('openssl', ['version']).stdout.toString()).toMatch(/OpenSSL 3/);
  });

  it('completes a verified TLS 1.3 handshake and speaks the chat protocol', async () => {
    const profile = profileOf({ tls: { minVersion: 'TLSv1.3' } });
    const { server, stop } = await startTestServer(profile, pki);
    const frames = [
      { type: 'register', username: 'ossl', password: 'openssl-pass-1', id: 1 },
      { type: 'login', username: 'ossl', password: 'openssl-pass-1', id: 2 },
      { type: 'users', id: 3 },
      { type: 'quit', id: 4 },
    ];
    const r = await sClient(server.port, ['-ign_eof', '-verify_hostname', 'localhost'], frames.map((f) => JSON.stringify(f) + '\n').join(''));
    await stop();
    expect(r.stdout).toMatch(/Verify return code: 0 \(ok\)/);
    expect(r.stdout).toMatch(/Protocol\s*:\s*TLSv1.3|New, TLSv1.3/);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'welcome', server: 'secchat' });
    expect(lines).toContainEqual(expect.objectContaining({ type: 'ok', re: 2, username: 'ossl' }));
    expect(lines).toContainEqual({ type: 'users', users: ['ossl'], re: 3 });
    expect(lines).toContainEqual({ type: 'bye', re: 4 });
  });

  it('is refused TLS 1.2 by a TLS 1.3-only profile (protocol_version alert)', async () => {
    const { server, stop } = await startTestServer(profileOf({ tls: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } }), pki);
    const r = await sClient(server.port, ['-tls1_2']);
    await stop();
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/alert protocol version|unsupported protocol|wrong version/i);
  });

  it('is refused TLS 1.0 by a TLS 1.2+ profile, and accepted when the profile allows TLS 1.0', async () => {
    const strict = await startTestServer(profileOf({}), pki);
    const refused = await sClient(strict.server.port, ['-tls1', '-cipher', 'DEFAULT:@SECLEVEL=0']);
    await strict.stop();
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/alert protocol version|unsupported protocol|no protocols available/i);

    const legacy = await startTestServer(profileOf({ tls: { minVersion: 'TLSv1', ciphers: 'ECDHE-RSA-AES128-SHA:AES128-SHA' } }), pki);
    const accepted = await sClient(legacy.server.port, ['-tls1', '-cipher', 'DEFAULT:@SECLEVEL=0'], '');
    await legacy.stop();
    expect(accepted.stdout).toMatch(/Protocol\s*:\s*TLSv1\b/);
    expect(accepted.stdout).toMatch(/"type":"welcome"/);
  });
});
