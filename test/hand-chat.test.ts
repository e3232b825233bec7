/**
 * The interactive client in a real pseudo-terminal (tmux, driven from the test): a prompt, echo
 * of what is typed, one's own messages shown, incoming messages printed above the input line
 * without breaking it, /help, a confirmation after --register, and a direct message that reaches
 * only its recipient.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { ChatClient } from '../client/chat-client.ts';
import type { PkiMaterial } from '../core/pki.ts';
import { loggedIn, makeTestPki, profileOf, startTestServer } from './helpers/lab-env.ts';
import { BIN } from './helpers/cli.ts';

/** Our own tmux server (-L): the test never touches anyone else's sessions. */
const SOCKET = `secchat-test-${process.pid}-${randomBytes(3).toString('hex')}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm-256color' } });
const screen = () => tmux('capture-pane', '-p', '-t', 'chat');
const lines = () => screen().split('\n').map((l) => l.trimEnd());

/** Waits (at most 60 s, polling every 50 ms) until the screen satisfies `ok`. */
async function waitScreen(ok: (text: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = screen();
    if (ok(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let pki: PkiMaterial;
let pkiDir: string;
let cleanup: () => void;
let stop: () => Promise<void>;
let port: number;
let bob: ChatClient;
let carol: ChatClient;

beforeAll(async () => {
  ({ pki, dir: pkiDir, cleanup } = await makeTestPki());
  const profile = profileOf({});
  const srv = await startTestServer(profile, pki);
  stop = srv.stop;
  port = srv.server.port;
  bob = await loggedIn(profile, pki, port, 'bob');
  carol = await loggedIn(profile, pki, port, 'carol');
}, 120_000); // makes a lab PKI: six RSA keys, slow on a loaded machine
afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {
    // already gone: the client quit and tmux exited with its last session
  }
  bob?.close();
  carol?.close();
  await stop?.();
  cleanup?.();
});

describe('the hand chat in a terminal', { timeout: 180_000 }, () => {
  it('prompts, echoes, shows own messages, keeps half-typed input under incoming lines, and sends a dm only to its recipient', async () => {
    const cmd = [process.execPath, BIN, 'client', '-p', 'tls-verified', '--port', String(port), '--pki', pkiDir, '-u', 'alice', '--register'].map((a) => `'${a}'`).join(' ');
    tmux('new-session', '-d', '-s', 'chat', '-x', '150', '-y', '40', `SECCHAT_PASSWORD=alice-password-1 exec ${cmd}`);
    await waitScreen((t) => /^alice>\s*$/m.test(t), 'the prompt');
    expect(screen()).toContain('registered account alice');
    expect(screen()).toMatch(/logged in as alice; online: .*bob/);

    // Echo: what is typed shows on the prompt line before Enter.
    tmux('send-keys', '-t', 'chat', '-l', 'half typed');
    await waitScreen((t) => t.includes('alice> half typed'), 'the echo');

    // A message arriving mid-typing goes above the input line; the input stays intact below it.
    await bob.send('hi alice');
    await waitScreen((t) => t.includes('[room] bob: hi alice'), 'the incoming message');
    const after = lines().filter(Boolean);
    expect(after.at(-1)).toBe('alice> half typed');
    expect(after.at(-2)).toBe('[room] bob: hi alice');

    // Finishing the line sends exactly what the screen shows, and shows it as our own.
    tmux('send-keys', '-t', 'chat', '-l', ' more');
    tmux('send-keys', '-t', 'chat', 'Enter');
    await waitScreen((t) => t.includes('[room] you: half typed more'), 'own room message');

    tmux('send-keys', '-t', 'chat', '-l', '/dm bob the secret is 4711');
    tmux('send-keys', '-t', 'chat', 'Enter');
    await waitScreen((t) => t.includes('[dm] you → bob: the secret is 4711'), 'own dm');

    tmux('send-keys', '-t', 'chat', '-l', '/help');
    tmux('send-keys', '-t', 'chat', 'Enter');
    await waitScreen((t) => t.includes('/dm NAME text') && t.includes('/quit'), '/help');

    tmux('send-keys', '-t', 'chat', '-l', '/quit');
    tmux('send-keys', '-t', 'chat', 'Enter');
    const deadline = Date.now() + 10_000;
    while (!carol.received.some((f) => f.type === 'left' && f.username === 'alice') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    // bob got the room line and the dm; carol got the room line and nothing of the dm.
    expect(bob.received).toContainEqual(expect.objectContaining({ type: 'msg', from: 'alice', text: 'half typed more' }));
    expect(bob.received).toContainEqual(expect.objectContaining({ type: 'dm', from: 'alice', to: 'bob', text: 'the secret is 4711' }));
    expect(carol.received).toContainEqual(expect.objectContaining({ type: 'msg', from: 'alice', text: 'half typed more' }));
    expect(JSON.stringify(carol.received)).not.toContain('4711');
    expect(bob.received.filter((f) => f.type === 'msg' && String(f.text).includes('4711'))).toEqual([]);
  });
});
