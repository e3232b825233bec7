import { Command } from 'commander';
import { ATTACKS, getAttack } from '../../attacks/registry.ts';
import { runAttack } from '../../attacks/scenario.ts';
import { OUTCOME_LABELS } from '../../reports/results.ts';
import { loadCheckedProfile, pkiFor, pkiOption, profileOption, type CliIo } from '../common.ts';

/** `secchat attack <id>`: one attack against one profile. */
export function attackCommand(io: CliIo): Command {
  return new Command('attack')
    .description('run one attack against a profile over real loopback TLS and print the verdict with evidence')
    .argument('<id>', `attack id: ${ATTACKS.map((a) => a.id).join(', ')}`)
    .addOption(profileOption())
    .option('--json', 'print the result object as JSON', false)
    .addOption(pkiOption())
    .action(async (id: string, o: { profile: string; json: boolean; pki: string }) => {
      const attack = getAttack(id);
      const profile = loadCheckedProfile(o.profile, io, { quiet: o.json });
      const pki = await pkiFor(o.pki, io);
      const r = await runAttack(attack, profile, pki);
      if (o.json) {
        io.out(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      io.out(`${attack.id} against ${profile.name}: ${OUTCOME_LABELS[r.outcome]} (${r.durationMs} ms)\n${r.reason}\n`);
      if (r.negotiated) io.out(`negotiated: ${r.negotiated.protocol} ${r.negotiated.cipher} ${r.negotiated.group ?? ''}\n`);
      if (r.impact.length) io.out(`impact: ${r.impact.join(', ')}\n`);
      for (const e of r.evidence) io.out(`  - ${e.kind}: ${e.detail}\n`);
    });
}

/** `secchat attacks`: list the attacks. */
export function attacksCommand(io: CliIo): Command {
  return new Command('attacks').description('list the attacks').action(() => {
    for (const a of ATTACKS) io.out(`${a.id.padEnd(20)} ${a.title}\n${' '.repeat(21)}${a.description}\n`);
  });
}
