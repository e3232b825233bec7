import { Command } from 'commander';
import readline from 'node:readline';
import { ChatClient } from '../../client/chat-client.ts';
import { describeFrame, jsonForTerminal, sanitizeForTerminal } from '../../client/terminal.ts';
import { ERROR_CODES, UsageError } from '../../core/errors.ts';
import { resolveTrust } from '../../core/tls/certificate-verification.ts';
import { loadCheckedProfile, parsePort, pkiFor, pkiOption, profileOption, type CliIo } from '../common.ts';
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

/** Sends one input line: `/dm NAME text`, `/users`, `/quit`, or a room message. @returns false on /quit */
async function sendLine(client: ChatClient, line: string, io: CliIo): Promise<boolean> {
  const text = line.replace(/\r$/, '');
  if (!text.trim()) return true;
  try {
    if (text === '/quit') return false;
    if (text === '/users') {
      io.out(`* online: ${sanitizeForTerminal((await client.users()).join(', '))}\n`);
    } else if (text.startsWith('/dm ')) {
      const m = /^\/dm\s+(\S+)\s+([\s\S]+)$/.exec(text);
      if (!m) io.err('usage: /dm NAME text\n');
      else if ((await client.dm(m[1], m[2])).stored) io.err(`* ${sanitizeForTerminal(m[1])} is offline: stored for their next login\n`);
    } else if (text.startsWith('/') && !text.startsWith('//')) {
      io.err(`unknown command ${text.split(' ')[0]} (try /dm NAME text, /users, /quit; start with // to send a line beginning with /)\n`);
    } else {
      await client.send(text.startsWith('//') ? text.slice(1) : text);
    }
  } catch (err) {
    io.err(`! ${sanitizeForTerminal((err as Error).message)}\n`); // may quote the server's words
  }
  return true;
}

/** `secchat client`: chat from a terminal, or scripted from stdin. */
export function clientCommand(io: CliIo): Command {
  return new Command('client')
    .description('chat with a profile\'s security settings; interactive on a terminal, else one message per stdin line (/dm NAME text, /users, /quit)')
    .addOption(profileOption())
    .requiredOption('-u, --user <name>', 'username')
    .option('--host <host>', 'server host', '127.0.0.1')
    .option('--port <port>', 'server port', parsePort, 8443)
    .option('--servername <name>', 'name to check the certificate against (default: localhost for loopback, else --host)')
    .option('--register', 'create the account first', false)
    .option('--json', 'print received frames as JSON Lines', false)
    .addOption(pkiOption())
    .option('--keylog <file>', 'append TLS secrets in NSS key log format (for Wireshark)')
    .addHelpText('after', '\nThe password comes from the SECCHAT_PASSWORD environment variable, or a prompt on a terminal.')
    .action(async (o: { profile: string; user: string; host: string; port: number; servername?: string; register: boolean; json: boolean; pki: string; keylog?: string }) => {
      const profile = loadCheckedProfile(o.profile, io);
      const pki = await pkiFor(o.pki, io);
      const password = process.env.SECCHAT_PASSWORD ?? (await promptPassword(`password for ${o.user}: `));
      const servername = o.servername ?? (o.host === '127.0.0.1' || o.host === '::1' ? 'localhost' : o.host);
      const client = await ChatClient.connect({
        profile,
        host: o.host,
        port: o.port,
        servername,
        trust: resolveTrust(profile, pki.ca.certPem, pki.server.certPem),
        keylog: o.keylog ? keylogWriter(o.keylog) : undefined,
      });
      const tlsHop = client.negotiated ? `${client.negotiated.protocol} ${client.negotiated.cipher}${client.negotiated.group ? ' ' + client.negotiated.group : ''}` : null;
      const channelHop = client.channelNegotiated ? `secure channel ${client.channelNegotiated.keyExchange} ${client.channelNegotiated.cipher}` : null;
      const hop = [tlsHop, channelHop].filter(Boolean).join('; ') || 'PLAINTEXT: anyone on the path can read this chat';
      io.err(`connected to ${o.host}:${o.port} (${hop})\n`);
      let online: string[];
      try {
        if (o.register) await client.register(o.user, password);
        online = await client.login(o.user, password);
      } catch (err) {
        client.close(); // do not wait for the server's login timeout
        throw err;
      }
      io.err(`logged in as ${sanitizeForTerminal(String(client.username))}; online: ${sanitizeForTerminal(online.join(', '))}\n`);
      const print = (f: { type: string; [k: string]: unknown }) => {
        if (o.json) io.out(jsonForTerminal(f) + '\n'); // JSON.stringify alone leaves C1 and bidi controls raw
        else {
          const line = describeFrame(f);
          if (line) io.out(line + '\n');
        }
      };
      for (const t of ['msg', 'dm', 'joined', 'left', 'error']) client.on(t, print);
      const closed = new Promise<void>((resolve) => client.once('close', resolve));
      const rl = readline.createInterface({ input: process.stdin, terminal: !!process.stdin.isTTY, prompt: '> ' });
      if (process.stdin.isTTY) rl.prompt();
      let quit = false;
      const lines = (async () => {
        for await (const line of rl) {
          if (!(await sendLine(client, line, io))) {
            quit = true;
            break;
          }
          if (process.stdin.isTTY) rl.prompt();
        }
      })();
      await Promise.race([lines, closed]);
      rl.close();
      if (client.closed && !quit) {
        io.err('the server closed the connection\n');
        return;
      }
      // Give messages pushed in reply a moment to arrive before saying goodbye.
      await new Promise((r) => setTimeout(r, 200));
      await client.quit();
    });
}
