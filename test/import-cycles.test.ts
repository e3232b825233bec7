/**
 * No two top-level folders import each other (issue 13 item 4): the house is layered (core under
 * everything; reports and attacks both on the result model; cli on top). Every import form counts —
 * static, `import type`, `export … from` and dynamic `import('…')` — because a type-only cycle is
 * still a cycle in the design, and a dynamic one still loads the other folder.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', 'dist', '.git', '.secchat', 'coverage']);

/** Relative module specifiers of one source text (comments are not stripped: a commented import is rare and harmless to over-count). */
export function importSpecifiers(source: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[;\s])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[;\s])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const m of source.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out.filter((s) => s.startsWith('.'));
}

/** Folder → folders it imports, with one example file per edge. */
export function folderGraph(files: Array<{ file: string; source: string }>): Map<string, Map<string, string>> {
  const g = new Map<string, Map<string, string>>();
  for (const { file, source } of files) {
    const from = file.split('/')[0];
    for (const spec of importSpecifiers(source)) {
      const to = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).split('/')[0];
      if (to === from || to === '..') continue;
      if (!g.has(from)) g.set(from, new Map());
      if (!g.get(from)!.has(to)) g.get(from)!.set(to, file);
    }
  }
  return g;
}

/** Pairs of folders that import each other, as "a ↔ b (a/x.ts, b/y.ts)". */
export function mutualImports(g: Map<string, Map<string, string>>): string[] {
  const out: string[] = [];
  for (const [a, tos] of g) for (const [b, fileA] of tos) {
    const fileB = g.get(b)?.get(a);
    if (fileB && a < b) out.push(`${a} ↔ ${b} (${fileA} imports ${b}/, ${fileB} imports ${a}/)`);
  }
  return out;
}

function sourceFiles(dir = ''): Array<{ file: string; source: string }> {
  const out: Array<{ file: string; source: string }> = [];
  for (const name of readdirSync(path.join(ROOT, dir))) {
    if (SKIP.has(name)) continue;
    const rel = dir ? `${dir}/${name}` : name;
    const st = statSync(path.join(ROOT, rel));
    if (st.isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.(ts|mts|mjs)$/.test(name) && dir) out.push({ file: rel, source: readFileSync(path.join(ROOT, rel), 'utf8') });
  }
  return out;
}

describe('import graph between top-level folders', () => {
  it('the parser sees every import form', () => {
    const src = [
      "import { a } from '../core/x.ts';",
      "import type { B } from '../reports/results.ts';",
      "export { c } from '../server/y.ts';",
      "export type { D } from \"../client/z.ts\";",
      "import '../labs/side-effect.ts';",
      "const m = await import('../bench/run.ts');",
      "import fs from 'node:fs';",
      'import {\n  e,\n  f,\n} from "../cli/common.ts";',
    ].join('\n');
    expect(importSpecifiers(src).sort()).toEqual(['../bench/run.ts', '../cli/common.ts', '../client/z.ts', '../core/x.ts', '../labs/side-effect.ts', '../reports/results.ts', '../server/y.ts']);
  });

  it('a pair of folders importing each other is reported, a one-way edge is not', () => {
    const g = folderGraph([
      { file: 'attacks/matrix.ts', source: "import type { X } from '../reports/results.ts';" },
      { file: 'reports/html.ts', source: "import type { Outcome } from '../attacks/types.ts';" },
      { file: 'cli/main.ts', source: "import { y } from '../core/version.ts';" },
    ]);
    expect(mutualImports(g)).toEqual(['attacks ↔ reports (attacks/matrix.ts imports reports/, reports/html.ts imports attacks/)']);
  });

  it('no two top-level folders of the repository import each other', () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(100);
    expect(mutualImports(folderGraph(files))).toEqual([]);
  });
});

/**
 * Attacks never import each other (STYLE.md lesson 3): no file of attacks/plugins/ imports another
 * plugin, and no target variant (a module attacks/targets/registry.ts imports) imports another
 * variant or a plugin. What two attacks share lives in attacks/kit/, attacks/retro/ or a
 * non-variant module of attacks/targets/.
 */
export function attackCrossImports(files: Array<{ file: string; source: string }>, attacks: Set<string>): string[] {
  const out: string[] = [];
  for (const { file, source } of files) {
    if (!attacks.has(file)) continue;
    for (const spec of importSpecifiers(source)) {
      const to = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      if (to !== file && attacks.has(to)) out.push(`${file} imports ${to}`);
    }
  }
  return out;
}

describe('attacks never import each other', () => {
  const attackModules = (files: Array<{ file: string; source: string }>) => {
    const registry = files.find((f) => f.file === 'attacks/targets/registry.ts')!;
    const variants = importSpecifiers(registry.source).map((s) => path.posix.normalize(path.posix.join('attacks/targets', s))).filter((f) => f.startsWith('attacks/targets/') && f !== 'attacks/targets/types.ts');
    return new Set([...files.filter((f) => f.file.startsWith('attacks/plugins/')).map((f) => f.file), ...variants]);
  };

  it('a plugin or variant importing another is reported; one importing the kit is not', () => {
    const files = [
      { file: 'attacks/targets/gallery.ts', source: "import { galleryVerdict } from '../plugins/mitm.ts';\nimport { x } from '../kit/gallery-verdict.ts';" },
      { file: 'attacks/targets/on-path.ts', source: "import { y } from './mitm.ts';\nimport { z } from './evidence.ts';" },
      { file: 'attacks/plugins/mitm.ts', source: "import { w } from '../kit/evidence.ts';" },
    ];
    const attacks = new Set(['attacks/plugins/mitm.ts', 'attacks/targets/gallery.ts', 'attacks/targets/on-path.ts', 'attacks/targets/mitm.ts']);
    expect(attackCrossImports(files, attacks)).toEqual(['attacks/targets/gallery.ts imports attacks/plugins/mitm.ts', 'attacks/targets/on-path.ts imports attacks/targets/mitm.ts']);
  });

  it('no plugin or target variant of the repository imports another', () => {
    const files = sourceFiles('attacks');
    const attacks = attackModules(files);
    expect(attacks.has('attacks/plugins/mitm.ts')).toBe(true);
    expect(attacks.has('attacks/targets/mitm.ts')).toBe(true);
    expect(attackCrossImports(files, attacks)).toEqual([]);
  });
});
