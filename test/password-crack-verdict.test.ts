/**
 * The password-crack verdict (attacks/kit/password-crack-verdict.ts) from crafted crack results:
 * succeeded only when a password was recovered or a stolen verifier logged in; blocked naming what
 * held (pepper, thief's budget, the whole list, the time box or the cap); no verdict when an
 * account's hashes met no guess. The guess rate (wall-clock) never changes the outcome. The attack
 * itself runs end to end in test/password-crack.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { budgetText, formatDuration, formatRate, noAccountsVerdict, passwordCrackVerdict, type CrackSetting, type VerifierLogin } from '../attacks/kit/password-crack-verdict.ts';
import type { CrackResult, RecoveredPassword, SchemeReport } from '../attacks/password-cracker.ts';
import type { StoredUser } from '../server/user-store.ts';
import type { Evidence } from '../attacks/types.ts';

const SETTING: CrackSetting = { budgetMs: 600, maxGuesses: 200_000, concurrency: 2, cpus: 4 };
const CANDIDATES = 4000;
const SCRYPT = 'scrypt (N=16384, r=8, p=1)';
const extra = (): Evidence[] => [{ kind: 'conversation', detail: 'alice → bob' }];

function row(username: string, storage: StoredUser['storage'], o: Partial<StoredUser> = {}): StoredUser {
  if (storage === 'scrypt') return { username, storage, salt: 'ab'.repeat(16), hash: 'cd'.repeat(32), params: '{"N":16384,"r":8,"p":1}', ...o };
  return { username, storage, salt: '', hash: storage === 'plaintext' ? `pw-of-${username}` : 'ef'.repeat(32), params: '', ...o };
}
const stolenOf = (rows: StoredUser[]) => ({ rows, files: ['secchat.db', 'secchat.db-wal'] });

function sha(o: Partial<SchemeReport> = {}): SchemeReport {
  return { scheme: 'sha256', storage: 'sha256', users: ['alice', 'bob'], guesses: 4000, elapsedMs: 20, guessesPerSecond: 200_000, listGuesses: 4000, listSeconds: 0.02, stoppedBy: 'done', ...o };
}
function slow(o: Partial<SchemeReport> = {}): SchemeReport {
  return { scheme: SCRYPT, storage: 'scrypt', users: ['alice', 'bob'], guesses: 12, elapsedMs: 600, guessesPerSecond: 20, listGuesses: 8000, listSeconds: 400, stoppedBy: 'budget', ...o };
}
function thief(o: Partial<NonNullable<SchemeReport['thief']>> = {}, s: Partial<SchemeReport> = {}): SchemeReport {
  const t = { perSecond: 25, samplesMs: [40, 41.25, 39.5], budgetCoreSeconds: 86_400, beyond: [], ...o };
  return slow({ guesses: 1, elapsedMs: 40, guessesPerSecond: 25, listSeconds: 320, stoppedBy: 'done', thief: t, ...s });
}
function plainScheme(users = ['alice', 'bob']): SchemeReport {
  return { scheme: 'plaintext', storage: 'plaintext', users, guesses: 0, elapsedMs: 0.01, guessesPerSecond: null, listGuesses: 0, listSeconds: 0, stoppedBy: 'done' };
}
function crack(schemes: SchemeReport[], recovered: RecoveredPassword[] = [], all = ['alice', 'bob']): CrackResult {
  const found = new Set(recovered.map((r) => r.username));
  return { recovered, remaining: all.filter((u) => !found.has(u)), schemes, guesses: schemes.reduce((t, s) => t + s.guesses, 0), elapsedMs: schemes.reduce((t, s) => t + s.elapsedMs, 0) };
}
const verdict = (c: CrackResult, rows: StoredUser[], logins: VerifierLogin[] = []) => passwordCrackVerdict(c, CANDIDATES, stolenOf(rows), logins, SETTING, extra());
const detailOf = (ev: Evidence[], kind: string) => ev.filter((e) => e.kind === kind).map((e) => e.detail);
const shaRows = [row('alice', 'sha256'), row('bob', 'sha256')];
const scryptRows = [row('alice', 'scrypt'), row('bob', 'scrypt')];
const aliceSha: RecoveredPassword = { username: 'alice', password: 'sunshine2024', storage: 'sha256', guesses: 1234, candidate: 1234 };
const aliceThief: RecoveredPassword = { username: 'alice', password: 'sunshine2024', storage: 'scrypt', guesses: 2467, candidate: 1234, thiefSeconds: 98.68, skipped: 2466 };

describe('noAccountsVerdict', () => {
  it('is an error naming the empty database, with the run\'s evidence', () => {
    expect(noAccountsVerdict(extra())).toEqual({
      outcome: 'error',
      reason: 'the stolen database held no accounts: the conversation did not register anyone',
      summary: 'no accounts to steal',
      impact: [],
      evidence: extra(),
      negotiated: null,
    });
  });
});

describe('passwordCrackVerdict: succeeded only on a recovered password or a login', () => {
  it('plaintext rows: both passwords read, no guess, no rate', () => {
    const plainRows = [row('alice', 'plaintext'), row('bob', 'plaintext')];
    const rec: RecoveredPassword[] = [
      { username: 'alice', password: 'pw-of-alice', storage: 'plaintext', guesses: 0, candidate: 0 },
      { username: 'bob', password: 'pw-of-bob', storage: 'plaintext', guesses: 0, candidate: 0 },
    ];
    const v = verdict(crack([plainScheme()], rec), plainRows);
    expect(v.outcome).toBe('succeeded');
    expect(v.reason).toBe('the stolen database stores passwords in plaintext: the passwords of alice and bob read straight from the rows, no guessing needed');
    expect(v.summary).toBe('read 2 plaintext passwords');
    expect(v.impact).toEqual(['authentication', 'confidentiality']);
    expect(v.negotiated).toBeNull();
    expect(v.evidence).toEqual([
      { kind: 'stolen-database', detail: 'copied secchat.db and secchat.db-wal after the conversation: 2 accounts — alice (plaintext), bob (plaintext)' },
      { kind: 'wordlist', detail: 'attacks/wordlists/common-passwords.txt: 4,000 candidates the registration rules allow, tried in list order; fast hashes: every guess computed (600 ms box, at most 200,000 guesses)' },
      { kind: 'rate', detail: 'plaintext: no hashing — the rows hold the passwords' },
      { kind: 'recovered', detail: 'alice: password "pw-of-alice" read from the row' },
      { kind: 'recovered', detail: 'bob: password "pw-of-bob" read from the row' },
      { kind: 'lesson', detail: 'plaintext storage: stealing the database is stealing every password, strong or weak — store a salted, slow hash (scrypt, RFC 7914)' },
      ...extra(),
    ]);
    expect(v.data).toEqual({
      guessesPerSecond: null,
      guesses: 0,
      recovered: [
        { username: 'alice', password: 'pw-of-alice', storage: 'plaintext', guesses: 0, candidate: 0 },
        { username: 'bob', password: 'pw-of-bob', storage: 'plaintext', guesses: 0, candidate: 0 },
      ],
      candidates: 4000,
      budgetMs: 600,
      thiefBudgetCoreSeconds: null,
      concurrency: 2,
      schemes: [{ scheme: 'plaintext', users: ['alice', 'bob'], guesses: 0, elapsedMs: 0, guessesPerSecond: null, listGuesses: 0, listSeconds: 0, stoppedBy: 'done' }],
      verifierLogins: [],
    });
  });

  it('one plaintext row: "alice\'s password", "1 plaintext password"', () => {
    const v = verdict(crack([plainScheme(['alice'])], [{ username: 'alice', password: 'x', storage: 'plaintext', guesses: 0, candidate: 0 }], ['alice']), [row('alice', 'plaintext')]);
    expect(v.reason).toBe("the stolen database stores passwords in plaintext: alice's password read straight from the rows, no guessing needed");
    expect(v.summary).toBe('read 1 plaintext password');
  });

  it('sha256: alice cracked by real guesses; bob not in the list', () => {
    const v = verdict(crack([sha({ guesses: 4000, elapsedMs: 20 })], [aliceSha]), shaRows);
    expect(v.outcome).toBe('succeeded');
    expect(v.reason).toBe("cracked alice's password from the stolen sha256 hash after 1,234 guesses at 200 k guesses/s (it is candidate #1,234 of a common-password list)");
    expect(v.summary).toBe('cracked alice in 1,234 guesses');
    expect(detailOf(v.evidence, 'recovered')).toEqual(['alice: password "sunshine2024" — candidate #1,234, found after 1,234 sha256 guesses']);
    expect(detailOf(v.evidence, 'not-recovered')).toEqual(['bob: not recovered — not in the list (all 4,000 candidates tried)']);
    expect(detailOf(v.evidence, 'rate')).toEqual(['sha256: 4,000 guesses in 20 ms = 200 k guesses/s; the 4,000-candidate list (unsalted: one hash tests every account at once) takes 20 ms at that rate']);
    expect(detailOf(v.evidence, 'stolen-database')).toEqual(['copied secchat.db and secchat.db-wal after the conversation: 2 accounts — alice (sha256, no salt), bob (sha256, no salt)']);
    expect(detailOf(v.evidence, 'lesson')).toEqual(['unsalted SHA-256: a GPU tests billions of such hashes per second, each guess covers every account, and precomputed tables apply — store a salted, slow hash (scrypt, RFC 7914)']);
    expect(v.data!.guessesPerSecond).toBe(200_000);
    expect(v.data!.recovered).toEqual([{ username: 'alice', password: 'sunshine2024', storage: 'sha256', guesses: 1234, candidate: 1234 }]);
  });

  it('several cracked without a thief: the summary names them all and the fewest guesses', () => {
    const bob: RecoveredPassword = { username: 'bob', password: 'letmein1', storage: 'sha256', guesses: 7, candidate: 7 };
    const v = verdict(crack([sha()], [aliceSha, bob]), shaRows);
    expect(v.summary).toBe('cracked alice+bob in 7 guesses');
    expect(v.reason).toBe("cracked alice's password from the stolen sha256 hash after 1,234 guesses at 200 k guesses/s (it is candidate #1,234 of a common-password list); cracked bob's password from the stolen sha256 hash after 7 guesses at 200 k guesses/s (it is candidate #7 of a common-password list)");
    expect(detailOf(v.evidence, 'not-recovered')).toEqual([]);
  });

  it('scrypt under a thief\'s budget: alice within it, the match a real derivation', () => {
    const v = verdict(crack([thief()], [aliceThief]), scryptRows);
    expect(v.outcome).toBe('succeeded');
    expect(v.reason).toBe(`cracked alice's password from the stolen ${SCRYPT} hash: it is candidate #1,234 of a common-password list, 2,467 guesses at the measured 25 guesses/s per core — 1.6 min for a thief with one CPU core, within a budget of 24.0 h of one CPU core`);
    expect(v.summary).toBe('cracked alice: 1.6 min on 1 core');
    expect(detailOf(v.evidence, 'recovered')).toEqual(['alice: password "sunshine2024" — candidate #1,234; a thief reaches it after 2,467 guesses, 1.6 min on one core (the match checked with a real scrypt derivation; 2,466 guesses before it charged at the measured rate)']);
    expect(detailOf(v.evidence, 'not-recovered')).toEqual(['bob: not recovered — not in the list: no candidate reproduces the stolen hash']);
    expect(detailOf(v.evidence, 'rate')).toEqual([`${SCRYPT}: 25 guesses/s on one CPU core (median of 3 timed samples: 40.0 ms, 41.3 ms, 39.5 ms per guess); the 4,000-candidate list × 2 salted accounts takes a thief 5.3 min on one core — budget 24.0 h of one CPU core`]);
    expect(detailOf(v.evidence, 'wordlist')[0]).toBe("attacks/wordlists/common-passwords.txt: 4,000 candidates the registration rules allow, tried in list order; fast hashes: every guess computed (600 ms box, at most 200,000 guesses); slow hashes: the thief's budget decides — guesses that cannot match are charged at the measured rate, the matching candidate is checked with a real derivation against the stolen hash");
    expect(detailOf(v.evidence, 'stolen-database')).toEqual(['copied secchat.db and secchat.db-wal after the conversation: 2 accounts — alice (scrypt N=16384 r=8 p=1, 16-byte salt), bob (scrypt N=16384 r=8 p=1, 16-byte salt)']);
    expect(detailOf(v.evidence, 'lesson')).toEqual(["scrypt only slows the attacker down: at 25 guesses/s per core a password from a common list still falls within a thief's budget; only a password outside every list — a long random passphrase, which auth.passwordPolicy can require — or a pepper kept outside the database (auth.pepper) stops it"]);
    expect(v.data!.thiefBudgetCoreSeconds).toBe(86_400);
  });

  it('a thief recovery with no count of skipped guesses says 0; the slowest of several names the summary', () => {
    const bob: RecoveredPassword = { username: 'bob', password: 'x', storage: 'scrypt', guesses: 2, candidate: 1, thiefSeconds: 4000 };
    const v = verdict(crack([thief()], [{ ...aliceThief }, bob]), scryptRows);
    expect(v.summary).toBe('cracked alice+bob: 1.1 h on 1 core');
    expect(detailOf(v.evidence, 'recovered')[1]).toMatch(/; 0 guesses before it charged at the measured rate\)$/);
  });

  it('a stolen verifier that logs in is a success even with nothing cracked', () => {
    const logins: VerifierLogin[] = [
      { username: 'alice', ok: true, detail: 'logged in as alice with the stolen scrypt verifier' },
      { username: 'bob', ok: true, detail: 'logged in as bob with the stolen scrypt verifier' },
    ];
    const v = verdict(crack([thief()]), scryptRows, logins);
    expect(v.outcome).toBe('succeeded');
    expect(v.reason).toBe('the stolen verifiers log in directly (auth: challenge keys the proof with the stored value): logged in as alice and bob without any password');
    expect(v.summary).toBe('stolen verifier logs in: alice+bob');
    expect(detailOf(v.evidence, 'stolen-verifier-login')).toEqual(logins.map((l) => l.detail));
    expect(detailOf(v.evidence, 'lesson')[1]).toBe('challenge-response keyed with the stored value makes the database password-equivalent: stealing it is enough to log in, whatever the storage; SCRAM (RFC 5802) or OPAQUE (RFC 9807) avoid that');
    expect(v.data!.verifierLogins).toEqual([{ username: 'alice', ok: true }, { username: 'bob', ok: true }]);
  });

  it('one cracked by a thief and one by real fast guesses: the thief\'s time in the summary; the word list names the thief', () => {
    const bob: RecoveredPassword = { username: 'bob', password: 'x', storage: 'sha256', guesses: 2, candidate: 2 };
    const v = verdict(crack([sha({ users: ['bob'] }), thief({}, { users: ['alice'] })], [aliceThief, bob]), [row('alice', 'scrypt'), row('bob', 'sha256')]);
    expect(v.summary).toBe('cracked alice+bob: 1.6 min on 1 core');
    expect(detailOf(v.evidence, 'wordlist')[0]).toMatch(/; slow hashes: the thief's budget decides/);
    expect(v.data!.thiefBudgetCoreSeconds).toBe(86_400);
  });

  it('cracked and logged in: both in the reason, the crack in the summary', () => {
    const v = verdict(crack([thief()], [aliceThief]), scryptRows, [{ username: 'bob', ok: true, detail: 'in' }]);
    expect(v.reason).toMatch(/^cracked alice's password .*; the stolen verifiers log in directly .*: logged in as bob without any password$/);
    expect(v.summary).toBe('cracked alice: 1.6 min on 1 core');
  });

  it('a summary is cut to 40 characters', () => {
    const many = ['alexandra', 'bartholomew', 'cassiopeia'].map((u, i): RecoveredPassword => ({ username: u, password: 'p', storage: 'sha256', guesses: 10 + i, candidate: 10 + i }));
    const v = verdict(crack([sha({ users: many.map((m) => m.username) })], many, many.map((m) => m.username)), many.map((m) => row(m.username, 'sha256')));
    expect(v.summary).toBe('cracked alexandra+bartholomew+cassiopeia'); // … in 10 guesses
    expect(v.summary).toHaveLength(40);
  });
});

describe('passwordCrackVerdict: what only looks like a success is not one', () => {
  it('a refused verifier login whose text mentions "logged in" is no success', () => {
    const v = verdict(crack([thief()]), scryptRows, [{ username: 'alice', ok: false, detail: 'login as alice with the stolen verifier refused: logged in elsewhere' }]);
    expect(v.outcome).toBe('blocked');
    expect(detailOf(v.evidence, 'lesson')).toHaveLength(1); // no password-equivalence lesson without a login
  });

  it('guesses made and the list not finished is no success, whatever was tried', () => {
    const v = verdict(crack([slow()]), scryptRows);
    expect(v.outcome).toBe('blocked');
    expect(v.impact).toEqual([]);
  });
});

describe('passwordCrackVerdict: blocked names what held', () => {
  it('every row peppered: blocked by the pepper, counting the real guesses', () => {
    const rows = shaRows.map((r) => ({ ...r, params: '{"pepper":true}' }));
    const v = verdict(crack([sha({ guesses: 3210 })]), rows);
    expect(v).toMatchObject({
      outcome: 'blocked',
      reason: 'the hashes are peppered (auth.pepper: an HMAC key kept outside the database): 3,210 real guesses, none reproduced a stolen hash — the stolen file alone checks no guess, even for a password in the list',
      summary: 'peppered: file alone uncrackable',
      impact: [],
    });
    expect(detailOf(v.evidence, 'pepper')).toEqual(['alice, bob: the rows say their hashes are peppered — keyed with a secret the stolen file does not contain, so no guess can be checked against them offline']);
    expect(detailOf(v.evidence, 'not-recovered')).toEqual([
      'alice: not recovered — peppered: no candidate can be checked without the key kept outside the database',
      'bob: not recovered — peppered: no candidate can be checked without the key kept outside the database',
    ]);
  });

  it('one row peppered of two: the pepper is in the evidence but does not decide', () => {
    const v = verdict(crack([sha()]), [shaRows[0]!, { ...shaRows[1]!, params: '{"pepper":true}' }]);
    expect(v.summary).toBe('no password in the word list');
    expect(detailOf(v.evidence, 'pepper')).toEqual(['bob: the rows say their hashes are peppered — keyed with a secret the stolen file does not contain, so no guess can be checked against them offline']);
    expect(detailOf(v.evidence, 'not-recovered')).toEqual([
      'alice: not recovered — not in the list (all 4,000 candidates tried)',
      'bob: not recovered — peppered: no candidate can be checked without the key kept outside the database',
    ]);
  });

  it('a row whose params merely mention a pepper off is not peppered', () => {
    const v = verdict(crack([sha()]), shaRows.map((r) => ({ ...r, params: '{"pepper":false}' })));
    expect(v.summary).toBe('no password in the word list');
    expect(detailOf(v.evidence, 'pepper')).toEqual([]);
  });

  it('a thief\'s budget too small: blocked, naming how far each password is', () => {
    const s = thief({ budgetCoreSeconds: 1, beyond: [{ username: 'alice', candidate: 1234, seconds: 98.68 }] }, { stoppedBy: 'thief-budget' });
    const v = verdict(crack([s]), scryptRows);
    expect(v).toMatchObject({
      outcome: 'blocked',
      reason: `${SCRYPT}: 25 guesses/s per core — alice's password is candidate #1,234, 1.6 min away: beyond the thief's budget of 1.0 s of one CPU core`,
      summary: "beyond the thief's budget",
    });
    expect(v.impact).toEqual([]);
    expect(detailOf(v.evidence, 'not-recovered')).toEqual([
      "alice: not recovered — candidate #1,234: 1.6 min on one core, beyond the thief's budget of 1.0 s of one CPU core",
      'bob: not recovered — not in the list: no candidate reproduces the stolen hash',
    ]);
  });

  it('two passwords beyond the thief\'s budget: both named', () => {
    const s = thief({ budgetCoreSeconds: 1, beyond: [{ username: 'alice', candidate: 5, seconds: 2 }, { username: 'bob', candidate: 9, seconds: 3 }] });
    expect(verdict(crack([s]), scryptRows).reason).toBe(`${SCRYPT}: 25 guesses/s per core — alice's password is candidate #5, 2.0 s away; bob's password is candidate #9, 3.0 s away: beyond the thief's budget of 1.0 s of one CPU core`);
  });

  it('no password in the list, judged by a thief: the whole list\'s time is named', () => {
    // No candidate can match, so the thief computes no guess: the measured rate still judges it.
    const v = verdict(crack([thief({}, { guesses: 0 })]), scryptRows);
    expect(v.impact).toEqual([]);
    expect(v).toMatchObject({
      outcome: 'blocked',
      reason: `no stored password is in the 4,000-candidate list: ${SCRYPT} at 25 guesses/s per core lets a thief run the whole list in 5.3 min, and it finds nothing`,
      summary: 'no password in the word list',
    });
  });

  it('a fast hash tried in full: blocked, the list had no stored password', () => {
    const v = verdict(crack([sha({ elapsedMs: 1500, guessesPerSecond: 2667 })]), shaRows);
    expect(v).toMatchObject({
      outcome: 'blocked',
      reason: 'sha256: 2,667 guesses/s — the 4,000-word list was tried in full (1.5 s) and no stored password is in it',
      summary: 'no password in the word list',
    });
    expect(v.impact).toEqual([]);
  });

  it('a salted hash tried in full: the list × the accounts', () => {
    const v = verdict(crack([slow({ stoppedBy: 'done', users: ['alice'] })], [], ['alice']), [row('alice', 'scrypt')]);
    expect(v.reason).toBe(`${SCRYPT}: 20 guesses/s — the 4,000-word list × 1 salted account was tried in full (600 ms) and no stored password is in it`);
    expect(detailOf(v.evidence, 'rate')).toEqual([`${SCRYPT}: 12 guesses in 600 ms = 20 guesses/s, 2 at a time on 4 CPUs; the 4,000-candidate list × 1 salted account (8,000 guesses) takes 6.7 min at that rate`]);
  });

  it('the time box ran out: slowed, not prevented', () => {
    const v = verdict(crack([slow()]), scryptRows);
    expect(v).toMatchObject({
      outcome: 'blocked',
      reason: `${SCRYPT}: 20 guesses/s — the 4,000-word list × 2 salted accounts would take 6.7 min; budget of 600 ms exhausted after 12 guesses — slowed, not prevented: a patient attacker runs the whole list, and only passwords outside it survive`,
      summary: 'not in 600 ms; list: 6.7 min',
    });
    expect(detailOf(v.evidence, 'not-recovered')).toEqual(['alice: not recovered — the 600 ms budget ran out first', 'bob: not recovered — the 600 ms budget ran out first']);
    expect(detailOf(v.evidence, 'lesson')).toEqual(["scrypt only slows the attacker down: at 20 guesses/s this whole list still falls in 6.7 min on one machine, so a weak password (a common word plus a year) is found given time; only a password outside every list — like bob's random one — survives"]);
    expect(v.data!.guessesPerSecond).toBe(20);
  });

  it('the guess cap was reached: named as such, on a fast hash', () => {
    const v = verdict(crack([sha({ stoppedBy: 'cap', guesses: 200_000, listSeconds: 12_000, guessesPerSecond: 1_234_567 })]), shaRows);
    expect(v.reason).toBe('sha256: 1.2 M guesses/s — the 4,000-word list would take 3.3 h; cap of 200,000 guesses reached after 200,000 guesses — slowed, not prevented: a patient attacker runs the whole list, and only passwords outside it survive');
    expect(v.summary).toBe('not in 600 ms; list: 3.3 h');
    expect(detailOf(v.evidence, 'not-recovered')[0]).toBe('alice: not recovered — the cap of 200,000 guesses was reached first');
  });

  it('a summary with a long list time is cut to 40 characters', () => {
    const v = verdict(crack([slow({ listSeconds: 1e16 })]), scryptRows);
    expect(v.summary).toBe('not in 600 ms; list: 115,740,740,741 day');
  });

  it('one CPU: "1 CPU", singular', () => {
    const v = passwordCrackVerdict(crack([slow()]), CANDIDATES, stolenOf(scryptRows), [], { ...SETTING, concurrency: 1, cpus: 1 }, []);
    expect(detailOf(v.evidence, 'rate')[0]).toContain(', 1 at a time on 1 CPU; ');
  });
});

describe('passwordCrackVerdict: no verdict when nothing was measured', () => {
  it('no guess completed on any hash: error', () => {
    const v = verdict(crack([slow({ guesses: 0, guessesPerSecond: null, listSeconds: null })]), scryptRows);
    expect(v).toMatchObject({ outcome: 'error', reason: 'no verdict: not one guess completed within the budget, so nothing was measured', summary: 'no guess completed', impact: [] });
    expect(detailOf(v.evidence, 'rate')).toEqual([`${SCRYPT}: no guess completed within the budget`]);
    expect(detailOf(v.evidence, 'not-recovered')[0]).toBe('alice: not recovered — no guess was made against it: the budget was spent before its turn');
    expect(detailOf(v.evidence, 'lesson')).toEqual(["scrypt only slows the attacker down: at the measured rate this whole list still falls in a bounded time on one machine, so a weak password (a common word plus a year) is found given time; only a password outside every list — like bob's random one — survives"]);
    expect(v.data!.guessesPerSecond).toBeNull();
  });

  it('an account whose hashes met no guess is not "blocked" because another scheme held', () => {
    const schemes = [sha({ users: ['alice'] }), slow({ users: ['bob'], guesses: 0, guessesPerSecond: null, listSeconds: null })];
    const v = verdict(crack(schemes), [row('alice', 'sha256'), row('bob', 'scrypt')]);
    expect(v).toMatchObject({
      outcome: 'error',
      reason: `no verdict: no guess was made against bob (${SCRYPT}): the budget was spent before their turn, so nothing shows their hashes resist`,
      summary: 'some hashes never tried',
    });
    expect(v.impact).toEqual([]);
  });

  it('untried accounts under two schemes: both schemes named', () => {
    const schemes = [sha({ users: ['carol'] }), slow({ users: ['alice'], guesses: 0, guessesPerSecond: null, listSeconds: null }), slow({ scheme: 'scrypt (N=1024, r=8, p=1)', users: ['bob'], guesses: 0, guessesPerSecond: null, listSeconds: null })];
    const v = verdict(crack(schemes, [], ['alice', 'bob', 'carol']), [row('alice', 'scrypt'), row('bob', 'scrypt'), row('carol', 'sha256')]);
    expect(v.reason).toBe(`no verdict: no guess was made against alice and bob (${SCRYPT}, scrypt (N=1024, r=8, p=1)): the budget was spent before their turn, so nothing shows their hashes resist`);
  });

  it('plaintext rows need no guess and are never "untried"', () => {
    const rec: RecoveredPassword = { username: 'alice', password: 'p', storage: 'plaintext', guesses: 0, candidate: 0 };
    expect(verdict(crack([plainScheme(['alice']), sha({ users: ['bob'] })], [rec]), [row('alice', 'plaintext'), row('bob', 'sha256')]).outcome).toBe('succeeded');
  });

  it('every untried account is named, each scheme once', () => {
    const schemes = [sha({ users: ['carol'] }), slow({ users: ['alice', 'bob'], guesses: 0, guessesPerSecond: null, listSeconds: null })];
    const v = verdict(crack(schemes, [], ['alice', 'bob', 'carol']), [row('alice', 'scrypt'), row('bob', 'scrypt'), row('carol', 'sha256')]);
    expect(v.reason).toBe(`no verdict: no guess was made against alice and bob (${SCRYPT}): the budget was spent before their turn, so nothing shows their hashes resist`);
  });
});

describe('passwordCrackVerdict: the wall-clock rate never decides', () => {
  const rates = [0.5, 20, 3e5, 5e7];
  it('the same crack at any measured rate: the same outcome, and the reason names the strongest storage that held', () => {
    for (const fast of rates) {
      for (const slowRate of rates) {
        const schemes = [sha({ users: ['carol'], guessesPerSecond: fast, elapsedMs: 4000 / fast * 1000 }), thief({ perSecond: slowRate }, { guessesPerSecond: slowRate })];
        const v = verdict(crack(schemes, [], ['alice', 'bob', 'carol']), [...scryptRows, row('carol', 'sha256')]);
        expect(v.outcome).toBe('blocked');
        expect(v.summary).toBe('no password in the word list');
        expect(v.reason).toMatch(new RegExp(`^no stored password is in the 4,000-candidate list: ${SCRYPT.replace(/[()]/g, '\\$&')} at `));
      }
    }
  });

  it('of two equal storages the first listed is named', () => {
    const other = slow({ scheme: 'scrypt (N=1024, r=8, p=1)', users: ['carol'], guessesPerSecond: 1, stoppedBy: 'done' });
    const v = verdict(crack([slow({ stoppedBy: 'done', guessesPerSecond: 900 }), other], [], ['alice', 'bob', 'carol']), [...scryptRows, row('carol', 'scrypt')]);
    expect(v.reason).toMatch(/^scrypt \(N=16384, r=8, p=1\): 900 guesses\/s/);
    const w = verdict(crack([other, slow({ stoppedBy: 'done', guessesPerSecond: 900 })], [], ['alice', 'bob', 'carol']), [...scryptRows, row('carol', 'scrypt')]);
    expect(w.reason).toMatch(/^scrypt \(N=1024, r=8, p=1\): 1\.0 guesses\/s/);
  });

  it('a fast hash listed after a slow one does not take its place', () => {
    const v = verdict(crack([slow({ stoppedBy: 'done', users: ['alice'] }), sha({ users: ['bob'] })]), [row('alice', 'scrypt'), row('bob', 'sha256')]);
    expect(v.reason).toMatch(/^scrypt \(N=16384/);
  });

  it('the overall rate in the data is guesses over the time of the schemes guessed', () => {
    const v = verdict(crack([plainScheme(['carol']), sha({ users: ['alice'], guesses: 4000, elapsedMs: 20 }), slow({ users: ['bob'], guesses: 12, elapsedMs: 580 })], [{ username: 'carol', password: 'p', storage: 'plaintext', guesses: 0, candidate: 0 }], ['alice', 'bob', 'carol']), [row('alice', 'sha256'), row('bob', 'scrypt'), row('carol', 'plaintext')]);
    expect(v.data!.guessesPerSecond).toBeCloseTo(4012 / 0.6, 6);
    expect((v.data!.schemes as Array<{ elapsedMs: number }>).map((s) => s.elapsedMs)).toEqual([0, 20, 580]);
  });

  it('elapsed times in the data are rounded to a tenth of a ms', () => {
    const v = verdict(crack([sha({ elapsedMs: 12.345 })]), shaRows);
    expect((v.data!.schemes as Array<{ elapsedMs: number }>)[0]!.elapsedMs).toBe(12.3);
  });
});

describe('formatRate, formatDuration, budgetText', () => {
  it('rates at each unit boundary', () => {
    expect(formatRate(1e6)).toBe('1.0 M guesses/s');
    expect(formatRate(999_999)).toBe('1000 k guesses/s');
    expect(formatRate(1e4)).toBe('10 k guesses/s');
    expect(formatRate(9999)).toBe('9,999 guesses/s');
    expect(formatRate(100)).toBe('100 guesses/s');
    expect(formatRate(99.6)).toBe('100 guesses/s');
    expect(formatRate(10)).toBe('10 guesses/s');
    expect(formatRate(9.96)).toBe('10.0 guesses/s');
    expect(formatRate(0.25)).toBe('0.3 guesses/s');
  });
  it('durations at each unit boundary', () => {
    expect(formatDuration(0)).toBe('1 ms');
    expect(formatDuration(0.0004)).toBe('1 ms');
    expect(formatDuration(0.9994)).toBe('999 ms');
    expect(formatDuration(1)).toBe('1.0 s');
    expect(formatDuration(59.9)).toBe('59.9 s');
    expect(formatDuration(60)).toBe('1.0 min');
    expect(formatDuration(3599)).toBe('60.0 min');
    expect(formatDuration(3600)).toBe('1.0 h');
    expect(formatDuration(172_799)).toBe('48.0 h');
    expect(formatDuration(172_800)).toBe('2 days');
    expect(formatDuration(86_400 * 1500)).toBe('1,500 days');
  });
  it('a thief\'s budget', () => {
    expect(budgetText(86_400)).toBe('24.0 h of one CPU core');
  });
});
