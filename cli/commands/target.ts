/**
 * `secchat target check FILE`: validates a target (a student's own app, core/target.ts), then —
 * unless `--no-run` — starts its server and client once with no attacker and says whether the
 * canary got through, so a student knows the description works before attacking it.
 */
import { Command } from 'commander';
import { stringify } from 'yaml';
import { loadTarget, targetSummary, targetWarnings } from '../../core/target.ts';
import { newCanary } from '../../attacks/scenario.ts';
import { targetControlRun } from '../../attacks/targets/scenario.ts';
import { TARGET_ATTACKS, TARGET_ONLY_ATTACKS } from '../../attacks/targets/registry.ts';
import { ERROR_CODES, SecchatError } from '../../core/errors.ts';
import type { CliIo } from '../common.ts';

/** `secchat target`: commands about targets (your own app). */
export function targetCommand(io: CliIo): Command {
  const cmd = new Command('target').description('describe your own chat app (client and server) so secchat can attack it; only attack what you own');
  cmd
    .command('check')
    .description('validate a target file and run its client against its server once, with no attacker (exit 2 on a bad field, 1 when the app does not deliver)')
    .argument('<file>', 'target YAML file')
    .option('--no-run', 'only validate the file; start nothing')
    .action(async (file: string, o: { run: boolean }) => {
      const t = loadTarget(file);
      io.out(`${file}: valid target "${t.name}"\n${stringify(targetSummary(t))}`);
      for (const w of targetWarnings(t)) io.err(`warning: ${t.name}: ${w}\n`);
      io.out(`attacks with a target variant: ${[...TARGET_ATTACKS, ...TARGET_ONLY_ATTACKS].map((a) => a.id).join(', ')}\n`);
      if (!o.run) return;
      const control = await targetControlRun(t, newCanary());
      if (!control.works) throw new SecchatError(ERROR_CODES.TARGET_PROCESS, `the app did not deliver a message with no attacker present: ${control.detail}`);
      io.out(`${control.detail}\n`);
    });
  return cmd;
}
