import { Command } from 'commander';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ATTACKS, getAttack } from '../../attacks/registry.ts';
import { runAttack } from '../../attacks/scenario.ts';
import { OUTCOME_LABELS } from '../../reports/results.ts';
import { crackBudgetOption, loadCheckedProfile, pkiFor, pkiOption, profileOption, type CliIo } from '../common.ts';
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
    .description('run one attack against a profile over real loopback TLS and print the verdict with evidence')
    .argument('<id>', `attack id: ${ATTACKS.map((a) => a.id).join(', ')}`)
    .addOption(profileOption())
    .option('--json', 'print the result object as JSON', false)
    .option('--capture <file>', 'keep the capture of the run (pcap, for Wireshark); its key logs go beside it (run.pcap → run.sessions.keylog, run.recovered.keylog)')
    .option('--keylog <file>', 'append TLS secrets of every session of the run in NSS key log format (for Wireshark; mode 0600)')
    .addOption(crackBudgetOption())
    .addOption(pkiOption())
    .action(async (id: string, o: { profile: string; json: boolean; pki: string; capture?: string; keylog?: string; crackBudget: number }) => {
      const attack = getAttack(id);
      const profile = loadCheckedProfile(o.profile, io, { quiet: o.json });
      const pki = await pkiFor(o.pki, io);
      const artifactDir = o.capture ? mkdtempSync(path.join(os.tmpdir(), 'secchat-attack-')) : null;
      let r;
      try {
        r = await runAttack(attack, profile, pki, { artifactDir, keylog: o.keylog ? keylogWriter(o.keylog) : undefined, crackBudgetCoreSeconds: o.crackBudget });
        if (artifactDir && o.capture) r = { ...r, artifacts: placeArtifacts(r.artifacts ?? {}, o.capture) };
      } finally {
        if (artifactDir) rmSync(artifactDir, { recursive: true, force: true });
      }
      if (o.json) {
        io.out(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      io.out(`${attack.id} against ${profile.name}: ${OUTCOME_LABELS[r.outcome]} (${r.durationMs} ms)\n${r.reason}\n`);
      if (r.negotiated) io.out(`negotiated: ${r.negotiated.protocol} ${r.negotiated.cipher} ${r.negotiated.group ?? ''}\n`);
      if (r.impact.length) io.out(`impact: ${r.impact.join(', ')}\n`);
      for (const e of r.evidence) io.out(`  - ${e.kind}: ${e.detail}\n`);
      for (const [name, file] of Object.entries(r.artifacts ?? {})) io.out(`kept ${name}: ${file}\n`);
      if (o.keylog) io.out(`key log: ${o.keylog}\n`);
    });
}

/** `secchat attacks`: list the attacks. */
export function attacksCommand(io: CliIo): Command {
  return new Command('attacks').description('list the attacks').action(() => {
    for (const a of ATTACKS) io.out(`${a.id.padEnd(20)} ${a.title}\n${' '.repeat(21)}${a.description}\n`);
  });
}
