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
import { CRACK_BUDGET_MS, formatDuration, formatRate } from '../attacks/plugins/password-crack.ts';
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
    expect(cell.reason).toMatch(/^cracked alice's password from the stolen sha256 hash after [\d,]+ guesses at [\d.]+ [kM]? ?guesses\/s/);
    const recovered = cell.data!.recovered as Recovered[];
    expect(recovered.map((r) => [r.username, r.password])).toEqual([['alice', LAB_USERS.alice]]);
    expect(recovered[0].guesses).toBeGreaterThan(300);
    expect(cell.data!.guessesPerSecond as number).toBeGreaterThan(1000);
    expect(cell.evidence.find((e) => e.kind === 'not-recovered')?.detail).toMatch(/^bob: not recovered — not in the list \(all [\d,]+ candidates tried\)/);
    expect(cell.negotiated?.protocol).toBe('TLSv1.3');
  });

  it('scrypt storage: blocked by the time budget, with the measured rate and the time the list would need', async () => {
    const cell = await runAttack(attack, profileOf({ name: 'store-scrypt', client: { verify: 'pin', pin: 'server' } }), pki);
    expect(cell.outcome, cell.reason).toBe('blocked');
    const m = cell.reason.match(/^scrypt \(N=16384, r=8, p=1\): ([\d.,]+) guesses\/s — the ([\d,]+)-word list × 2 salted accounts would take ([\d.,]+ (?:s|min|h|days)); budget of ([\d.,]+ (?:ms|s)) exhausted after ([\d,]+) guesses — slowed, not prevented: a patient attacker runs the whole list, and only passwords outside it survive$/);
    expect(m, cell.reason).not.toBeNull();
    const data = cell.data as { guesses: number; guessesPerSecond: number; recovered: unknown[] };
    expect(m![4]).toBe(formatDuration(CRACK_BUDGET_MS / 1000));
    expect(Number(m![5].replace(/,/g, ''))).toBe(data.guesses);
    expect(data.recovered).toEqual([]);
    // The rate is what was measured: guesses over the time spent, about the budget.
    expect(data.guessesPerSecond).toBeGreaterThan(0.5);
    expect(data.guessesPerSecond).toBeLessThan(5000);
    expect(data.guesses / data.guessesPerSecond).toBeGreaterThan((CRACK_BUDGET_MS / 1000) * 0.9);
    expect(formatRate(data.guessesPerSecond)).toBe(`${m![1]} guesses/s`);
    expect(cell.evidence.some((e) => e.kind === 'lesson' && /scrypt only slows the attacker down/.test(e.detail))).toBe(true);
    expect(cell.summary.length).toBeLessThanOrEqual(40);
  });

  it('challenge login: the stolen scrypt verifiers log in without cracking', async () => {
    const cell = await runAttack(attack, profileOf({ name: 'store-challenge', transport: 'plain', auth: { storage: 'scrypt', method: 'challenge' } }), pki);
    expect(cell.outcome, cell.reason).toBe('succeeded');
    expect(cell.reason).toMatch(/stolen verifiers log in directly .* logged in as alice and bob without any password/);
    expect(cell.data!.verifierLogins).toEqual([
      { username: 'alice', ok: true },
      { username: 'bob', ok: true },
    ]);
    expect(cell.data!.recovered).toEqual([]);
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
