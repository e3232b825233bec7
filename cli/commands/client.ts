import { Command, Option } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ChatClient } from '../../client/chat-client.ts';
import { CHAT_HELP, LineScreen, describeFrame, describeOwn, jsonForTerminal, sanitizeForTerminal } from '../../client/terminal.ts';
import { ERROR_CODES, UsageError } from '../../core/errors.ts';
import { loadTrustAnchors, spkiPin, DEFAULT_PKI_DIR, PKI_FILES } from '../../core/pki.ts';
import type { Profile } from '../../core/profile.ts';
import type { ClientTrust } from '../../core/tls/certificate-verification.ts';
import { loadCheckedProfile, parsePort, profileOption, type CliIo } from '../common.ts';
import { keylogWriter } from './server.ts';

/** Reads a password from the terminal without echoing it. */
async function promptPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError(ERROR_CODES.USAGE, 'no password: set SECCHAT_PASSWORD (stdin is not a terminal, so it cannot be prompted for)');
  process.stderr.write(prompt);
  return new Promise((resolve) => {
    const stdin = process.stdin;
    stdin.setRawMode(true);
    stdin.resume();
    let pw = '';
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          resolve(pw);
          return;
        }
        if (ch === '\u0003') process.exit(130);
        if (ch === '\u007f') pw = pw.slice(0, -1);
        else pw += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * What this client trusts, read from files only — it never creates a PKI: `--ca FILE`, else the
 * profile's `client.ca`, else the lab PKI folder's ca.crt when this machine has one (the teacher's
 * own laptop). A `pin: server` pin is read from the lab PKI's server.crt.
 * @throws UsageError naming `--ca` / `secchat pki export-ca` when there is no trust anchor
 */
export function clientTrust(profile: Profile, o: { ca?: string; pki: string }): ClientTrust {
  const nothingToVerify = profile.client.verify === 'none' || (profile.transport === 'plain' && profile.channel.keyExchange === 'none');
  // Like an ineffective profile setting: a student who passes --ca believes it protects something.
  if (o.ca !== undefined && (nothingToVerify || profile.client.verify !== 'ca')) {
    const why = profile.client.verify !== 'ca' ? `client.verify is '${profile.client.verify}'` : 'nothing presents a certificate (transport: plain, no secure channel)';
    throw new UsageError(ERROR_CODES.USAGE, `--ca: has no effect with profile ${profile.name}: ${why}; it is used with client.verify: ca`, { field: '--ca' });
  }
  if (nothingToVerify) return { caPems: [] };
  if (profile.client.verify === 'pin') {
    if (profile.client.pin !== 'server') return { caPems: [], pin: profile.client.pin };
    const serverCert = path.join(o.pki, PKI_FILES.server.cert);
    if (!existsSync(serverCert)) {
      throw new UsageError(ERROR_CODES.USAGE, `client.pin: 'server' pins the key in ${serverCert}, which this machine does not have; write the pin itself (sha256/…, printed by \`secchat pki show\` on the server) in client.pin, or pass --pki DIR`, { field: 'client.pin' });
    }
    return { caPems: [], pin: spkiPin(readFileSync(serverCert, 'utf8')) };
  }
  if (o.ca !== undefined) return { caPems: loadTrustAnchors(o.ca, '--ca') };
  if (profile.client.ca !== undefined) return { caPems: loadTrustAnchors(profile.client.ca, 'client.ca') };
  const labCa = path.join(o.pki, PKI_FILES.ca.cert);
  if (existsSync(labCa)) return { caPems: loadTrustAnchors(labCa, '--pki') };
  throw new UsageError(
    ERROR_CODES.USAGE,
    `no CA to verify the server with (client.verify: ca): pass --ca FILE with the CA certificate the server's owner hands out (they write it with \`secchat pki export-ca\`), or set client.ca in the profile; there is no ${labCa} here`,
    { field: '--ca' },
  );
}

/**
 * Sends one input line: `/dm NAME text`, `/users`, `/help`, `/quit`, or a room message.
 * @param show prints a line of chat output; `own` prints what we sent (not with --json, whose
 *   stdout holds only received frames); `warn` prints a status line
 * @returns false on /quit
 */
async function sendLine(client: ChatClient, line: string, out: { show: (text: string) => void; own: (text: string) => void; warn: (text: string) => void }): Promise<boolean> {
  const { show, own, warn } = out;
  const text = line.replace(/\r$/, '');
  if (!text.trim()) return true;
  try {
    if (text === '/quit') return false;
    if (text === '/help') show(CHAT_HELP);
    else if (text === '/users') {
      show(`* online: ${sanitizeForTerminal((await client.users()).join(', '))}`);
    } else if (text === '/dm' || text.startsWith('/dm ')) {
      const m = /^\/dm\s+(\S+)\s+([\s\S]+)$/.exec(text);
      if (!m) warn('usage: /dm NAME text');
      else {
        const r = await client.dm(m[1], m[2]);
        own(describeOwn(m[2], m[1]));
        if (r.stored) warn(`* ${sanitizeForTerminal(m[1])} is offline: stored for their next login`);
      }
    } else if (text.startsWith('/') && !text.startsWith('//')) {
      warn(`unknown command ${sanitizeForTerminal(text.split(' ')[0]!)}: nothing was sent (/help lists the commands; start with // to send a line beginning with /)`);
    } else {
      const body = text.startsWith('//') ? text.slice(1) : text;
      await client.send(body);
      own(describeOwn(body));
    }
  } catch (err) {
    warn(`! ${sanitizeForTerminal((err as Error).message)}`); // may quote the server's words
  }
  return true;
}

/** `secchat client`: chat from a terminal, or scripted from stdin. */
export function clientCommand(io: CliIo): Command {
  return new Command('client')
    .description('chat with a profile\'s security settings; interactive on a terminal, else one message per stdin line (/dm NAME text, /users, /quit)')
    .addOption(profileOption())
    .requiredOption('-u, --user <name>', 'username')
    .option('--host <host>', 'server host name or IP address', '127.0.0.1')
    .option('--port <port>', 'server port', parsePort, 8443)
    .option('--servername <name>', 'name to check the certificate against (default: --host, exactly as given)')
    .option('--ca <file>', 'CA certificate(s) to verify the server with, PEM (`secchat pki export-ca` writes it); default: client.ca, else <pki>/ca.crt')
    .option('--register', 'create the account first', false)
    .option('--json', 'print received frames as JSON Lines', false)
    .addOption(new Option('--pki <dir>', 'lab PKI folder whose ca.crt (or server.crt, for pin: server) is used when present; never created').default(DEFAULT_PKI_DIR))
    .option('--keylog <file>', 'append TLS secrets in NSS key log format (for Wireshark)')
    .addHelpText('after', '\nThe password comes from the SECCHAT_PASSWORD environment variable, or a prompt on a terminal.\nThe client never creates a PKI: it trusts --ca, client.ca, or an existing <pki>/ca.crt.\n\nIn the chat:\n' + CHAT_HELP.replace(/^/gm, '  '))
    .action(async (o: { profile: string; user: string; host: string; port: number; servername?: string; ca?: string; register: boolean; json: boolean; pki: string; keylog?: string }) => {
      const profile = loadCheckedProfile(o.profile, io);
      const trust = clientTrust(profile, o);
      const password = process.env.SECCHAT_PASSWORD ?? (await promptPassword(`password for ${o.user}: `));
      // The name checked is the one the user gave (RFC 6125 §6: the reference identity comes
      // from the user's input): an address is checked against the certificate's IP SANs.
      const servername = o.servername ?? o.host;
      const client = await ChatClient.connect({
        profile,
        host: o.host,
        port: o.port,
        servername,
        trust,
        keylog: o.keylog ? keylogWriter(o.keylog) : undefined,
      });
      const tlsHop = client.negotiated ? `${client.negotiated.protocol} ${client.negotiated.cipher}${client.negotiated.group ? ' ' + client.negotiated.group : ''}` : null;
      const channelHop = client.channelNegotiated ? `secure channel ${client.channelNegotiated.keyExchange} ${client.channelNegotiated.cipher}` : null;
      const hop = [tlsHop, channelHop].filter(Boolean).join('; ') || 'PLAINTEXT: anyone on the path can read this chat';
      io.err(`connected to ${o.host}:${o.port} (${hop})\n`);
      // Listen before logging in: the server pushes stored direct messages right behind the login
      // ok, often in the same TCP read, and ChatClient emits them synchronously in that read,
      // before `await client.login()` resumes. A listener attached after the await misses them
      // (the offline dm was lost: deleted on the server as written, never printed here). Frames
      // are held until the login line is printed, so the order on screen stays the server's.
      const early: Array<{ type: string; [k: string]: unknown }> = [];
      let print: ((f: { type: string; [k: string]: unknown }) => void) | null = null;
      const onPushed = (f: { type: string; [k: string]: unknown }) => (print ? print(f) : early.push(f));
      for (const t of ['msg', 'dm', 'joined', 'left', 'error']) client.on(t, onPushed);
      let online: string[];
      try {
        if (o.register) {
          await client.register(o.user, password);
          io.err(`registered account ${sanitizeForTerminal(o.user)}\n`);
        }
        online = await client.login(o.user, password);
      } catch (err) {
        client.close(); // do not wait for the server's login timeout
        throw err;
      }
      io.err(`logged in as ${sanitizeForTerminal(String(client.username))}; online: ${sanitizeForTerminal(online.join(', '))}\n`);
      const interactive = !!process.stdin.isTTY && !!process.stdout.isTTY && !o.json;
      const screen = new LineScreen(interactive ? process.stdout : null);
      const show = (line: string) => screen.print(line, io.out);
      const warn = (line: string) => screen.print(line, io.err);
      print = (f) => {
        if (o.json) io.out(jsonForTerminal(f) + '\n'); // JSON.stringify alone leaves C1 and bidi controls raw
        else {
          const line = describeFrame(f);
          if (line) show(line);
        }
      };
      for (const f of early.splice(0)) print(f);
      const closed = new Promise<void>((resolve) => client.once('close', resolve));
      // On a terminal readline owns the line: it echoes what is typed and redraws the prompt.
      const rl = readline.createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive, prompt: `${sanitizeForTerminal(String(client.username))}> ` });
      if (interactive) {
        screen.attach(rl);
        warn('type a message for the room, /dm NAME text for one person, /help for more');
        rl.prompt();
      }
      let quit = false;
      const lines = (async () => {
        for await (const line of rl) {
          if (!(await sendLine(client, line, { show, own: o.json ? () => {} : show, warn }))) {
            quit = true;
            break;
          }
          if (interactive) rl.prompt();
        }
      })();
      await Promise.race([lines, closed]);
      rl.close();
      // Only /quit ended its line with Enter; otherwise the prompt is still drawn.
      if (interactive) screen.end(!quit);
      if (client.closed && !quit) {
        io.err('the server closed the connection\n');
        return;
      }
      // Give messages pushed in reply a moment to arrive before saying goodbye.
      await new Promise((r) => setTimeout(r, 200));
      await client.quit();
    });
}
