/**
 * `secchat lab verify` on lab 10 (a target lab): the recorded pass holds a target file, not a
 * profile. Verify parses it as a target from the folder it was recorded in and re-runs the lab's
 * check on the programs as they are now — flagging a recorded app that no longer passes, and a
 * record that is not a valid target, each with its own reason (never "not a valid profile").
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import type { CliIo } from '../cli/common.ts';
import { initPki } from '../core/pki.ts';
import { labPkiDir } from '../labs/lab-pki.ts';
import { profileDigest, progressFile } from '../labs/progress.ts';

const LAB10 = '10-your-own-app';
let tmp: string;
let pkiDir: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-labverify-target-'));
  pkiDir = path.join(tmp, 'pki');
  await initPki({ dir: pkiDir });
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), interactive: false };
  const code = await main(['node', 'secchat', ...args], io);
  return { code, out, err };
}

/** A lab home whose progress file records a pass of lab 10 with `targetText` saved as `app/my-chat.yaml`. */
function homeWithPass(targetText: string): string {
  const home = mkdtempSync(path.join(tmp, 'home-'));
  cpSync(pkiDir, labPkiDir(home), { recursive: true });
  const file = path.join(home, 'app', 'my-chat.yaml');
  const predictedAt = new Date(Date.now() - 60_000).toISOString();
  const at = new Date().toISOString();
  const pass = { at, file, profileText: targetText, sha256: profileDigest(targetText), results: { attacks: [], property: [], chat: 'works' } };
  writeFileSync(progressFile(home), JSON.stringify({ version: 1, labs: { [LAB10]: { prediction: 'B', predictedAt, startedAt: predictedAt, checks: 1, lastPassed: true, passedAt: at, pass } } }));
  return home;
}

describe('lab verify on a target lab (10)', () => {
  it('re-runs the recorded target from its folder and flags an app whose programs are gone', async () => {
    // The recorded folder holds no server.py any more: every attack's run finds no server.
    const home = homeWithPass('name: my-chat\nserver:\n  command: python3 server.py --port {port}\nclient:\n  command: python3 client.py --port {port}\n  send: "alice\\n{canary}\\n"\nreadyTimeoutMs: 2000\n');
    const r = await cli('lab', 'verify', '--home', home);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/10 {2}Test your own app: FLAGGED/);
    expect(r.out).toMatch(/the recorded app no longer passes: .*did not start/);
    expect(r.out).toMatch(new RegExp(`re-run against the programs in ${path.join(home, 'app').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} as they are now`));
    expect(r.out).not.toMatch(/not a valid profile/);
  }, 120_000);

  it('flags a recorded target that is not valid, naming the field', async () => {
    const home = homeWithPass('name: my-chat\nserver: {command: "python3 s.py {port}", colour: red}\nclient: {command: "c {port}", send: "{canary}"}\n');
    const r = await cli('lab', 'verify', '--home', home);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/the recorded target is not a valid target: [\s\S]*server\.colour: unknown key/);
  });
});
