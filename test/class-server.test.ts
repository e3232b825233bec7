/**
 * One server for a class, as the README's "Running one server for a class" says to run it: the
 * teacher names the server's address in its certificate, exports the CA certificate, starts the
 * server with the class limits; 40 students behind one address, each holding only the exported
 * CA file (an empty .secchat/, verify: ca, hostname checking on), register and chat.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChatClient } from '../client/chat-client.ts';
import { loadTrustAnchors } from '../core/pki.ts';
import { loadProfile } from '../core/profile.ts';
import { runCli, startCliServer, type CliServer } from './helpers/cli.ts';

const STUDENTS = 40;
const HOST = '127.0.0.2'; // a loopback address that is not 127.0.0.1 nor named localhost
const CLASS_CONFIG = path.resolve(__dirname, '../docs/class-server.yaml');

let tmp: string;
let teacher: string;
let student: string;
let server: CliServer | null = null;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-class-'));
  teacher = path.join(tmp, 'teacher');
  student = path.join(tmp, 'student');
  mkdirSync(teacher);
  mkdirSync(student);
});
afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('running one server for a class', { timeout: 180_000 }, () => {
  it('pki init --name puts the address in the server certificate as an IP SAN; pki show lists it', async () => {
    const init = await runCli(['pki', 'init', '--name', HOST, '--name', 'chat.lab.example'], { cwd: teacher });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/server certificate names: localhost, chat\.lab\.example, 127\.0\.0\.1, 127\.0\.0\.2/);
    // openssl reads the SAN independently of node: an iPAddress entry, not a dNSName.
    const text = execFileSync('openssl', ['x509', '-in', path.join(teacher, '.secchat/pki/server.crt'), '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toMatch(/IP Address:127\.0\.0\.2/);
    expect(text).toMatch(/DNS:chat\.lab\.example/);
    expect(text).not.toMatch(/DNS:127\.0\.0\.2/);
    const show = await runCli(['pki', 'show'], { cwd: teacher });
    expect(show.stdout).toContain('server certificate IP addresses: 127.0.0.1, 127.0.0.2');
    expect(show.stdout).toContain('server certificate host names: localhost, chat.lab.example');
  });

  it('pki init --name on an existing PKI without the name says how to reissue, and rejects a malformed name (exit 2)', async () => {
    const r = await runCli(['pki', 'init', '--name', '10.9.8.7'], { cwd: teacher });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('does not name 10.9.8.7');
    expect(r.stderr).toContain('secchat pki init --force --name 10.9.8.7');
    const bad = await runCli(['pki', 'init', '--dir', 'other', '--name', 'bad name!'], { cwd: teacher });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--name: "bad name!" is neither a host name .* nor an IP address/);
  });

  it('pki export-ca writes only the CA certificate and prints the fingerprint openssl prints', async () => {
    const r = await runCli(['pki', 'export-ca', '--out', path.join(student, 'class-ca.crt')], { cwd: teacher });
    expect(r.code, r.stderr).toBe(0);
    const pem = readFileSync(path.join(student, 'class-ca.crt'), 'utf8');
    expect(pem).not.toMatch(/PRIVATE KEY/);
    expect(pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
    const openssl = execFileSync('openssl', ['x509', '-in', path.join(student, 'class-ca.crt'), '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
    const fp = /Fingerprint=([0-9A-F:]+)/.exec(openssl)![1];
    expect(r.stdout).toContain(`SHA-256 fingerprint: ${fp}`);
  });

  it('a student without the CA file gets a clear error naming --ca and pki export-ca, and no PKI is created', async () => {
    const r = await runCli(['client', '-p', 'tls-verified', '--host', HOST, '--port', '1', '-u', 'sam'], { cwd: student, env: { SECCHAT_PASSWORD: 'long-enough-1' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--ca FILE');
    expect(r.stderr).toContain('secchat pki export-ca');
    expect(r.stderr).not.toContain('--force');
    expect(existsSync(path.join(student, '.secchat'))).toBe(false);
  });

  it('--ca with a profile that verifies no CA chain is refused as having no effect (exit 2)', async () => {
    const r = await runCli(['client', '-p', 'tls-no-verify', '--host', HOST, '--port', '1', '--ca', 'class-ca.crt', '-u', 'sam'], { cwd: student, env: { SECCHAT_PASSWORD: 'long-enough-1' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--ca: has no effect with profile tls-no-verify: client.verify is 'none'");
  });

  it('a server on an address its certificate does not name warns, with the pki init fix', async () => {
    const other = path.join(tmp, 'unnamed');
    mkdirSync(other);
    const s = await startCliServer(['-p', 'tls-verified', '--host', HOST, '--port', '0'], { cwd: other });
    await s.stop();
    expect(s.stderr()).toMatch(/warning: the server certificate does not name 127\.0\.0\.2 \(it names localhost, 127\.0\.0\.1\)/);
    expect(s.stderr()).toContain('secchat pki init --force --name 127.0.0.2');
    expect(s.stderr()).not.toContain('--servername');
  });

  it(`${STUDENTS} students behind one address, holding only the exported CA file, register and chat`, async () => {
    server = await startCliServer(['-p', 'tls-verified', '--host', HOST, '--port', '0', '--config', CLASS_CONFIG], { cwd: teacher });
    expect(server.stderr()).not.toMatch(/does not name/);
    const profile = loadProfile('tls-verified');
    expect(profile.client.verify).toBe('ca');
    expect(profile.client.checkHostname).toBe(true);
    const trust = { caPems: loadTrustAnchors(path.join(student, 'class-ca.crt'), '--ca') };
    const names = Array.from({ length: STUDENTS }, (_, i) => `student${i + 1}`);
    const clients = await Promise.all(
      names.map(async (name) => {
        const c = await ChatClient.connect({ profile, host: HOST, port: server!.port, trust, connectTimeoutMs: 60_000, requestTimeoutMs: 60_000 });
        await c.register(name, `${name}-password`);
        await c.login(name, `${name}-password`);
        return c;
      }),
    );
    await Promise.all(clients.map((c, i) => c.send(`hello from ${names[i]}`)));
    // Every student hears every other one (the server never echoes one's own message).
    const deadline = Date.now() + 60_000;
    const heard = () => clients.every((c) => c.received.filter((f) => f.type === 'msg').length >= STUDENTS - 1);
    while (!heard() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const [i, c] of clients.entries()) {
      const texts = new Set(c.received.filter((f) => f.type === 'msg').map((f) => f.text));
      expect(texts.size, names[i]).toBe(STUDENTS - 1);
      expect(texts.has(`hello from ${names[i]}`)).toBe(false);
    }

    // The real CLI from the student's empty folder: only --ca, and client.ca in a profile.
    writeFileSync(path.join(student, 'class.yaml'), 'name: class\nclient:\n  verify: ca\n  ca: class-ca.crt\n');
    const viaFlag = await runCli(['client', '-p', 'tls-verified', '--host', HOST, '--port', String(server.port), '--ca', 'class-ca.crt', '-u', 'cli1', '--register'], {
      cwd: student,
      input: 'hello from the cli\n',
      env: { SECCHAT_PASSWORD: 'cli1-password' },
    });
    expect(viaFlag.code, viaFlag.stderr).toBe(0);
    expect(viaFlag.stderr).toMatch(/connected to 127\.0\.0\.2:\d+ \(TLSv1\.3/);
    expect(viaFlag.stderr).toContain('registered account cli1');
    const viaProfile = await runCli(['client', '-p', './class.yaml', '--host', HOST, '--port', String(server.port), '-u', 'cli2', '--register'], {
      cwd: student,
      input: '/users\n',
      env: { SECCHAT_PASSWORD: 'cli2-password' },
    });
    expect(viaProfile.code, viaProfile.stderr).toBe(0);
    expect(viaProfile.stdout).toMatch(/\* online: .*student40/);
    while (!clients[0]!.received.some((f) => f.type === 'msg' && f.from === 'cli1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(clients[0]!.received).toContainEqual(expect.objectContaining({ type: 'msg', from: 'cli1', text: 'hello from the cli' }));
    expect(readdirSync(student).sort()).toEqual(['class-ca.crt', 'class.yaml']); // no .secchat/, no key
    for (const c of clients) c.close();
  });
});
