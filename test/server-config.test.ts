/**
 * What a teacher can set without editing source: a `secchat server` flag for every limit and a
 * `--config` file with a `limits:` section (strict, exit 2 on a bad key); what a refused client
 * and the server's log say; and the audit log of failed logins, refused registrations, rate
 * limits and lockouts (username and peer, never the password), as text and as JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caught } from './helpers/caught.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { hostNameWarning, namesClientsUse, serverCommand } from '../cli/commands/server.ts';
import { issueCertificate } from '../core/pki.ts';
import { ChatClient, CLOSED_BEFORE_TLS } from '../client/chat-client.ts';
import { UsageError } from '../core/errors.ts';
import { loadProfile } from '../core/profile.ts';
import { DEFAULT_LIMITS } from '../server/chat-server.ts';
import { LIMIT_KEYS, kebabCase, resolveLimits, validateServerConfig } from '../server/server-config.ts';
import { runCli, startCliServer, type CliServer } from './helpers/cli.ts';

let tmp: string;
const servers: CliServer[] = [];
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-srvcfg-'));
});
afterAll(async () => {
  for (const s of servers) await s.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('server limits from flags and a config file', { timeout: 180_000 }, () => {
  it('has one kebab-case flag per ServerLimits field', () => {
    const server = serverCommand({ out: () => {}, err: () => {}, interactive: false });
    const flags = server.options.map((o) => o.long);
    expect(LIMIT_KEYS).toEqual(Object.keys(DEFAULT_LIMITS));
    for (const k of LIMIT_KEYS) expect(flags, k).toContain(`--${kebabCase(k)}`);
    expect(flags).toContain('--max-connections-per-ip');
    expect(flags).toContain('--max-login-attempts-per-ip-per-minute');
    expect(flags).toContain('--config');
  });

  it('validates the file like a profile: unknown keys named with the allowed ones, bad values named', () => {
    const unknown = caught(() => validateServerConfig({ limits: { maxConectionsPerIp: 3 } }, 'class.yaml'));
    expect(unknown).toBeInstanceOf(UsageError);
    expect(unknown.message).toContain('limits.maxConectionsPerIp: unknown key; allowed keys here: maxFrameBytes,');
    expect(unknown.message).toContain('maxConnectionsPerIp');
    expect(caught(() => validateServerConfig({ limit: {} })).message).toContain('limit: unknown key; allowed keys here: limits');
    expect(caught(() => validateServerConfig({ limits: { maxConnectionsPerIp: 0 } })).message).toContain('limits.maxConnectionsPerIp: must be a whole number of at least 1 (got 0)');
    expect(caught(() => validateServerConfig({ limits: { loginTimeoutMs: '30s' } })).message).toContain('limits.loginTimeoutMs: must be a whole number of at least 1 (got "30s")');
    expect(validateServerConfig({ limits: { maxConnectionsPerIp: 200 } })).toEqual({ limits: { maxConnectionsPerIp: 200 } });
  });

  it('flags win over the file, the file over the defaults; an impossible combination names the flags', () => {
    const l = resolveLimits({ maxConnectionsPerIp: 200, loginTimeoutMs: 5000 }, { maxConnectionsPerIp: 3 });
    expect(l.maxConnectionsPerIp).toBe(3);
    expect(l.loginTimeoutMs).toBe(5000);
    expect(l.maxFrameBytes).toBe(DEFAULT_LIMITS.maxFrameBytes);
    expect(caught(() => resolveLimits({}, { maxFrameBytes: 100 })).message).toMatch(/--max-frame-bytes/);
  });

  it('the shipped class setting is valid and fits 100 students behind one address', async () => {
    const { loadServerConfig } = await import('../server/server-config.ts');
    const l = resolveLimits(loadServerConfig(path.resolve(__dirname, '../docs/class-server.yaml')).limits);
    expect(l.maxConnectionsPerIp).toBeGreaterThanOrEqual(100);
    expect(l.maxLoginAttemptsPerIpPerMinute).toBeGreaterThanOrEqual(200); // register + login for 100
    expect(l.maxLoginAttemptsPerAccountPerMinute).toBe(DEFAULT_LIMITS.maxLoginAttemptsPerAccountPerMinute);
  });

  it('secchat server exits 2 on a bad config file or flag value, naming it', async () => {
    writeFileSync(path.join(tmp, 'bad.yaml'), 'limits:\n  maxConectionsPerIp: 3\n');
    const r = await runCli(['server', '-p', 'tls-verified', '--port', '0', '--config', 'bad.yaml'], { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid server config bad.yaml');
    const f = await runCli(['server', '-p', 'tls-verified', '--port', '0', '--max-connections-per-ip', 'lots'], { cwd: tmp });
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/--max-connections-per-ip.*expected a whole number/);
  });

  it('a refused client is told why, and the server logs the refusal with the peer address', async () => {
    const s = await startCliServer(['-p', 'tls-verified', '--port', '0', '--max-connections-per-ip', '1', '--json'], { cwd: tmp });
    servers.push(s);
    const ca = (await import('node:fs')).readFileSync(path.join(tmp, '.secchat/pki/ca.crt'), 'utf8');
    const holder = tls.connect({ host: '127.0.0.1', port: s.port, servername: 'localhost', ca });
    await new Promise((r) => holder.once('secureConnect', r));
    try {
      const err = await ChatClient.connect({ profile: loadProfile('tls-verified'), host: '127.0.0.1', port: s.port, trust: { caPems: [ca] }, connectTimeoutMs: 5000 }).catch((e) => e);
      expect(err.message).toContain(CLOSED_BEFORE_TLS);
      const cli = await runCli(['client', '-p', 'tls-verified', '--port', String(s.port), '-u', 'x'], { cwd: tmp, env: { SECCHAT_PASSWORD: 'long-enough-1' } });
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain('the server closed the connection before TLS: it may be full or limiting your address');
      const deadline = Date.now() + 5000;
      while (!s.stderr().includes('too_many_connections') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const refusals = s.stderr().split('\n').filter((l) => l.includes('too_many_connections')).map((l) => JSON.parse(l));
      expect(refusals.length).toBeGreaterThanOrEqual(2);
      for (const e of refusals) expect(e.peer).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(s.stderr()).not.toContain('undefined');
    } finally {
      holder.destroy();
    }
  });
});

describe('the certificate-name warning at server start', () => {
  const cert = (names: { dnsNames?: string[]; ipAddresses?: string[] }) =>
    issueCertificate({ commonName: 'x', ...names, notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 86_400_000) }).certPem;

  it('checks a bound address against IP entries and says how to reissue, never how to fake the name', () => {
    const w = hostNameWarning(cert({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }), '192.0.2.7', '.secchat/pki');
    expect(w).toContain('does not name 192.0.2.7 (it names localhost, 127.0.0.1)');
    expect(w).toContain('`secchat pki init --force --name 192.0.2.7`');
    expect(w).not.toMatch(/servername/);
    expect(hostNameWarning(cert({ ipAddresses: ['192.0.2.7'] }), '192.0.2.7', '.secchat/pki')).toBeNull();
    expect(hostNameWarning(cert({ dnsNames: ['192.0.2.7'] }), '192.0.2.7', 'my-pki')).toContain('--dir my-pki'); // a DNS entry never matches an address
  });

  it('for a wildcard bind, uses the machine\'s own names', () => {
    expect(namesClientsUse('0.0.0.0')[0]).toBe(os.hostname());
    expect(namesClientsUse('0.0.0.0')).not.toContain('127.0.0.1'); // loopback is not how students reach it
    expect(hostNameWarning(cert({ dnsNames: ['localhost'] }), '0.0.0.0', '.secchat/pki')).toContain(`this machine's names (${os.hostname()}`);
    expect(hostNameWarning(cert({ dnsNames: [os.hostname()] }), '0.0.0.0', '.secchat/pki')).toBeNull();
  });
});

describe('the audit log', { timeout: 180_000 }, () => {
  /** Drives one account through every audited refusal against a CLI server; returns its stderr. */
  async function guessPasswords(json: boolean): Promise<string> {
    writeFileSync(path.join(tmp, 'strict.yaml'), 'limits:\n  maxLoginAttemptsPerAccountPerMinute: 2\n');
    const s = await startCliServer(['-p', 'tls-verified', '--port', '0', '--config', 'strict.yaml', '--db', `audit-${json ? 'json' : 'text'}.db`, ...(json ? ['--json'] : [])], { cwd: tmp });
    servers.push(s);
    const ca = (await import('node:fs')).readFileSync(path.join(tmp, '.secchat/pki/ca.crt'), 'utf8');
    const c = await ChatClient.connect({ profile: loadProfile('tls-verified'), host: '127.0.0.1', port: s.port, trust: { caPems: [ca] }, connectTimeoutMs: 5000 });
    await expect(c.register('bob', 'Xq7z')).rejects.toThrow(/at least 8/);
    await c.register('bob', 'bobs-real-password');
    await expect(c.register('bob', 'another-password')).rejects.toThrow(/taken/);
    await expect(c.login('bob', 'guess-number-1')).rejects.toThrow(/wrong/);
    await expect(c.login('bob', 'guess-number-2')).rejects.toThrow(/wrong/);
    await expect(c.login('bob', 'guess-number-3')).rejects.toThrow(/too many/);
    c.close();
    const deadline = Date.now() + 5000;
    while (!s.stderr().includes('rate_limited') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await s.stop();
    const log = s.stderr();
    for (const pw of ['Xq7z', 'bobs-real-password', 'another-password', 'guess-number-1', 'guess-number-2', 'guess-number-3']) expect(log, pw).not.toContain(pw);
    return log;
  }

  it('records refused registrations, failed logins, the lockout and rate-limit hits as JSON, without passwords', async () => {
    const entries = (await guessPasswords(true))
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const of = (event: string) => entries.filter((e) => e.event === event);
    const peer = expect.stringMatching(/^127\.0\.0\.1:\d+$/);
    expect(of('register_refused')).toEqual([
      expect.objectContaining({ username: 'bob', peer, reason: 'password shorter than 8 characters' }),
      expect.objectContaining({ username: 'bob', peer, reason: 'username taken' }),
    ]);
    expect(of('login_failed')).toEqual([
      expect.objectContaining({ username: 'bob', peer, reason: 'wrong username or password' }),
      expect.objectContaining({ username: 'bob', peer, reason: 'wrong username or password' }),
    ]);
    expect(of('lockout')).toEqual([expect.objectContaining({ username: 'bob', peer, failures: 2, retryAfterMs: expect.any(Number) })]);
    expect(of('rate_limited')).toEqual([expect.objectContaining({ username: 'bob', peer, scope: 'account', attempt: 'login' })]);
    for (const e of entries) expect(typeof e.t).toBe('string');
  });

  it('and as text lines', async () => {
    const log = await guessPasswords(false);
    expect(log).toMatch(/ login_failed username=bob peer=127\.0\.0\.1:\d+ reason="wrong username or password"\n/);
    expect(log).toMatch(/ lockout username=bob peer=127\.0\.0\.1:\d+ failures=2 retryAfterMs=\d+\n/);
    expect(log).toMatch(/ register_refused username=bob peer=127\.0\.0\.1:\d+ reason="username taken"\n/);
  });
});
