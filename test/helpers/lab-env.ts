/**
 * Test fixtures shared by end-to-end tests: a lab PKI in a temp folder (made once per test
 * file), a profile built inline (so tests do not depend on the presets), and a running server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initPki, loadPki, type PkiMaterial } from '../../core/pki.ts';
import { validateProfile, type Profile } from '../../core/profile.ts';
import { startChatServer, type ChatServer, type ServerLimits } from '../../server/chat-server.ts';
import { ChatClient } from '../../client/chat-client.ts';
import { resolveTrust } from '../../core/tls/certificate-verification.ts';
import { afterAll, beforeAll } from 'vitest';

/** Creates a lab PKI in a fresh temp folder. Call in beforeAll; remove with `cleanup`. */
export async function makeTestPki(): Promise<{ pki: PkiMaterial; dir: string; cleanup: () => void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-test-pki-'));
  await initPki({ dir });
  return { pki: loadPki(dir), dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A lab PKI (`pki`, read from `pkiDir`) and a scratch folder (`tmp`) for the tests of one file or `describe`: made in its beforeAll
 * (up to 120 s: six RSA keys on a loaded machine), removed in its afterAll. Read the fields inside
 * tests and hooks, not at module level (they are filled when beforeAll runs).
 * @param tmpPrefix prefix of the scratch folder's name under os.tmpdir()
 */
export function useTestPki(tmpPrefix: string): { pki: PkiMaterial; pkiDir: string; tmp: string } {
  const env = { pki: undefined as unknown as PkiMaterial, pkiDir: '', tmp: '' };
  let cleanup = () => {};
  beforeAll(async () => {
    ({ pki: env.pki, dir: env.pkiDir, cleanup } = await makeTestPki());
    env.tmp = mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  }, 120_000);
  afterAll(() => {
    cleanup();
    if (env.tmp) rmSync(env.tmp, { recursive: true, force: true });
  });
  return env;
}

/** A validated profile from a partial object (name defaults to `test`). */
export function profileOf(partial: Record<string, unknown>): Profile {
  return validateProfile({ name: 'test', ...partial }, 'inline test profile');
}

/** Starts a server on a free loopback port with a temp database. */
export async function startTestServer(profile: Profile, pki: PkiMaterial, limits?: Partial<ServerLimits>): Promise<{ server: ChatServer; dir: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-test-srv-'));
  const server = await startChatServer({ profile, identity: pki.server, dbPath: path.join(dir, 'users.db'), limits });
  return {
    server,
    dir,
    stop: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Connects a client that trusts the lab CA (and `extraCa`), checking the name `localhost`. */
export function connectClient(profile: Profile, pki: PkiMaterial, port: number, extraCa: string[] = []): Promise<ChatClient> {
  return ChatClient.connect({ profile, host: '127.0.0.1', servername: 'localhost', port, trust: resolveTrust(profile, pki.ca.certPem, pki.server.certPem, extraCa), connectTimeoutMs: 5000, requestTimeoutMs: 5000 });
}

/** Connects, registers and logs in `name` with a fixed test password. */
export async function loggedIn(profile: Profile, pki: PkiMaterial, port: number, name: string): Promise<ChatClient> {
  const c = await connectClient(profile, pki, port);
  await c.register(name, `pw-${name}-0123456789`);
  await c.login(name, `pw-${name}-0123456789`);
  return c;
}
