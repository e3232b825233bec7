/**
 * The lab check's own inputs are not the student's to edit (issue 15, kind 5): a forged progress
 * file reveals nothing and fails `secchat lab verify`; a real pass keeps its profile, digest and
 * results, and `lab verify` re-runs it, flagging a record that was edited or no longer passes; the
 * check uses the lab PKI secchat made and refuses one whose attacker certificates were swapped;
 * warnings hold back the fix until the lab is passed; handshake failures are translated.
 */
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import type { CliIo } from '../cli/common.ts';
import { initPki, loadPki, type PkiMaterial } from '../core/pki.ts';
import { parseProfile } from '../core/profile.ts';
import { checkLab } from '../labs/check.ts';
import { findLab } from '../labs/lab.ts';
import { labPkiDir, labPkiProblems } from '../labs/lab-pki.ts';
import { isUnpassedLabProfile, loadProgress, profileDigest, progressFile, workingProfileFile } from '../labs/progress.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'labs');
const LAB2 = '02-certificate-verification';
let tmp: string;
let pkiDir: string;
let pki: PkiMaterial;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-labverify-'));
  pkiDir = path.join(tmp, 'pki');
  await initPki({ dir: pkiDir });
  pki = loadPki(pkiDir);
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), interactive: false };
  const code = await main(['node', 'secchat', ...args], io);
  return { code, out, err };
}

/** A fresh lab home holding a copy of the test PKI (as `secchat lab` would have made it). */
function newHome(): string {
  const home = mkdtempSync(path.join(tmp, 'home-'));
  cpSync(pkiDir, labPkiDir(home), { recursive: true });
  return home;
}

const answerLine = (labRef: string) => {
  const lab = findLab(labRef);
  return `Answer: ${lab.prediction.answer}) ${lab.prediction.options[lab.prediction.answer]}`;
};

describe('a forged progress file', () => {
  it('marks nothing passed: list shows no evidence and no answer, verify flags it and reveals nothing', async () => {
    const home = newHome();
    const now = new Date().toISOString();
    writeFileSync(progressFile(home), JSON.stringify({ version: 1, labs: { [LAB2]: { prediction: 'C', predictedAt: now, startedAt: now, checks: 1, lastPassed: true, passedAt: now } } }));
    const list = await cli('lab', 'list', '--home', home);
    expect(list.out).toMatch(/02 {2}Certificate verification.*marked passed with no evidence/);
    expect(list.out).not.toContain('Answer:');
    expect(list.out).toContain('Next: lab 1');
    const v = await cli('lab', 'verify', '--home', home, '--reveal');
    expect(v.code).toBe(1);
    expect(v.out).toMatch(/02 {2}Certificate verification and the man in the middle: FLAGGED/);
    expect(v.out).toContain('marked passed, but the progress file holds no profile it passed with');
    expect(v.out).not.toContain(answerLine('2'));
    expect(v.err).toMatch(/1 of 1 recorded pass did not verify/);
  }, 60_000);
});

describe('a real pass and lab verify', () => {
  let home: string;
  beforeAll(() => {
    home = newHome();
  });

  it('check refuses a lab with no prediction, even with --profile', async () => {
    const r = await cli('lab', 'check', '2', '--home', home, '--profile', path.join(FIXTURES, LAB2, 'hardened.yaml'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('make your prediction first');
    expect(loadProgress(home).labs[LAB2]).toBeUndefined();
  });

  it('has no --pki option: the check uses the lab PKI it made', async () => {
    const r = await cli('lab', 'check', '2', '--home', home, '--pki', pkiDir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option '--pki'/);
  });

  it('warnings hold back the fix until the lab is passed', async () => {
    expect((await cli('lab', 'start', '2', '--answer', 'B', '--home', home)).code).toBe(0);
    const file = workingProfileFile(home, LAB2);
    expect(isUnpassedLabProfile(file)).toBe(true);
    const r = await cli('lab', 'check', '2', '--home', home);
    expect(r.code).toBe(1);
    expect(r.err).toContain('client.verify: the client accepts any certificate');
    expect(r.err).not.toContain('fix:');
    expect(r.err).not.toContain('checkHostname: true');
  }, 60_000);

  it('a pass records its evidence; verify re-runs it and reveals the answer', async () => {
    const file = workingProfileFile(home, LAB2);
    const hardened = readFileSync(path.join(FIXTURES, LAB2, 'hardened.yaml'), 'utf8');
    writeFileSync(file, hardened);
    expect((await cli('lab', 'check', '2', '--home', home)).code).toBe(0);
    expect(isUnpassedLabProfile(file)).toBe(false);
    const rec = loadProgress(home).labs[LAB2].pass!;
    expect(rec).toMatchObject({ file, profileText: hardened, sha256: profileDigest(hardened) });
    expect(rec.results.property.every((m) => m.holds)).toBe(true);
    const v = await cli('lab', 'verify', '--home', home, '--reveal');
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/02 {2}Certificate verification and the man in the middle: verified \(pass of .*, profile sha256 [0-9a-f]{16}…\)/);
    expect(v.out).toContain(answerLine('2'));
    expect(v.out).toContain('All 1 recorded pass verified by re-running them.');
  }, 60_000);

  it('verify notes a working profile changed since the pass, and still re-runs the recorded one', async () => {
    writeFileSync(workingProfileFile(home, LAB2), readFileSync(findLab('2').startFile, 'utf8'));
    const v = await cli('lab', 'verify', '--home', home);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/changed since the pass \(the recorded one is re-run\)/);
  }, 60_000);

  it('verify flags a record whose profile was edited, and one that no longer passes', async () => {
    const progress = JSON.parse(readFileSync(progressFile(home), 'utf8'));
    const weak = readFileSync(path.join(FIXTURES, LAB2, 'insecure-no-hostname.yaml'), 'utf8');
    progress.labs[LAB2].pass.profileText = weak;
    writeFileSync(progressFile(home), JSON.stringify(progress));
    const edited = await cli('lab', 'verify', '--home', home, '--reveal');
    expect(edited.code).toBe(1);
    expect(edited.out).toContain('does not match its recorded SHA-256: the record was edited');
    expect(edited.out).not.toContain(answerLine('2'));
    // A forger who also recomputes the digest is caught by the re-run.
    progress.labs[LAB2].pass.sha256 = profileDigest(weak);
    writeFileSync(progressFile(home), JSON.stringify(progress));
    const rerun = await cli('lab', 'verify', '--home', home, '--reveal');
    expect(rerun.code).toBe(1);
    expect(rerun.out).toMatch(/the recorded profile no longer passes: mitm-wrong-host succeeded/);
    expect(rerun.out).not.toContain(answerLine('2'));
  }, 60_000);
});

describe('the lab PKI', () => {
  it('is sound as secchat makes it', () => {
    expect(labPkiProblems(pki)).toEqual([]);
  });

  it('a swapped rogue root (the lab CA copied over it) is named, and the check refuses to run', async () => {
    const home = newHome();
    const dir = labPkiDir(home);
    copyFileSync(path.join(dir, 'ca.crt'), path.join(dir, 'rogue-ca.crt'));
    copyFileSync(path.join(dir, 'ca.key'), path.join(dir, 'rogue-ca.key'));
    const problems = labPkiProblems(loadPki(dir));
    expect(problems).toContain("the rogue root has the lab CA's key");
    expect(problems).toContain('the rogue attacker certificate is not issued by the rogue root for localhost under its own key');
    expect((await cli('lab', 'start', '3', '--answer', 'C', '--home', home)).code).toBe(0);
    writeFileSync(workingProfileFile(home, '03-pki-hostnames-pinning'), readFileSync(path.join(FIXTURES, '03-pki-hostnames-pinning', 'insecure-ca-only.yaml')));
    const r = await cli('lab', 'check', '3', '--home', home);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/the lab PKI in .* was altered: .*rogue root/);
    expect(loadProgress(home).labs['03-pki-hostnames-pinning'].pass).toBeUndefined();
  });

  it('a wrong-host certificate re-issued for localhost is named', () => {
    const swapped = { ...pki, attackerWrongHost: pki.server };
    expect(labPkiProblems(swapped)).toContain('the wrong-host attacker certificate is not issued by the lab CA for another name under its own key');
  });
});

describe('handshake failures in a lab check', () => {
  it('are translated: only ECDSA suites with the RSA lab certificate', async () => {
    const profile = parseProfile('name: ecdsa-only\ntransport: tls\ntls: {minVersion: TLSv1.2, maxVersion: TLSv1.2, ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256"}\n', 'test');
    const r = await checkLab(findLab('1'), profile, pki);
    expect(r.passed).toBe(false);
    expect(r.chat.works).toBe(false);
    expect(r.chat.detail).toContain('no common cipher suite: the lab certificate is RSA, and every suite in tls.ciphers needs an ECDSA certificate');
  }, 60_000);
});
