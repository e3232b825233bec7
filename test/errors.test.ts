import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, SecchatError, UsageError, exitCodeFor } from '../core/errors.ts';

describe('errors module', () => {
  it('documents every code in docs/errors.md, once', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    for (const code of Object.values(ERROR_CODES)) expect(doc.split(`\`${code}\``).length - 1, code).toBe(1);
  });
  it('maps bad input to exit 2 and everything else to 1', () => {
    expect(exitCodeFor(new UsageError(ERROR_CODES.USAGE, 'x'))).toBe(2);
    expect(exitCodeFor(new SecchatError(ERROR_CODES.PROFILE_INVALID, 'x'))).toBe(2);
    expect(exitCodeFor(new SecchatError(ERROR_CODES.NETWORK, 'x'))).toBe(1);
    expect(exitCodeFor(new Error('x'))).toBe(1);
  });
  it('keeps codes unique', () => {
    const codes = Object.values(ERROR_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^SECCHAT_ERR_[A-Z_]+$/);
  });
});
