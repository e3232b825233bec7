/**
 * Run as a child process by test/hostile-streams.test.ts: an ordinary reader in its own process.
 * A ChatClient (transport tls, CA PEM in env SECCHAT_TEST_CA) connects to the port in argv[2],
 * registers and logs in as argv[3], prints "ready", then prints the first 8 characters of every
 * room message's text, one per line, and "error <code>" / "closed" as they happen.
 */
import { ChatClient } from '../../client/chat-client.ts';
import { validateProfile } from '../../core/profile.ts';
import type { Frame } from '../../core/frames.ts';

const profile = validateProfile({ name: 'reader-child', transport: 'tls', auth: { storage: 'sha256' } });
const [port, name] = [Number(process.argv[2]), process.argv[3]!];
const client = await ChatClient.connect({ profile, host: '127.0.0.1', servername: 'localhost', port, trust: { caPems: [process.env.SECCHAT_TEST_CA!] }, connectTimeoutMs: 10_000, requestTimeoutMs: 10_000 });
await client.register(name, `${name}-password-1`);
await client.login(name, `${name}-password-1`);
const out: string[] = [];
const flush = () => {
  if (out.length) process.stdout.write(out.splice(0).join('\n') + '\n');
};
setInterval(flush, 50);
client.on('msg', (f: Frame) => out.push(String(f.text).slice(0, 8)));
client.on('frame', (f: Frame) => f.type === 'error' && out.push(`error ${String(f.code)}`));
client.on('close', () => {
  out.push('closed');
  flush();
  process.exit(0);
});
console.log('ready');
