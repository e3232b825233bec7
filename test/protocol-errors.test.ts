/**
 * The one table of wire error codes (core/protocol.ts PROTOCOL_ERRORS) against its documentation,
 * both ways, and against the code: a documented code nothing sends is as wrong as an undocumented
 * one. Also the SECCHAT_ERR_* codes (core/errors.ts) against docs/errors.md, both ways.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../core/errors.ts';
import { FRAME_ERRORS, PROTOCOL_ERRORS } from '../core/protocol.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const doc = (name: string) => readFileSync(path.join(ROOT, 'docs', name), 'utf8');

/** The first-column codes of the Markdown table under `heading` (up to the next heading). */
function tableCodes(markdown: string, heading: RegExp): string[] {
  const start = markdown.search(heading);
  expect(start, String(heading)).toBeGreaterThanOrEqual(0);
  const rest = markdown.slice(start).split('\n').slice(1);
  const end = rest.findIndex((l) => l.startsWith('#'));
  return (end < 0 ? rest : rest.slice(0, end)).map((l) => /^\| `([A-Za-z_]+)` \|/.exec(l)?.[1]).filter((c): c is string => !!c);
}

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    return statSync(path.join(ROOT, rel)).isDirectory() ? sources(rel) : name.endsWith('.ts') ? [readFileSync(path.join(ROOT, rel), 'utf8')] : [];
  });
}

describe('wire error codes', () => {
  const codes = Object.values(PROTOCOL_ERRORS);

  it('are unique snake_case', () => {
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });

  it('match the "Error codes" table of docs/protocol.md, both ways', () => {
    const documented = tableCodes(doc('protocol.md'), /^## Error codes/m);
    expect(new Set(documented).size, 'documented twice').toBe(documented.length);
    expect([...documented].sort()).toEqual([...codes].sort());
  });

  it('the frame decoder’s codes are the ones docs/protocol.md lists for framing', () => {
    const framing = doc('protocol.md').split('\n').map((l) => /^\| `([a-z_]+)` \| a line /.exec(l)?.[1]).filter(Boolean);
    expect(framing.sort()).toEqual(Object.values(FRAME_ERRORS).sort());
    for (const c of Object.values(FRAME_ERRORS)) expect(codes).toContain(c);
  });

  it('each is sent by some module (no documented code that nothing uses)', () => {
    const code = ['core', 'server', 'client', 'attacks'].flatMap(sources).join('\n');
    const frameKey = Object.fromEntries(Object.entries(FRAME_ERRORS).map(([k, v]) => [v, k]));
    const unused = Object.entries(PROTOCOL_ERRORS)
      .filter(([key, value]) => !code.includes(`PROTOCOL_ERRORS.${key}`) && !(frameKey[value] && code.includes(`FRAME_ERRORS.${frameKey[value]}`)))
      .map(([, value]) => value);
    expect(unused).toEqual([]);
  });
});

describe('SECCHAT_ERR_* codes', () => {
  it('match the table of docs/errors.md, both ways', () => {
    const documented = tableCodes(doc('errors.md'), /^# secchat error codes/m);
    expect(new Set(documented).size, 'documented twice').toBe(documented.length);
    expect([...documented].sort()).toEqual([...Object.values(ERROR_CODES)].sort());
  });
});
