import { Command, Option } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ora from 'ora';
import { ATTACKS, getAttack } from '../../attacks/registry.ts';
import { TARGET_ONLY_ATTACKS, targetAttack } from '../../attacks/targets/registry.ts';
import { ERROR_CODES, UsageError } from '../../core/errors.ts';
import { DEFAULT_MATRIX_CONCURRENCY, runMatrix } from '../../attacks/matrix.ts';
import { listPresets } from '../../core/profile.ts';
import { renderSummary, renderTable } from '../../reports/table.ts';
import { OUTCOME_LABELS } from '../../reports/results.ts';
import { checkProfileHandshakes, crackBudgetOption, loadCheckedProfile, parsePositiveInt, pkiFor, pkiOption, type CliIo } from '../common.ts';
import { REPORT_FORMATS } from '../../reports/formats.ts';
import { loadTarget } from '../../core/target.ts';

/** `reports/out/<timestamp>/`, the default output folder. */
export function defaultOutDir(now = new Date()): string {
  return path.join('reports', 'out', now.toISOString().replace(/[:.]/g, '-'));
}

/** `secchat matrix`: every attack against every profile. */
export function matrixCommand(io: CliIo): Command {
  return new Command('matrix')
    .description('run every attack against every profile (isolated cells over loopback TLS), print a verdict per profile (the full grid with --grid), write results.json and the reports')
    .option('--profiles <profiles...>', 'preset names or profile files (default: every preset, or none when --targets is given)')
    .option('--targets <files...>', 'your own apps: target YAML files (see `secchat target check`), rows beside the profiles')
    .option('--attacks <ids>', `comma-separated attack ids (default: all — ${ATTACKS.map((a) => a.id).join(',')})`)
    .option('--out <dir>', 'output folder (default: reports/out/<timestamp>/)')
    .addOption(new Option('--concurrency <n>', 'cells run at once').default(DEFAULT_MATRIX_CONCURRENCY).argParser(parsePositiveInt))
    .option('--json', 'print results.json to stdout instead of the summary', false)
    .option('--grid', 'print the full profile × attack grid before the verdicts', false)
    .option('--capture', 'keep every cell\'s capture (pcap) and key logs under DIR/artifacts/<profile>--<attack>/ and link them in the reports (retro-decrypt always keeps its own)', false)
    .addOption(crackBudgetOption())
    .addOption(pkiOption())
    .action(async (o: { profiles?: string[]; targets?: string[]; attacks?: string; out?: string; concurrency: number; json: boolean; grid: boolean; capture: boolean; pki: string; crackBudget: number }) => {
      const refs = o.profiles?.length ? o.profiles : o.targets?.length ? [] : listPresets();
      const profiles = refs.map((r) => loadCheckedProfile(r, io, { quiet: true }));
      const targets = (o.targets ?? []).map((f) => loadTarget(f));
      const rowNames = [...profiles.map((p) => p.name), ...targets.map((t) => t.name)];
      const dup = rowNames.find((n, i) => rowNames.indexOf(n) !== i);
      if (dup) throw new UsageError(ERROR_CODES.USAGE, `two rows are named "${dup}": every profile and target in one matrix needs its own name`);
      if (o.attacks !== undefined && !o.attacks.split(',').some((s) => s.trim())) throw new UsageError(ERROR_CODES.USAGE, `--attacks needs at least one attack id: ${ATTACKS.map((a) => a.id).join(',')}`);
      const asked = o.attacks ? o.attacks.split(',').map((s) => s.trim()).filter(Boolean) : null;
      // Target-only probes (e.g. mitm-gallery) are columns of their own when targets are rows.
      const attacks = asked ? asked.filter((s) => !(targets.length && targetAttack(s) && !ATTACKS.some((a) => a.id === s))).map((s) => getAttack(s)) : ATTACKS;
      const targetOnly = asked ? asked.filter((s) => targets.length && targetAttack(s) && !ATTACKS.some((a) => a.id === s)) : null;
      const pki = await pkiFor(o.pki, io);
      for (const p of profiles) await checkProfileHandshakes(p, pki.server);
      const outDir = o.out ?? defaultOutDir();
      mkdirSync(outDir, { recursive: true });
      const total = rowNames.length * (attacks.length + (targets.length ? (targetOnly ?? TARGET_ONLY_ATTACKS.map((a) => a.id)).length : 0));
      const spinner = io.interactive ? ora({ text: `running ${total} attack runs…`, stream: process.stderr }).start() : null;
      const command = ['secchat matrix', o.profiles?.length ? `--profiles ${refs.join(' ')}` : '', targets.length ? `--targets ${o.targets!.join(' ')}` : '', o.attacks ? `--attacks ${o.attacks}` : '', o.capture ? '--capture' : ''].filter(Boolean).join(' ');
      const results = await runMatrix({
        profiles,
        targets,
        targetOnlyAttacks: targetOnly ?? undefined,
        attacks,
        pki,
        concurrency: o.concurrency,
        crackBudgetCoreSeconds: o.crackBudget,
        command,
        artifactDirFor: (p, a) => (o.capture || ATTACKS.find((x) => x.id === a)?.keepsRecordings ? path.join(outDir, 'artifacts', `${p}--${a}`) : null),
        resultsDir: outDir,
        onCell: (c, done) => {
          if (spinner) spinner.text = `[${done}/${total}] ${c.profile} × ${c.attack}: ${OUTCOME_LABELS[c.outcome]}`;
        },
      });
      spinner?.stop();
      const resultsFile = path.join(outDir, 'results.json');
      writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
      const written = [resultsFile];
      for (const r of REPORT_FORMATS) {
        const file = path.join(outDir, r.fileName);
        writeFileSync(file, r.render(results, { resultsFile }));
        written.push(file);
      }
      if (o.json) io.out(JSON.stringify(results, null, 2) + '\n');
      else {
        const colour = !!process.stdout.isTTY;
        if (o.grid) io.out(renderTable(results, { colour }) + '\n');
        io.out(renderSummary(results, { colour }));
        io.out(`wrote ${written.join(', ')}\n`);
        if (!o.grid) io.out(`full grid: secchat report --in ${resultsFile} --grid (reasons and evidence: ${written.find((f) => f.endsWith('.html')) ?? written[0]})\n`);
      }
      const errors = results.cells.filter((c) => c.outcome === 'error');
      if (errors.length) io.err(`warning: ${errors.length} run(s) ended in error: ${errors.map((c) => `${c.profile}×${c.attack}`).join(', ')}\n`);
    });
}
