/**
 * Username rules: one canonical form per name (NFKC + case folding), so look-alikes and other
 * cases cannot impersonate; control and bidi characters refused outright; limits checked before
 * normalizing.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_RAW_USERNAME_UNITS, foldUsername, normalizeUsername } from '../core/usernames.ts';

describe('normalizeUsername', () => {
  it.each([
    ['alice', 'alice'],
    ['ALICE', 'alice'],
    ['Ａｌｉｃｅ', 'alice'], // fullwidth (NFKC)
    ['ａＬｉｃｅ', 'alice'],
    ['\u212Aelvin', 'kelvin'], // KELVIN SIGN folds to k
    ['ﬁona', 'fiona'], // ligature
    ['STRAẞE', 'strasse'], // capital sharp s folds to "ss"
    ['bob_2.x-y', 'bob_2.x-y'],
  ])('%s is %s', (raw, canonical) => {
    expect(normalizeUsername(raw)).toEqual({ ok: true, username: canonical });
  });

  it.each([
    ['', /empty/],
    ['al\u0000ice', /control or bidirectional/],
    ['alice\u001b[31m', /control or bidirectional/],
    ['\u202Eecila', /control or bidirectional/], // RIGHT-TO-LEFT OVERRIDE
    ['ali\u2066ce', /control or bidirectional/],
    ['alice\u0085', /control or bidirectional/], // C1 NEL
    ['аlice', /may hold only/], // Cyrillic а: a confusable, refused
    ['ali ce', /may hold only/],
    ['.alice', /starting with a letter or digit/],
    ['a\u200Bb', /may hold only/], // zero-width space
    ['x'.repeat(33), /longer than 32/],
    ['x'.repeat(MAX_RAW_USERNAME_UNITS + 1), /longer than 32/],
  ])('refuses %j', (raw, why) => {
    const r = normalizeUsername(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
  });

  it('honours a configured maximum length', () => {
    expect(normalizeUsername('abcdef', { maxChars: 5 }).ok).toBe(false);
    expect(normalizeUsername('abcde', { maxChars: 5 })).toEqual({ ok: true, username: 'abcde' });
  });

  it('refuses input over the raw cap before normalizing, whatever the configured maximum', () => {
    const big = { maxChars: 1000 };
    expect(normalizeUsername('x'.repeat(MAX_RAW_USERNAME_UNITS), big)).toEqual({ ok: true, username: 'x'.repeat(MAX_RAW_USERNAME_UNITS) });
    expect(normalizeUsername('x'.repeat(MAX_RAW_USERNAME_UNITS + 1), big)).toEqual({ ok: false, error: `username longer than ${MAX_RAW_USERNAME_UNITS} characters` });
  });

  it('never echoes the raw input in its error (it may hold escape sequences)', () => {
    const r = normalizeUsername('\u001b]0;pwned\u0007');
    expect(r.ok || r.error.includes('\u001b')).toBe(false);
  });

  it('property: a canonical name is its own canonical form, and only uses the allowed characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (raw) => {
        const r = normalizeUsername(raw);
        if (!r.ok) return;
        expect(r.username).toMatch(/^[a-z0-9][a-z0-9_.-]{0,31}$/);
        expect(normalizeUsername(r.username)).toEqual(r);
        expect(foldUsername(r.username)).toBe(r.username);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: names that differ only in case or width are one name', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,20}$/), (name) => {
        const upper = name.toUpperCase();
        const wide = [...name].map((ch) => (/[a-z0-9]/.test(ch) ? String.fromCodePoint(ch.codePointAt(0)! + 0xfee0) : ch)).join('');
        expect(normalizeUsername(upper)).toEqual({ ok: true, username: name });
        expect(normalizeUsername(wide)).toEqual({ ok: true, username: name });
      }),
    );
  });
});
