/**
 * `secchat lab list | show N | start N | check N | reset N | verify`: guided labs with automatic
 * checks. The lab model and check live in labs/; this file only talks to the student (and, for
 * `verify`, to the teacher grading the recorded passes).
 */
import { Command, Option } from 'commander';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { ERROR_CODES, SecchatError, UsageError } from '../../core/errors.ts';
import { checkLab, checkTargetLab, readWorkingProfile, type LabCheckResult } from '../../labs/check.ts';
import { loadTarget, parseTargetText } from '../../core/target.ts';
import { findLab, loadLabs, missingAttacks, OPTION_KEYS, type Lab } from '../../labs/lab.ts';
import { labPki } from '../../labs/lab-pki.ts';
import { DEFAULT_LAB_HOME, loadProgress, profileDigest, updateLabProgress, workingProfileFile, type LabProgress, type PassRecord } from '../../labs/progress.ts';
import { parseProfile } from '../../core/profile.ts';
import { checkTlsSettings } from '../../core/tls/node-options.ts';
import type { PkiMaterial } from '../../core/pki.ts';
import { OUTCOME_LABELS } from '../../reports/results.ts';
import type { CliIo } from '../common.ts';
import { warningsFor } from '../../core/weaknesses.ts';

/** How guides and messages spell the command (works from a fresh clone, no global install). */
export const CLI = 'npx secchat';

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
  if (p.pass) return `passed ${p.pass.at.slice(0, 10)}`;
  if (p.passedAt) return 'marked passed with no evidence';
  if (p.checks) return `started, ${p.checks} check${p.checks > 1 ? 's' : ''}, not passed yet`;
  return 'started';
}

function printCheck(r: LabCheckResult, io: CliIo): void {
  const w = Math.max(18, ...r.attacks.map((a) => a.attack.length)) + 2;
  for (const a of r.attacks) {
    const label = a.outcome === 'unavailable' ? 'UNAVAILABLE' : OUTCOME_LABELS[a.outcome];
    io.out(`  ${a.defended ? 'ok ' : 'NO '} ${a.attack.padEnd(w)}${label.padEnd(12)}${a.reason}\n`);
  }
  io.out(`  ${r.chat.works ? 'ok ' : 'NO '} ${'chat, no attacker'.padEnd(w)}${(r.chat.works ? 'works' : 'BROKEN').padEnd(12)}${r.chat.detail}\n`);
  for (const m of r.property.measures) io.out(`  ${m.holds ? 'ok ' : 'NO '} ${`property: ${m.measure}`.padEnd(w)}${(m.holds ? 'holds' : 'DOES NOT').padEnd(12)}${m.evidence}\n`);
  io.out(r.property.statement ? `\n  The property: ${r.property.statement}\n\n` : "\n");
  if (r.measurement) {
    const m = r.measurement;
    io.out(
      `Measured on this machine: RSA-2048 OAEP ${m.rsaEncryptPerSec.toLocaleString('en')} encryptions/s and ${m.rsaDecryptPerSec.toLocaleString('en')} decryptions/s (at most ${m.rsaMaxPlaintextBytes} bytes each); ` +
        `AES-256-GCM ${m.aesGcmMiBPerSec.toLocaleString('en')} MiB/s — about ${m.aesOverRsaRatio.toLocaleString('en')}× more data per second than RSA decryption. Full benchmark: ${CLI} bench crypto\n\n`,
    );
  }
}

/** The lab PKI under the lab home (made on first use, checked on every use). */
function pkiOfHome(home: string, io: CliIo): Promise<PkiMaterial> {
  return labPki(home, (dir) => io.err(`creating the lab PKI in ${dir} (first use, a few seconds)…\n`));
}

/** The evidence a passing check leaves in the progress file. */
function passRecord(file: string, text: string, r: LabCheckResult): PassRecord {
  return {
    at: new Date().toISOString(),
    file,
    profileText: text,
    sha256: profileDigest(text),
    results: {
      attacks: r.attacks.map((a) => ({ attack: a.attack, outcome: a.outcome })),
      property: r.property.measures.map((m) => ({ measure: m.measure, holds: m.holds, evidence: m.evidence })),
      chat: r.chat.detail,
    },
  };
}

function revealAnswer(lab: Lab, p: LabProgress, io: CliIo): void {
  const answer = lab.prediction.answer;
  io.out(`The prediction: ${lab.prediction.question}\n  Answer: ${answer}) ${lab.prediction.options[answer]}\n`);
  if (p.prediction) io.out(`  You predicted ${p.prediction}: ${p.prediction === answer ? 'right.' : `not quite — see why below.`}\n`);
  io.out(`\nWhy:\n${lab.explanation.trim().replace(/^/gm, '  ')}\n`);
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
        // No answer here: it is revealed only by a pass that ran (check) or re-ran (verify).
        const pred = p?.prediction ? `predicted ${p.prediction}` : '';
        const waiting = missing.length ? `  [check waits for: ${missing.join(', ')}]` : '';
        io.out(`${nn(lab)}  ${lab.title.padEnd(tw)}  ${statusOf(p).padEnd(34)}${pred}${waiting}\n`);
      }
      const next = all.find((l) => !progress[l.id]?.pass);
      if (!next) io.out(`\nEvery lab is passed. A teacher checks the passes with: ${CLI} lab verify\n`);
      else if (progress[next.id]?.prediction) io.out(`\nNext: lab ${next.number} — ${next.title}. Check it with: ${CLI} lab check ${next.number}\n`);
      else io.out(`\nNext: lab ${next.number} — ${next.title}. Start it with: ${CLI} lab start ${next.number}\n`);
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
      io.out(`The check runs: ${lab.attacks.join(', ')}, then the chat with no attacker, and measures the property: ${lab.property?.statement ?? "none (this lab checks your app by its attacks)"}${missing.length ? ` Not available in this version yet: ${missing.join(', ')} — the check cannot pass until they are.` : ''}\n`);
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
    .description('run the lab\'s attacks against your working profile and measure its property; passes when every attack is blocked, the property holds and the chat still works')
    .argument('<lab>', 'lab number or id')
    .option('--profile <file>', 'check this profile file instead of your working profile')
    .option('--target <file>', 'your own app, described in a target file (labs that check your app: 10)')
    .addOption(homeOption())
    .action(async (ref: string, o: { profile?: string; target?: string; home: string }) => {
      const lab = findLab(ref, labs());
      if (lab.subject === 'target' && !o.target) throw new UsageError(ERROR_CODES.USAGE, `lab ${lab.number} checks your own app: pass --target <file> (a target file, see \`${CLI} lab show ${lab.number}\`)`);
      if (lab.subject !== 'target' && o.target) throw new UsageError(ERROR_CODES.USAGE, `lab ${lab.number} checks a profile, not --target; use --profile <file> or your working profile`);
      // The prediction comes before the first check, or it predicts nothing.
      const before = loadProgress(o.home).labs[lab.id];
      if (!before?.prediction) throw new SecchatError(ERROR_CODES.LAB, `lab ${lab.number} is not started: make your prediction first with \`${CLI} lab start ${lab.number}\`, then check`, { lab: lab.id });
      const target = o.target ? loadTarget(o.target) : null;
      const file = o.target ?? o.profile ?? workingProfileFile(o.home, lab.id);
      const profile = target ? null : readWorkingProfile(file, o.profile ? '' : `run \`${CLI} lab start ${lab.number}\`, or \`${CLI} lab reset ${lab.number}\` to restore it`);
      const text = readFileSync(file, 'utf8');
      // The fix is the answer: warnings name it only once this lab is passed.
      if (profile) for (const w of warningsFor(profile, { fix: !!before.pass })) io.err(`warning: ${w}\n`);
      const pki = await pkiOfHome(o.home, io);
      io.out(`Lab ${lab.number} — ${lab.title}\nChecking ${file} (${target ? `your app "${target.name}"` : `profile "${profile!.name}"`}): ${lab.attacks.length} attack${lab.attacks.length > 1 ? 's' : ''}, the chat with no attacker${lab.property ? ", and the lab's property" : ''}…\n\n`);
      const r = target ? await checkTargetLab(lab, target, pki) : await checkLab(lab, profile!, pki);
      printCheck(r, io);
      const now = new Date().toISOString();
      const p = updateLabProgress(o.home, lab.id, (e) => {
        e.checks += 1;
        e.lastCheckAt = now;
        e.lastPassed = r.passed;
        if (r.passed) {
          e.passedAt ??= now;
          // A target's commands run in its folder: keep where it was, so a verify from anywhere finds the programs.
          e.pass = passRecord(target ? path.resolve(file) : file, text, r);
        }
      });
      if (!r.passed) {
        io.out(`NOT PASSED (${(r.durationMs / 1000).toFixed(1)} s):\n${r.failures.map((f) => `  - ${f}\n`).join('')}\n`);
        if (r.attacks.some((a) => a.outcome === 'unavailable')) io.out(`This lab needs attacks that this version of secchat does not have yet; the check cannot pass until they are added.\n`);
        else io.out(`Read the task again (${CLI} lab show ${lab.number}), change your profile, and check again.\n`);
        throw new SecchatError(ERROR_CODES.LAB, `lab ${lab.number} not passed (${r.failures.length} problem${r.failures.length > 1 ? 's' : ''})`);
      }
      io.out(`PASSED — every attack was blocked, the property holds and the chat still works (${(r.durationMs / 1000).toFixed(1)} s).\n\n`);
      revealAnswer(lab, p, io);
    });

  cmd
    .command('verify')
    .description('re-run every recorded pass from the profile it passed with (what a teacher runs when grading); flags passes that no longer pass, whose profile changed, or that have no evidence')
    .addOption(homeOption())
    .option('--reveal', 'print the answer of each pass that verifies')
    .action(async (o: { home: string; reveal?: boolean }) => {
      const progress = loadProgress(o.home).labs;
      const claimed = labs().filter((l) => progress[l.id]?.passedAt || progress[l.id]?.pass);
      if (!claimed.length) {
        io.out(`No recorded passes in ${o.home}.\n`);
        return;
      }
      const pki = await pkiOfHome(o.home, io);
      let flagged = 0;
      for (const lab of claimed) {
        const p = progress[lab.id];
        const problems: string[] = [];
        const notes: string[] = [];
        const pass = p.pass;
        let result: LabCheckResult | null = null;
        if (!pass || typeof pass.profileText !== 'string') problems.push('marked passed, but the progress file holds no profile it passed with');
        else {
          if (profileDigest(pass.profileText) !== pass.sha256) problems.push('the recorded profile does not match its recorded SHA-256: the record was edited');
          if (!p.prediction || !p.predictedAt || p.predictedAt > pass.at) problems.push('no prediction was recorded before the pass');
          const working = workingProfileFile(o.home, lab.id);
          if (existsSync(working) && profileDigest(readFileSync(working, 'utf8')) !== pass.sha256) notes.push(`the working profile ${working} changed since the pass (the recorded one is re-run)`);
          if (lab.subject === 'target') {
            // A target lab records the target file; its commands run the student's programs as
            // they are now, in the recorded file's folder (only the target file is recorded).
            const dir = path.dirname(path.resolve(pass.file));
            try {
              const target = parseTargetText(pass.profileText, `${lab.id} pass record (${pass.file})`, dir);
              notes.push(`re-run against the programs in ${dir} as they are now (the pass recorded the target file, not the programs)`);
              result = await checkTargetLab(lab, target, pki);
              if (!result.passed) problems.push(`the recorded app no longer passes: ${result.failures.join('; ')}`);
            } catch (err) {
              problems.push(`the recorded target is not a valid target: ${(err as Error).message}`);
            }
          } else {
            try {
              const profile = parseProfile(pass.profileText, `${lab.id} pass record`);
              checkTlsSettings(profile);
              result = await checkLab(lab, profile, pki);
              if (!result.passed) problems.push(`the recorded profile no longer passes: ${result.failures.join('; ')}`);
            } catch (err) {
              problems.push(`the recorded profile is not a valid profile: ${(err as Error).message}`);
            }
          }
        }
        if (problems.length) flagged++;
        io.out(`${nn(lab)}  ${lab.title}: ${problems.length ? 'FLAGGED' : 'verified'}${pass ? ` (pass of ${pass.at.slice(0, 16).replace('T', ' ')}, profile sha256 ${pass.sha256?.slice(0, 16)}…)` : ''}\n`);
        for (const x of [...problems, ...notes]) io.out(`      - ${x}\n`);
        if (!problems.length && o.reveal) {
          revealAnswer(lab, p, io);
          io.out('\n');
        }
      }
      if (flagged) throw new SecchatError(ERROR_CODES.LAB, `${flagged} of ${claimed.length} recorded pass${claimed.length > 1 ? 'es' : ''} did not verify`);
      io.out(`\nAll ${claimed.length} recorded pass${claimed.length > 1 ? 'es' : ''} verified by re-running them.\n`);
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
