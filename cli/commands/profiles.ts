import { Command } from 'commander';
import { stringify } from 'yaml';
import { effectiveSettings, listPresets, loadProfile } from '../../core/profile.ts';
import { adviceFor, warningsFor } from '../../core/weaknesses.ts';
import { DEFAULT_PKI_DIR } from '../../core/pki.ts';
import { checkProfileHandshakes, loadCheckedProfile, type CliIo } from '../common.ts';

/** `secchat profiles [show P | check FILE]`. */
export function profilesCommand(io: CliIo): Command {
  const list = () => {
    for (const name of listPresets()) io.out(`${name.padEnd(26)} ${loadProfile(name).description}\n`);
  };
  const cmd = new Command('profiles').description('list preset profiles; show or check one').action(list);
  cmd.command('list').description('list the preset profiles with their descriptions').action(list);
  cmd
    .command('show')
    .description('print a profile with every default filled in, and its weak settings')
    .argument('<profile>', 'preset name or file')
    .action((ref: string) => {
      const p = loadProfile(ref);
      io.out(stringify(effectiveSettings(p)));
      for (const w of warningsFor(p)) io.out(`# warning: ${w}\n`);
      for (const w of adviceFor(p)) io.out(`# advice: ${w}\n`);
    });
  cmd
    .command('check')
    .description('validate a profile file (exit 2 with the field and allowed values when invalid)')
    .argument('<file>', 'profile file')
    .option('--pki <dir>', 'lab PKI folder whose server certificate the TLS handshakes are checked with (a throwaway RSA certificate when it does not exist)', DEFAULT_PKI_DIR)
    .action(async (ref: string, o: { pki: string }) => {
      const p = loadCheckedProfile(ref, io); // prints each weak setting with its fix on stderr
      await checkProfileHandshakes(p, undefined, o.pki);
      io.out(`${ref}: valid profile "${p.name}"\n`);
    });
  return cmd;
}
