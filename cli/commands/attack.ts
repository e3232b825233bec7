import { Command } from 'commander';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ATTACKS, getAttack, OPT_IN_ATTACKS } from '../../attacks/registry.ts';
import { runAttack } from '../../attacks/scenario.ts';
import { OUTCOME_LABELS } from '../../reports/results.ts';
import { crackBudgetOption, loadCheckedProfile, pkiFor, pkiOption, profileOption, type CliIo } from '../common.ts';
import { ERROR_CODES, UsageError } from '../../core/errors.ts';
import { loadTarget, targetWarnings } from '../../core/target.ts';
import { runTargetAttack } from '../../attacks/targets/run.ts';
import { TARGET_ONLY_ATTACKS, targetAttack } from '../../attacks/targets/registry.ts';
import { keylogWriter } from './server.ts';

/**
 * Moves a run's artifacts out of its temporary folder: the capture to `captureFile`, every other
 * file beside it as `<capture name without .pcap>.<file name>` (e.g. `run.recovered.keylog`),
 * keeping each file's mode (key logs stay 0600).
 * @returns artifact name → final path
 */
export function placeArtifacts(artifacts: Record<string, string>, captureFile: string): Record<string, string> {
  const stem = captureFile.replace(/\.pcap$/i, '');
  const placed: Record<string, string> = {};
  for (const [name, src] of Object.entries(artifacts)) {
    const dst = name === 'capture' ? captureFile : `${stem}.${path.basename(src)}`;
    copyFileSync(src, dst);
    chmodSync(dst, statSync(src).mode & 0o777);
    placed[name] = dst;
  }
  return placed;
}

/** `secchat attack <id>`: one attack against one profile. */
export function attackCommand(io: CliIo): Command {
  return new Command('attack')
    .description('run one attack against a profile (or your own app: --target) over real loopback TLS and print the verdict with evidence')
    .argument('<id>', `attack id: ${[...new Set([...ATTACKS, ...OPT_IN_ATTACKS, ...TARGET_ONLY_ATTACKS].map((a) => a.id))].join(', ')}`)
    .addOption(profileOption().makeOptionMandatory(false))
    .option('-t, --target <file>', 'attack your own app described in this target YAML (see `secchat target check`) instead of a profile')
    .option('--json', 'print the result object as JSON', false)
    .option('--capture <file>', 'keep the capture of the run (pcap, for Wireshark); its key logs go beside it (run.pcap → run.sessions.keylog, run.recovered.keylog)')
    .option('--keylog <file>', 'append TLS secrets of every session of the run in NSS key log format (for Wireshark; mode 0600)')
    .addOption(crackBudgetOption())
    .addOption(pkiOption())
    .action(async (id: string, o: { profile?: string; target?: string; json: boolean; pki: string; capture?: string; keylog?: string; crackBudget: number }) => {
      if (!o.profile === !o.target) throw new UsageError(ERROR_CODES.USAGE, 'give exactly one of --profile <profile> or --target <file>');
      if (o.target && o.keylog) throw new UsageError(ERROR_CODES.USAGE, "--keylog records secchat's own clients' sessions; with --target use --capture (the proxy's own key log is kept beside it)");
      const target = o.target ? loadTarget(o.target) : null;
      if (target && !o.json) for (const w of targetWarnings(target)) io.err(`warning: ${target.name}: ${w}\n`);
      const attack = target && targetAttack(id) && !ATTACKS.some((a) => a.id === id) ? null : getAttack(id);
      const profile = o.profile ? loadCheckedProfile(o.profile, io, { quiet: o.json }) : null;
      const pki = await pkiFor(o.pki, io);
      // Checked before the run, so a bad --capture costs nothing and the message names the user's path.
      if (o.capture && existsSync(o.capture) && statSync(o.capture).isDirectory()) {
        throw new UsageError(ERROR_CODES.USAGE, `--capture takes a file name (e.g. ${path.join(o.capture, 'run.pcap')}); ${o.capture} is a folder`);
      }
      const artifactDir = o.capture ? mkdtempSync(path.join(os.tmpdir(), 'secchat-attack-')) : null;
      let r;
      try {
        r = target ? await runTargetAttack(id, target, pki, { artifactDir }) : await runAttack(attack!, profile!, pki, { artifactDir, keylog: o.keylog ? keylogWriter(o.keylog) : undefined, crackBudgetCoreSeconds: o.crackBudget });
        if (artifactDir && o.capture) r = { ...r, artifacts: placeArtifacts(r.artifacts ?? {}, o.capture) };
      } finally {
        if (artifactDir) rmSync(artifactDir, { recursive: true, force: true });
      }
      if (o.json) {
        io.out(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      io.out(`${id} against ${target ? `target ${target.name}` : profile!.name}: ${OUTCOME_LABELS[r.outcome]} (${r.durationMs} ms)\n${r.reason}\n`);
      if (r.negotiated) io.out(`negotiated: ${r.negotiated.protocol} ${r.negotiated.cipher} ${r.negotiated.group ?? ''}\n`);
      if (r.impact.length) io.out(`impact: ${r.impact.join(', ')}\n`);
      for (const e of r.evidence) io.out(`  - ${e.kind}: ${e.detail}\n`);
      for (const [name, file] of Object.entries(r.artifacts ?? {})) io.out(`kept ${name}: ${file}\n`);
      if (o.keylog) io.out(`key log: ${o.keylog}\n`);
    });
}

/** `secchat attacks`: list the attacks. */
export function attacksCommand(io: CliIo): Command {
  return new Command('attacks').description('list the attacks (opt-in ones and target-only probes marked)').action(() => {
    for (const a of ATTACKS) io.out(`${a.id.padEnd(20)} ${a.title}\n${' '.repeat(21)}${a.description}\n`);
    for (const a of OPT_IN_ATTACKS) io.out(`${a.id.padEnd(20)} ${a.title} (opt-in: --attacks ${a.id}; a column of every --targets matrix)\n${' '.repeat(21)}${a.description}\n`);
    for (const a of TARGET_ONLY_ATTACKS.filter((t) => !OPT_IN_ATTACKS.some((o) => o.id === t.id) && !ATTACKS.some((o) => o.id === t.id))) io.out(`${a.id.padEnd(20)} ${a.title} (targets only: your own app)\n${' '.repeat(21)}${a.description}\n`);
  });
}
