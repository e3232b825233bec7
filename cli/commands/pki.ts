import { Command, Option } from 'commander';
import { initPki, loadPki, spkiPin, DEFAULT_PKI_DIR, PKI_FILES } from '../../core/pki.ts';
import type { CliIo } from '../common.ts';

/** `secchat pki init|show`: the lab PKI. */
export function pkiCommand(io: CliIo): Command {
  const cmd = new Command('pki').description('create or inspect the lab PKI (CA, server and attacker certificates)');
  cmd
    .command('init')
    .description('create the lab CA, the server certificate and the attacker\'s certificates as PEM files')
    .option('--dir <dir>', 'where to write the PEM files', DEFAULT_PKI_DIR)
    .option('--force', 'regenerate every file even if present', false)
    .addOption(new Option('--key <type>', 'RSA key size of every certificate').choices(['rsa-2048', 'rsa-4096']).default('rsa-2048'))
    .action(async (o: { dir: string; force: boolean; key: 'rsa-2048' | 'rsa-4096' }) => {
      const t = performance.now();
      const r = await initPki({ dir: o.dir, force: o.force, keyType: o.key });
      io.out(r.created ? `created the lab PKI in ${r.dir} (${o.key}, ${Math.round(performance.now() - t)} ms)\n` : `the lab PKI in ${r.dir} exists; reused (pass --force to regenerate)\n`);
      for (const [role, f] of Object.entries(PKI_FILES)) io.out(`  ${role.padEnd(20)} ${f.cert}  ${f.key}\n`);
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
      io.out(`server SPKI pin: ${spkiPin(pki.server.certPem)}\n`);
    });
  return cmd;
}
