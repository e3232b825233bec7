import { Command, Option } from 'commander';
import { certificateNames, exportCa, initPki, loadPki, spkiPin, DEFAULT_PKI_DIR, PKI_FILES } from '../../core/pki.ts';
import type { CliIo } from '../common.ts';

/** Collects a repeatable option's values. */
const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** `secchat pki init|show|export-ca`: the lab PKI. */
export function pkiCommand(io: CliIo): Command {
  const cmd = new Command('pki').description('create or inspect the lab PKI (CA, server and attacker certificates)');
  cmd
    .command('init')
    .description('create the lab CA, the server certificate and the attacker\'s certificates as PEM files')
    .option('--dir <dir>', 'where to write the PEM files', DEFAULT_PKI_DIR)
    .option('--force', 'regenerate every file even if present', false)
    .option('--name <host|ip>', 'a host name or IP address clients will use to reach the server, added to the server certificate (repeatable; localhost and 127.0.0.1 are always in it)', collect, [] as string[])
    .addOption(new Option('--key <type>', 'RSA key size of every certificate').choices(['rsa-2048', 'rsa-4096']).default('rsa-2048'))
    .addHelpText('after', '\nExample, for a class server reached as chat.lab or 192.168.1.10:\n  secchat pki init --name chat.lab --name 192.168.1.10')
    .action(async (o: { dir: string; force: boolean; name: string[]; key: 'rsa-2048' | 'rsa-4096' }) => {
      const t = performance.now();
      const r = await initPki({ dir: o.dir, force: o.force, keyType: o.key, names: o.name });
      io.out(r.created ? `created the lab PKI in ${r.dir} (${o.key}, ${Math.round(performance.now() - t)} ms)\n` : `the lab PKI in ${r.dir} exists; reused (pass --force to regenerate)\n`);
      for (const [role, f] of Object.entries(PKI_FILES)) io.out(`  ${role.padEnd(20)} ${f.cert}  ${f.key}\n`);
      const names = certificateNames(loadPki(o.dir).server.certPem);
      io.out(`server certificate names: ${[...names.dns, ...names.ip].join(', ')}\n`);
    });
  cmd
    .command('show')
    .description('print the certificates\' subjects, names, validity and the server SPKI pin')
    .option('--dir <dir>', 'PKI folder', DEFAULT_PKI_DIR)
    .action(async (o: { dir: string }) => {
      const { X509Certificate } = await import('node:crypto');
      const pki = loadPki(o.dir);
      for (const role of Object.keys(PKI_FILES) as (keyof typeof PKI_FILES)[]) {
        const c = new X509Certificate(pki[role].certPem);
        io.out(`${role}: ${c.subject.replace(/\n/g, ', ')}\n  issuer ${c.issuer.replace(/\n/g, ', ')}\n  names ${c.subjectAltName ?? '-'}\n  valid ${c.validFrom} → ${c.validTo}\n`);
      }
      const names = certificateNames(pki.server.certPem);
      io.out(`server certificate host names: ${names.dns.join(', ') || '-'}\nserver certificate IP addresses: ${names.ip.join(', ') || '-'}\n`);
      io.out(`server SPKI pin: ${spkiPin(pki.server.certPem)}\n`);
      io.out(`CA SHA-256 fingerprint: ${new X509Certificate(pki.ca.certPem).fingerprint256}\n`);
    });
  cmd
    .command('export-ca')
    .description('write the lab CA certificate (no key) that clients need to verify this server, and print its SHA-256 fingerprint')
    .option('--dir <dir>', 'PKI folder', DEFAULT_PKI_DIR)
    .option('--out <file>', 'where to write the CA certificate (PEM)', 'secchat-ca.crt')
    .addHelpText('after', '\nHand the file out (it is public: it holds no key). Students run\n  secchat client --ca secchat-ca.crt --host <the name on the board> …\nand compare the fingerprint with `openssl x509 -in secchat-ca.crt -noout -fingerprint -sha256`.')
    .action((o: { dir: string; out: string }) => {
      const r = exportCa(o.dir, o.out);
      io.out(`wrote ${o.out} (${r.subject})\nSHA-256 fingerprint: ${r.fingerprint256}\n`);
    });
  return cmd;
}
