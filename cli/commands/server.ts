import { Command } from 'commander';
import { appendFileSync, openSync, closeSync } from 'node:fs';
import { startChatServer } from '../../server/chat-server.ts';
import { jsonLine, logValue } from '../../core/escape.ts';
import { checkProfileHandshakes, dbOption, loadCheckedProfile, parsePort, pkiFor, pkiOption, profileOption, type CliIo } from '../common.ts';

/** Opens a key log file (mode 0600: it holds session secrets) and returns a line appender. */
export function keylogWriter(file: string): (line: Buffer) => void {
  closeSync(openSync(file, 'a', 0o600));
  return (line) => appendFileSync(file, line);
}

/** `secchat server`: run the chat server with a profile. */
export function serverCommand(io: CliIo): Command {
  return new Command('server')
    .description('run the chat server with a profile\'s security settings (Ctrl-C stops it)')
    .addOption(profileOption())
    .option('--host <host>', 'interface to listen on (loopback by default; only expose systems you own)', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 = any free port)', parsePort, 8443)
    .addOption(dbOption())
    .addOption(pkiOption())
    .option('--keylog <file>', 'append TLS secrets in NSS key log format (for Wireshark)')
    .option('--json', 'log as JSON Lines', false)
    .action(async (o: { profile: string; host: string; port: number; db: string; pki: string; keylog?: string; json: boolean }) => {
      const profile = loadCheckedProfile(o.profile, io);
      // The certificate serves TLS and the secure channel's rsa / ecdhe-signed key exchange alike.
      const needsIdentity = profile.transport !== 'plain' || profile.channel.keyExchange !== 'none';
      const pki = needsIdentity ? await pkiFor(o.pki, io) : null;
      if (pki) await checkProfileHandshakes(profile, pki.server);
      const server = await startChatServer({
        profile,
        identity: pki?.server,
        dbPath: o.db,
        host: o.host,
        port: o.port,
        keylog: o.keylog ? keylogWriter(o.keylog) : undefined,
        log: (e) => {
          const { event, ...rest } = e;
          // A peer's text (a ch_error message, a name) lands here: the log rules of core/escape.ts.
          io.err(o.json ? jsonLine({ t: new Date().toISOString(), ...e }) + '\n' : `${new Date().toISOString()} ${logValue(event)} ${Object.entries(rest).map(([k, v]) => `${logValue(k)}=${logValue(v)}`).join(' ')}\n`);
        },
      });
      io.out(`secchat server (${profile.name}, ${profile.transport}) listening on ${server.host}:${server.port}\n`);
      await new Promise<void>((resolve) => {
        const stop = (sig: string) => {
          io.err(`${sig}: closing every connection…\n`);
          void server.close().then(resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
