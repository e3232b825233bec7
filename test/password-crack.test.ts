/**
 * password-crack: end to end against inline (non-preset) profiles for each storage, the word list
 * it ships, and the cracking engine with an injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { makeTestPki, profileOf } from './helpers/lab-env.ts';
import type { PkiMaterial } from '../core/pki.ts';
import { getAttack } from '../attacks/registry.ts';
import { LAB_USERS, runAttack } from '../attacks/scenario.ts';
import { WORDLIST_FILE, crackRows, loadWordlist } from '../attacks/password-cracker.ts';
import { commonPasswordsText } from '../attacks/wordlists/generate-common-passwords.ts';
import { formatDuration, formatRate } from '../attacks/kit/password-crack-verdict.ts';
import { hashPassword, type StoredUser } from '../server/user-store.ts';

let pki: PkiMaterial;
let cleanup: () => void;
beforeAll(async () => {
  ({ pki, cleanup } = await makeTestPki());
});
afterAll(() => cleanup());

const attack = getAttack('password-crack');
type Recovered = { username: string; password: string; guesses: number; candidate: number };

describe('password-crack end to end', () => {
  it('plaintext storage: every password is read from the rows, no guessing', async () => {
    const cell = await runAttack(attack, profileOf({ name: 'store-plain', transport: 'plain', auth: { storage: 'plaintext' } }), pki);
    expect(cell.outcome, cell.reason).toBe('succeeded');
    expect(cell.impact).toEqual(['authentication', 'confidentiality']);
    expect(cell.reason).toMatch(/stores passwords in plaintext: the passwords of alice and bob read straight from the rows/);
    const recovered = cell.data!.recovered as Recovered[];
    expect(recovered.map((r) => [r.username, r.password, r.guesses])).toEqual([
      ['alice', LAB_USERS.alice, 0],
      ['bob', LAB_USERS.bob, 0], // a strong password does not help when it is stored as it is
    ]);
    expect(cell.data!.guesses).toBe(0);
    expect(cell.data!.guessesPerSecond).toBeNull();
  });

  it('sha256 storage: alice falls to the dictionary, bob (random) does not; the rate is measured', async () => {
    const cell = await runAttack(attack, profileOf({ name: 'store-sha', tls: { minVersion: 'TLSv1.3' }, auth: { storage: 'sha256' } }), pki);
    expect(cell.outcome, cell.reason).toBe('succeeded');
    expect(cell.reason).toMatch(/^cracked alice's password from the stolen sha256 hash after [\d,]+ guesses at [\d.,]+ [kM]? ?guesses\/s/);
    const recovered = cell.data!.recovered as Recovered[];
    expect(recovered.map((r) => [r.username, r.password])).toEqual([['alice', LAB_USERS.alice]]);
    expect(recovered[0].guesses).toBeGreaterThan(300);
    expect(cell.data!.guessesPerSecond as number).toBeGreaterThan(1000);
    expect(cell.evidence.find((e) => e.kind === 'not-recovered')?.detail).toMatch(/^bob: not recovered — not in the list \(all [\d,]+ candidates tried\)/);
    expect(cell.negotiated?.protocol).toBe('TLSv1.3');
  });

  it('scrypt storage: alice falls within a thief\'s budget (one core, one day); the rate is measured on one core and the match is real', async () => {
    const cell = await runAttack(attack, profileOf({ name: 'store-scrypt', client: { verify: 'pin', pin: 'server' } }), pki);
    expect(cell.outcome, cell.reason).toBe('succeeded');
    const m = cell.reason.match(/^cracked alice's password from the stolen scrypt \(N=16384, r=8, p=1\) hash: it is candidate #([\d,]+) of a common-password list, ([\d,]+) guesses at the measured ([\d.,]+) guesses\/s per core — ([\d.,]+ (?:ms|s|min|h)) for a thief with one CPU core, within a budget of 24\.0 h of one CPU core$/);
    expect(m, cell.reason).not.toBeNull();
    const data = cell.data as { recovered: Recovered[]; schemes: Array<{ guessesPerSecond: number; stoppedBy: string }> };
    expect(data.recovered.map((r) => [r.username, r.password])).toEqual([['alice', LAB_USERS.alice]]);
    const candidate = Number(m![1].replace(/,/g, ''));
    expect(candidate).toBe(loadWordlist().filter((w) => w.length >= 8).indexOf(LAB_USERS.alice) + 1);
    // candidate-major against two salted rows: alice (first row) at guess (candidate-1)·2 + 1
    expect(data.recovered[0].guesses).toBe((candidate - 1) * 2 + 1);
    expect(data.schemes[0].guessesPerSecond).toBeGreaterThan(0.5);
    expect(data.schemes[0].guessesPerSecond).toBeLessThan(5000);
    expect(cell.evidence.find((e) => e.kind === 'rate')?.detail).toMatch(/on one CPU core \(median of 3 timed samples: [\d.]+ ms, [\d.]+ ms, [\d.]+ ms per guess\)/);
    expect(cell.evidence.find((e) => e.kind === 'not-recovered')?.detail).toMatch(/bob: not recovered — not in the list/);
    expect(cell.summary.length).toBeLessThanOrEqual(40);
  });

  it('scrypt storage under a tiny thief\'s budget: blocked, naming how far away alice\'s password is', async () => {
    const cell = await runAttack(attack, profileOf({ name: 'store-scrypt' }), pki, { crackBudgetCoreSeconds: 1 });
    expect(cell.outcome, cell.reason).toBe('blocked');
    expect(cell.reason).toMatch(/alice's password is candidate #[\d,]+, [\d.]+ (?:s|min|h) away: beyond the thief's budget of 1\.0 s of one CPU core/);
  });

  it('auth.passwordPolicy: the users register passphrases outside every list, and the thief finds nothing', async () => {
    const cell = await runAttack(attack, profileOf({ name: 'store-policy', auth: { passwordPolicy: { minLength: 15, rejectCommon: true } } }), pki);
    expect(cell.outcome, cell.reason).toBe('blocked');
    expect(cell.reason).toMatch(/^no stored password is in the [\d,]+-candidate list: scrypt .* lets a thief run the whole list in .*, and it finds nothing$/);
  });

  it('auth.pepper: the stolen file alone checks no guess, even for alice\'s listed password', async () => {
    const cell = await runAttack(attack, profileOf({ name: 'store-pepper', auth: { storage: 'sha256', pepper: true } }), pki);
    expect(cell.outcome, cell.reason).toBe('blocked');
    expect(cell.reason).toMatch(/the hashes are peppered \(auth\.pepper: an HMAC key kept outside the database\): [\d,]+ real guesses, none reproduced a stolen hash/);
    expect(cell.evidence.find((e) => e.kind === 'pepper')?.detail).toMatch(/alice, bob: the rows say their hashes are peppered/);
  });

  it('challenge login: the stolen scrypt verifiers log in without cracking', async () => {
    const cell = await runAttack(attack, profileOf({ name: 'store-challenge', transport: 'plain', auth: { storage: 'scrypt', method: 'challenge' } }), pki);
    expect(cell.outcome, cell.reason).toBe('succeeded');
    expect(cell.reason).toMatch(/stolen verifiers log in directly .* logged in as alice and bob without any password/);
    expect(cell.data!.verifierLogins).toEqual([
      { username: 'alice', ok: true },
      { username: 'bob', ok: true },
    ]);
    // and alice's listed password also falls within the thief's budget
    expect((cell.data!.recovered as Recovered[]).map((r) => r.username)).toEqual(['alice']);
  });
});

describe('the word list', () => {
  const words = loadWordlist();
  it('is the generator\'s output, a few thousand distinct candidates', () => {
    expect(readFileSync(WORDLIST_FILE, 'utf8')).toBe(commonPasswordsText());
    expect(words.length).toBeGreaterThan(2000);
    expect(words.length).toBeLessThan(10_000);
    expect(new Set(words).size).toBe(words.length);
  });
  it('holds alice\'s password well past the top, and not bob\'s random one', () => {
    const at = words.indexOf(LAB_USERS.alice);
    expect(at).toBeGreaterThan(500);
    expect(words.filter((w) => w.length >= 8).indexOf(LAB_USERS.alice)).toBeGreaterThan(300); // after the policy filter too
    expect(words).not.toContain(LAB_USERS.bob);
  });
});

describe('crackRows', () => {
  const row = async (username: string, password: string, storage: 'plaintext' | 'sha256' | 'scrypt'): Promise<StoredUser> => ({ username, ...(await hashPassword(password, storage)) });

  it('unsalted sha256: one hash per candidate finds every account that shares it', async () => {
    const rows = [await row('a', 'sunshine1', 'sha256'), await row('b', 'sunshine1', 'sha256'), await row('c', 'zz-not-listed', 'sha256')];
    const r = await crackRows(rows, ['monkey12', 'sunshine1', 'letmein1'], { budgetMs: 10_000, maxGuesses: 100, concurrency: 1 });
    expect(r.recovered.map((x) => [x.username, x.password, x.guesses, x.candidate])).toEqual([
      ['a', 'sunshine1', 2, 2],
      ['b', 'sunshine1', 2, 2],
    ]);
    expect(r.remaining).toEqual(['c']);
    expect(r.schemes[0]).toMatchObject({ scheme: 'sha256', guesses: 3, listGuesses: 3, stoppedBy: 'done' });
  });

  it('salted scrypt: one derivation per candidate per row, stopped by the guess cap', async () => {
    const rows = [await row('a', 'letmein1', 'scrypt'), await row('b', 'letmein1', 'scrypt')];
    const r = await crackRows(rows, ['monkey12', 'letmein1', 'x'.repeat(8)], { budgetMs: 60_000, maxGuesses: 3, concurrency: 1 });
    // Candidate-major: monkey12→a, monkey12→b, letmein1→a (hit), then the cap.
    expect(r.recovered.map((x) => [x.username, x.guesses, x.candidate])).toEqual([['a', 3, 2]]);
    expect(r.schemes[0]).toMatchObject({ scheme: 'scrypt (N=16384, r=8, p=1)', guesses: 3, listGuesses: 6, stoppedBy: 'cap' });
  });

  it('stops at the budget (clock injected), plaintext rows need no guess, and schemes share the budget', async () => {
    let t = 0;
    const clock = () => (t += 400); // every look at the clock costs 400 "ms"
    const rows = [await row('p', 'whatever', 'plaintext'), await row('s', 'letmein1', 'scrypt')];
    const r = await crackRows(rows, ['a1234567', 'b1234567', 'letmein1'], { budgetMs: 1000, maxGuesses: 100, concurrency: 1, now: clock });
    expect(r.recovered).toEqual([{ username: 'p', password: 'whatever', storage: 'plaintext', guesses: 0, candidate: 0 }]);
    expect(r.schemes.map((s) => [s.storage, s.stoppedBy])).toEqual([
      ['plaintext', 'done'],
      ['scrypt', 'budget'],
    ]);
    expect(r.remaining).toEqual(['s']);
  });

  it('rejects nonsensical bounds', async () => {
    await expect(crackRows([], [], { budgetMs: 0, maxGuesses: 1, concurrency: 1 })).rejects.toThrow(RangeError);
    await expect(crackRows([], [], { budgetMs: 1, maxGuesses: 1, concurrency: 0 })).rejects.toThrow(RangeError);
  });

  it('formats rates and durations for the report', () => {
    expect(formatRate(31.2)).toBe('31 guesses/s');
    expect(formatRate(4.26)).toBe('4.3 guesses/s');
    expect(formatRate(1_900_000)).toBe('1.9 M guesses/s');
    expect(formatDuration(126)).toBe('2.1 min');
    expect(formatDuration(0.004)).toBe('4 ms');
  });
});
