/**
 * The house stays as issue 13 left it: no source file over 450 lines without a stated reason, and
 * docs/architecture.md matching the tree both ways. Each rule runs on the repository and on small
 * made-up trees that break it, so a checker that let everything through would fail here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  architectureMismatches,
  backticked,
  foldersToDescribe,
  lineCount,
  MAX_SOURCE_LINES,
  namedPath,
  oversizedWithoutReason,
  readTree,
  type TreeFile,
} from './helpers/house-rules.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const lines = (n: number, head: string[] = []) => [...head, ...Array.from({ length: n - head.length }, (_, i) => `const x${i} = ${i};`)].join('\n') + '\n';

describe('no source file over 450 lines without a stated reason', () => {
  it('counts lines as wc -l does', () => {
    expect(lineCount('')).toBe(0);
    expect(lineCount('a\n')).toBe(1);
    expect(lineCount('a\nb')).toBe(2);
    expect(lineCount(lines(451))).toBe(451);
  });

  it('flags a long file, and only one without a reason in its first 5 lines', () => {
    const reason = '// one concept: the cipher-suite table, 451 lines because it is one row per IANA suite';
    const files: TreeFile[] = [
      { file: 'core/at-limit.ts', text: lines(MAX_SOURCE_LINES) },
      { file: 'core/too-long.ts', text: lines(MAX_SOURCE_LINES + 1) },
      { file: 'core/reasoned.ts', text: lines(MAX_SOURCE_LINES + 1, ['/**', ' * The table.', reason]) },
      { file: 'core/reason-too-late.ts', text: lines(MAX_SOURCE_LINES + 1, ['/**', '1', '2', '3', '4', reason]) },
      { file: 'core/vague-reason.ts', text: lines(MAX_SOURCE_LINES + 1, ['// one concept: many things']) },
      { file: 'scripts/build.mjs', text: lines(MAX_SOURCE_LINES + 1) },
      { file: 'test/long.test.ts', text: lines(MAX_SOURCE_LINES + 100) },
      { file: 'docs/long.md', text: lines(MAX_SOURCE_LINES + 100) },
    ];
    expect(oversizedWithoutReason(files)).toEqual(['core/reason-too-late.ts (451 lines)', 'core/too-long.ts (451 lines)', 'core/vague-reason.ts (451 lines)', 'scripts/build.mjs (451 lines)']);
  });

  it('holds for the repository', () => {
    expect(oversizedWithoutReason(readTree(ROOT).files)).toEqual([]);
  });
});

describe('docs/architecture.md matches the tree', () => {
  it('reads folder and file names from backticks and the tree sketch, not commands or code', () => {
    expect(backticked('see `core/tls/` and `npm run bench`\n```\ncore/       shared\nbench/      benchmarks\n```\n')).toEqual(['core/tls/', 'npm run bench', 'core/', 'bench/']);
    expect(namedPath('core/tls/')).toEqual({ kind: 'folder', path: 'core/tls' });
    expect(namedPath('attacks/kit/position.ts')).toEqual({ kind: 'file', path: 'attacks/kit/position.ts' });
    expect(namedPath('registry.ts')).toEqual({ kind: 'file', path: 'registry.ts' });
    for (const notAPath of ['npm run bench', 'secchat explain <capture.pcap>', 'test/*.test.ts', 'client.verify: none', 'results.json', 'ChatServer.dbPath']) expect(namedPath(notAPath)).toBeNull();
  });

  it('wants every top-level folder and every source folder, not test fixtures', () => {
    const files: TreeFile[] = ['core/a.ts', 'core/tls/b.ts', 'test/x.test.ts', 'test/helpers/h.ts', 'test/fixtures/targets/naive/server.py', 'labs/01-x/guide.md', 'vitest.config.ts'].map((file) => ({ file, text: '' }));
    const folders = ['core', 'core/tls', 'test', 'test/helpers', 'test/fixtures', 'test/fixtures/targets', 'test/fixtures/targets/naive', 'labs', 'labs/01-x', 'docs', '.ci'];
    expect(foldersToDescribe(files, folders)).toEqual(['core', 'core/tls', 'docs', 'labs', 'test', 'test/helpers']);
  });

  it('finds a missing folder, a named file or folder that is gone, and an undescribed folder', () => {
    const files: TreeFile[] = ['core/frames.ts', 'core/tls/registry.ts', 'server/session.ts'].map((file) => ({ file, text: '' }));
    const folders = ['core', 'core/tls', 'server'];
    const good = '`core/` holds `core/frames.ts`; `core/tls/` holds `registry.ts`. `server/`: `session.ts`.';
    expect(architectureMismatches(good, files, folders)).toEqual([]);
    expect(architectureMismatches(good.replace('`core/tls/` holds', 'it holds'), files, folders)).toEqual(['does not describe folder core/tls/ (name it as `core/tls/`)']);
    expect(architectureMismatches(`${good} Built into \`dist/\`.`, files, folders)).toEqual([]);
    expect(architectureMismatches(`${good} \`core/old.ts\`, \`gone.ts\` and \`attacks/\`.`, files, folders)).toEqual([
      'names file core/old.ts, which does not exist',
      'names file gone.ts, which does not exist',
      'names folder attacks/, which does not exist',
    ]);
  });

  it('holds for the repository', () => {
    const { files, folders } = readTree(ROOT);
    const doc = readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');
    expect(architectureMismatches(doc, files, folders)).toEqual([]);
  });
});
