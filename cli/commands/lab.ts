/**
 * `secchat lab list | show N | start N | check N | reset N`: guided labs with automatic checks.
 * The lab model and check live in labs/; this file only talks to the student.
 */
import { Command, Option } from 'commander';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { ERROR_CODES, SecchatError, UsageError } from '../../core/errors.ts';
import { checkLab, checkTargetLab, readWorkingProfile, type LabCheckResult } from '../../labs/check.ts';
import { loadTarget } from '../../core/target.ts';
import { findLab, loadLabs, missingAttacks, OPTION_KEYS, type Lab } from '../../labs/lab.ts';
import { DEFAULT_LAB_HOME, loadProgress, updateLabProgress, workingProfileFile, type LabProgress } from '../../labs/progress.ts';
import { OUTCOME_LABELS } from '../../reports/results.ts';
import { pkiFor, pkiOption, type CliIo } from '../common.ts';
import { warningsFor } from '../../core/weaknesses.ts';

/** How guides and messages spell the command (works from a fresh clone, no global install). */
export const CLI = 'node bin/secchat.mjs';

const homeOption = () => new Option('--home <dir>', 'where working profiles and progress are kept').default(DEFAULT_LAB_HOME);

const nn = (lab: Lab) => String(lab.number).padStart(2, '0');

/** Options of {@link labCommand}. */
export interface LabCommandOptions {
  /** where `start` reads the prediction from when --answer is absent (default: process.stdin) */
  input?: Readable;
  /** folder of lab folders (tests point at their own) */
  labsDir?: string;
}

/**
 * Reads one option letter from `input`, asking again on a wrong letter.
 * @throws UsageError when the input ends before a valid answer
 */
async function askPrediction(lab: Lab, input: Readable, io: CliIo): Promise<string> {
  const keys = Object.keys(lab.prediction.options);
  const rl = readline.createInterface({ input, terminal: false });
  try {
    io.out(`Your answer (${keys.join('/')}): `);
    for await (const line of rl) {
      const a = line.trim().toUpperCase().replace(/[).]$/, '');
      if (keys.includes(a)) return a;
      io.out(`Please type one of ${keys.join(', ')}: `);
    }
  } finally {
    rl.close();
  }
  io.out('\n');
  throw new UsageError(ERROR_CODES.USAGE, `no answer to the prediction question; type one of ${keys.join(', ')}, or pass --answer ${keys[0]}`);
}

function printQuestion(lab: Lab, io: CliIo): void {
  io.out(`Before you run anything, predict:\n\n  ${lab.prediction.question}\n\n`);
  for (const k of OPTION_KEYS) if (lab.prediction.options[k]) io.out(`    ${k}) ${lab.prediction.options[k]}\n`);
  io.out('\n');
}

function statusOf(p: LabProgress | undefined): string {
  if (!p) return 'not started';
  if (p.passedAt) return `passed ${p.passedAt.slice(0, 10)}`;
  if (p.checks) return `started, ${p.checks} check${p.checks > 1 ? 's' : ''}, not passed yet`;
  return 'started';
}

function printCheck(r: LabCheckResult, io: CliIo): void {
  const w = Math.max(18, ...r.attacks.map((a) => a.attack.length)) + 2;
  for (const a of r.attacks) {
    const label = a.outcome === 'unavailable' ? 'UNAVAILABLE' : OUTCOME_LABELS[a.outcome];
    io.out(`  ${a.defended ? 'ok ' : 'NO '} ${a.attack.padEnd(w)}${label.padEnd(12)}${a.reason}\n`);
  }
  io.out(`  ${r.chat.works ? 'ok ' : 'NO '} ${'chat, no attacker'.padEnd(w)}${(r.chat.works ? 'works' : 'BROKEN').padEnd(12)}${r.chat.detail}\n\n`);
  if (r.measurement) {
    const m = r.measurement;
    io.out(
      `Measured on this machine: RSA-2048 OAEP ${m.rsaEncryptPerSec.toLocaleString('en')} encryptions/s and ${m.rsaDecryptPerSec.toLocaleString('en')} decryptions/s (at most ${m.rsaMaxPlaintextBytes} bytes each); ` +
        `AES-256-GCM ${m.aesGcmMiBPerSec.toLocaleString('en')} MiB/s — about ${m.aesOverRsaRatio.toLocaleString('en')}× more data per second than RSA decryption. Full benchmark: ${CLI} bench crypto\n\n`,
    );
  }
}

/** `secchat lab …`. */
export function labCommand(io: CliIo, opts: LabCommandOptions = {}): Command {
  const labs = () => loadLabs(opts.labsDir);
  const cmd = new Command('lab').description('guided labs: read a guide, predict, harden a profile, and let real attacks check it');

  cmd
    .command('list')
    .description('list the labs and your progress')
    .addOption(homeOption())
    .action((o: { home: string }) => {
      const progress = loadProgress(o.home).labs;
      const all = labs();
      const tw = Math.max(...all.map((l) => l.title.length));
      for (const lab of all) {
        const p = progress[lab.id];
        const missing = missingAttacks(lab);
        const pred = p?.prediction ? `predicted ${p.prediction}${p.passedAt ? (p.prediction === lab.prediction.answer ? ' (right)' : ` (answer ${lab.prediction.answer})`) : ''}` : '';
        const waiting = missing.length ? `  [check waits for: ${missing.join(', ')}]` : '';
        io.out(`${nn(lab)}  ${lab.title.padEnd(tw)}  ${statusOf(p).padEnd(34)}${pred}${waiting}\n`);
      }
      io.out(`\nStart one with: ${CLI} lab start 1\n`);
    });

  cmd
    .command('show')
    .description('print a lab\'s guide')
    .argument('<lab>', 'lab number or id')
    .addOption(homeOption())
    .action((ref: string, o: { home: string }) => {
      const lab = findLab(ref, labs());
      io.out(readFileSync(lab.readmeFile, 'utf8'));
      const file = workingProfileFile(o.home, lab.id);
      const missing = missingAttacks(lab);
      io.out(`\n---\nStatus: ${statusOf(loadProgress(o.home).labs[lab.id])}. Working profile: ${existsSync(file) ? file : `not created yet (${CLI} lab start ${lab.number})`}\n`);
      io.out(`The check runs: ${lab.attacks.join(', ')}, then the chat with no attacker.${missing.length ? ` Not available in this version yet: ${missing.join(', ')} — the check cannot pass until they are.` : ''}\n`);
    });

  cmd
    .command('start')
    .description('answer the prediction question, then get your own copy of the starting profile')
    .argument('<lab>', 'lab number or id')
    .option('--answer <letter>', 'your prediction, without being asked (e.g. B)')
    .addOption(homeOption())
    .action(async (ref: string, o: { answer?: string; home: string }) => {
      const lab = findLab(ref, labs());
      io.out(`Lab ${lab.number} — ${lab.title}\n\n`);
      const existing = loadProgress(o.home).labs[lab.id];
      if (existing?.prediction) {
        io.out(`Your prediction (${existing.prediction}, recorded ${existing.predictedAt?.slice(0, 16).replace('T', ' ')}) stands: a prediction is made once, before anything runs.\n`);
      } else {
        printQuestion(lab, io);
        let answer: string;
        if (o.answer !== undefined) {
          answer = o.answer.trim().toUpperCase();
          if (!(answer in lab.prediction.options)) throw new UsageError(ERROR_CODES.USAGE, `--answer must be one of ${Object.keys(lab.prediction.options).join(', ')} (got "${o.answer}")`);
          io.out(`Your answer: ${answer}\n`);
        } else {
          answer = await askPrediction(lab, opts.input ?? process.stdin, io);
        }
        const now = new Date().toISOString();
        updateLabProgress(o.home, lab.id, (p) => {
          p.prediction = answer;
          p.predictedAt = now;
          p.startedAt ??= now;
        });
        io.out(`Recorded. The answer is shown after your check passes.\n`);
      }
      if (lab.subject === 'target') {
        io.out(`\nThis lab checks your own app: describe it in a target file next to your code (${CLI} lab show ${lab.number}), then run: ${CLI} lab check ${lab.number} --target my-chat.yaml\n`);
        return;
      }
      const file = workingProfileFile(o.home, lab.id);
      if (existsSync(file)) {
        io.out(`\nYour working profile is ${file} (kept as it is; \`${CLI} lab reset ${lab.number}\` restores the starting one).\n`);
      } else {
        mkdirSync(path.dirname(file), { recursive: true });
        copyFileSync(lab.startFile, file);
        updateLabProgress(o.home, lab.id, (p) => {
          p.startedAt ??= new Date().toISOString();
        });
        io.out(`\nYour working profile: ${file}\n(a copy of ${path.relative(process.cwd(), lab.startFile) || lab.startFile}; edit the copy, never the original)\n`);
      }
      io.out(`Follow the steps in the guide (${CLI} lab show ${lab.number}), then run: ${CLI} lab check ${lab.number}\n`);
    });

  cmd
    .command('check')
    .description('run the lab\'s attacks against your working profile; passes when all are blocked and the chat still works')
    .argument('<lab>', 'lab number or id')
    .option('--profile <file>', 'check this profile file instead of your working profile')
    .option('--target <file>', 'your own app, described in a target file (labs that check your app: 10)')
    .addOption(homeOption())
    .addOption(pkiOption())
    .action(async (ref: string, o: { profile?: string; target?: string; home: string; pki: string }) => {
      const lab = findLab(ref, labs());
      if (lab.subject === 'target' && !o.target) throw new UsageError(ERROR_CODES.USAGE, `lab ${lab.number} checks your own app: pass --target <file> (a target file, see \`${CLI} lab show ${lab.number}\`)`);
      if (lab.subject !== 'target' && o.target) throw new UsageError(ERROR_CODES.USAGE, `lab ${lab.number} checks a profile, not --target; use --profile <file> or your working profile`);
      const target = o.target ? loadTarget(o.target) : null;
      const file = o.target ?? o.profile ?? workingProfileFile(o.home, lab.id);
      const profile = target ? null : readWorkingProfile(file, o.profile ? '' : `run \`${CLI} lab start ${lab.number}\`, or \`${CLI} lab reset ${lab.number}\` to restore it`);
      if (profile) for (const w of warningsFor(profile)) io.err(`warning: ${w}\n`);
      const pki = await pkiFor(o.pki, io);
      io.out(`Lab ${lab.number} — ${lab.title}\nChecking ${file} (${target ? `your app "${target.name}"` : `profile "${profile!.name}"`}): ${lab.attacks.length} attack${lab.attacks.length > 1 ? 's' : ''}, then the chat with no attacker…\n\n`);
      const r = target ? await checkTargetLab(lab, target, pki) : await checkLab(lab, profile!, pki);
      printCheck(r, io);
      const now = new Date().toISOString();
      const p = updateLabProgress(o.home, lab.id, (e) => {
        e.checks += 1;
        e.lastCheckAt = now;
        e.lastPassed = r.passed;
        if (r.passed) e.passedAt ??= now;
      });
      if (!r.passed) {
        io.out(`NOT PASSED (${(r.durationMs / 1000).toFixed(1)} s):\n${r.failures.map((f) => `  - ${f}\n`).join('')}\n`);
        if (r.attacks.some((a) => a.outcome === 'unavailable')) io.out(`This lab needs attacks that this version of secchat does not have yet; the check cannot pass until they are added.\n`);
        else io.out(`Read the task again (${CLI} lab show ${lab.number}), change your profile, and check again.\n`);
        throw new SecchatError(ERROR_CODES.LAB, `lab ${lab.number} not passed (${r.failures.length} problem${r.failures.length > 1 ? 's' : ''})`);
      }
      const answer = lab.prediction.answer;
      io.out(`PASSED — every attack was blocked and the chat still works (${(r.durationMs / 1000).toFixed(1)} s).\n\n`);
      io.out(`The prediction: ${lab.prediction.question}\n  Answer: ${answer}) ${lab.prediction.options[answer]}\n`);
      if (p.prediction) io.out(`  You predicted ${p.prediction}: ${p.prediction === answer ? 'right.' : `not quite — see why below.`}\n`);
      else io.out(`  You made no prediction (\`${CLI} lab start ${lab.number}\` asks for one before you begin).\n`);
      io.out(`\nWhy:\n${lab.explanation.trim().replace(/^/gm, '  ')}\n`);
    });

  cmd
    .command('reset')
    .description('restore the starting profile (your current one is kept as profile.yaml.bak)')
    .argument('<lab>', 'lab number or id')
    .addOption(homeOption())
    .action((ref: string, o: { home: string }) => {
      const lab = findLab(ref, labs());
      if (lab.subject === 'target') {
        io.out(`lab ${lab.number} checks your own app: there is no starting profile to restore\n`);
        return;
      }
      const file = workingProfileFile(o.home, lab.id);
      mkdirSync(path.dirname(file), { recursive: true });
      if (existsSync(file)) {
        copyFileSync(file, file + '.bak');
        io.out(`kept your previous profile as ${file}.bak\n`);
      }
      copyFileSync(lab.startFile, file);
      updateLabProgress(o.home, lab.id, (p) => {
        p.startedAt ??= new Date().toISOString();
      });
      io.out(`restored the starting profile of lab ${lab.number} to ${file}\n`);
    });

  return cmd;
}
