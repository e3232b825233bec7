import { Command, Option } from 'commander';
import { appendFileSync, openSync, closeSync } from 'node:fs';
import os from 'node:os';
import { chainGap } from '../../core/cert-chain.ts';
import { certificateCovers, certificateNames, DEFAULT_PKI_DIR } from '../../core/pki.ts';
import { startChatServer } from '../../server/chat-server.ts';
import { DEFAULT_LIMITS, type ServerLimits } from '../../server/limits.ts';
import { LIMIT_KEYS, kebabCase, limitUnit, loadServerConfig, resolveLimits } from '../../server/server-config.ts';
import { checkProfileHandshakes, dbOption, loadCheckedProfile, parsePort, parsePositiveInt, pkiFor, pkiOption, profileOption, type CliIo } from '../common.ts';
import { jsonLine, logValue } from '../../core/escape.ts';

/** Opens a key log file (mode 0600: it holds session secrets) and returns a line appender. */
export function keylogWriter(file: string): (line: Buffer) => void {
  closeSync(openSync(file, 'a', 0o600));
  return (line) => appendFileSync(file, line);
}

/** Addresses that mean "every interface" to listen(). */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/**
 * The names clients may use to reach a server bound to `host`: the host itself, or for a
 * wildcard bind the machine's host name and its non-loopback, non-link-local addresses.
 */
export function namesClientsUse(host: string): string[] {
  if (!WILDCARD_HOSTS.has(host)) return [host];
  const addrs = Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && !a.address.startsWith('fe80:'))
    .map((a) => a!.address);
  return [os.hostname(), ...addrs];
}

/**
 * Warns when clients reaching `host` would refuse the certificate on its name (RFC 6125), saying
 * how the server's owner fixes it: a certificate that carries the name (clients never fake one).
 * @returns the warning, or null when the certificate names the host (for a wildcard bind: any of
 *   the machine's names)
 */
export function hostNameWarning(certPem: string, host: string, pkiDir: string): string | null {
  const wanted = namesClientsUse(host);
  if (wanted.some((n) => certificateCovers(certPem, n))) return null;
  const names = certificateNames(certPem);
  const has = [...names.dns, ...names.ip].join(', ') || 'nothing';
  const dirFlag = pkiDir === DEFAULT_PKI_DIR ? '' : ` --dir ${pkiDir}`;
  const fix = `secchat pki init --force${dirFlag}${wanted.slice(0, 3).map((n) => ` --name ${n}`).join('')}`;
  const asked = WILDCARD_HOSTS.has(host) ? `this machine's names (${wanted.join(', ')})` : host;
  return `the server certificate does not name ${asked} (it names ${has}): clients that connect to ${WILDCARD_HOSTS.has(host) ? 'them' : host} will refuse it (hostname mismatch). Fix: \`${fix}\` and hand out the new CA file (\`secchat pki export-ca\`)`;
}

/** `--name-of-limit <n>` flags, one per field of ServerLimits, made from DEFAULT_LIMITS. */
function limitOptions(): Option[] {
  return LIMIT_KEYS.map((k) => new Option(`--${kebabCase(k)} <${limitUnit(k) === 'count' ? 'n' : limitUnit(k)}>`, `server limit ${k} (${limitUnit(k)}; default ${DEFAULT_LIMITS[k]}; see docs/limits.md)`).argParser(parsePositiveInt));
}

/** `secchat server`: run the chat server with a profile. */
export function serverCommand(io: CliIo): Command {
  const cmd = new Command('server')
    .description('run the chat server with a profile\'s security settings (Ctrl-C stops it)')
    .addOption(profileOption())
    .option('--host <host>', 'interface to listen on (loopback by default; only expose systems you own)', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 = any free port)', parsePort, 8443)
    .addOption(dbOption())
    .addOption(pkiOption())
    .option('--config <file>', 'YAML file whose limits: section sets server limits by field name (e.g. docs/class-server.yaml); flags win over it')
    .option('--keylog <file>', 'append TLS secrets in NSS key log format (for Wireshark)')
    .option('--json', 'log as JSON Lines', false);
  for (const opt of limitOptions()) cmd.addOption(opt);
  cmd.addHelpText('after', '\nThe log (stderr) includes an audit trail: login_failed, lockout, rate_limited and register_refused\nwith username and peer address (never a password).\nA class behind one NAT address: --config docs/class-server.yaml (see README "Running one server for a class").');
  return cmd.action(async (o: { profile: string; host: string; port: number; db: string; pki: string; config?: string; keylog?: string; json: boolean } & Partial<ServerLimits>) => {
    const profile = loadCheckedProfile(o.profile, io);
    const fromFlags = Object.fromEntries(LIMIT_KEYS.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Partial<ServerLimits>;
    const limits = resolveLimits(o.config ? loadServerConfig(o.config).limits : {}, fromFlags);
    // The certificate serves TLS and the secure channel's rsa / ecdhe-signed key exchange alike.
    const needsIdentity = profile.transport !== 'plain' || profile.channel.keyExchange !== 'none';
    const pki = needsIdentity ? await pkiFor(o.pki, io) : null;
    if (pki) {
      await checkProfileHandshakes(profile, pki.server);
      const nameWarning = hostNameWarning(pki.server.certPem, o.host, o.pki);
      if (nameWarning) io.err(`warning: ${nameWarning}\n`);
      const gap = chainGap(pki.server.certPem, [pki.ca.certPem]);
      if (gap) {
        io.err(`warning: the server certificate chain does not reach a self-signed root: "${gap.last}" is issued by "${gap.missingIssuer}", which is neither in ${pki.server.certPath} nor the lab CA; clients will refuse it as an incomplete chain. Fix: append the intermediate CA certificate(s) after the server certificate in ${pki.server.certPath}\n`);
      }
    }
    const server = await startChatServer({
      profile,
      identity: pki?.server,
      dbPath: o.db,
      host: o.host,
      port: o.port,
      limits,
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
