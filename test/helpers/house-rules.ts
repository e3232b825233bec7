/**
 * The house rules of issue 13 as pure checks over a tree, so test/house.test.ts can run them on
 * the real repository and on small made-up trees (to show each rule can fail):
 *  - no source file outside test/ over {@link MAX_SOURCE_LINES} lines unless one of its first
 *    {@link REASON_WITHIN_LINES} lines states why ("one concept: …, N lines because …");
 *  - docs/architecture.md names every top-level folder and every source folder, and every folder
 *    or file it names in backticks exists.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** The line limit of a source file without a stated reason. */
export const MAX_SOURCE_LINES = 450;
/** The stated reason must be within this many lines of the top. */
export const REASON_WITHIN_LINES = 5;
/** What counts as source code. */
export const SOURCE_FILE = /\.(ts|mts|cts|mjs|cjs|js|py|sh)$/;
/** The stated reason for a long file: "one concept: <what>, <N> lines because <why>". */
export const STATED_REASON = /one concept: .+, \d+ lines because \S/;

/** Never part of the house: dependencies, builds, generated output, local state. */
const NOT_THE_HOUSE = new Set(['node_modules', 'dist', '.git', '.secchat', 'coverage', '.stryker-tmp', 'reports/out', 'reports/mutation']);

/** One file of the tree: its path from the repository root (with `/`) and its text. */
export interface TreeFile {
  file: string;
  text: string;
}

/** Lines of a text as `wc -l` counts them (a final line without a newline counts too). */
export function lineCount(text: string): number {
  if (text === '') return 0;
  const n = text.split('\n').length;
  return text.endsWith('\n') ? n - 1 : n;
}

/**
 * Source files outside test/ over the limit without a stated reason in their first lines.
 * @returns "path (N lines)" per offending file, sorted
 */
export function oversizedWithoutReason(files: TreeFile[], limit = MAX_SOURCE_LINES): string[] {
  return files
    .filter((f) => SOURCE_FILE.test(f.file) && !f.file.startsWith('test/'))
    .filter((f) => lineCount(f.text) > limit)
    .filter((f) => !STATED_REASON.test(f.text.split('\n').slice(0, REASON_WITHIN_LINES).join('\n')))
    .map((f) => `${f.file} (${lineCount(f.text)} lines)`)
    .sort();
}

/**
 * Folders the architecture document must describe: every top-level folder, and every folder that
 * holds source files — except below test/ where only test/helpers/ and test/mutation/ count
 * (test/fixtures/ holds programs and data, not modules of the house).
 * @param folders every folder of the tree, from the root, without a trailing slash
 */
export function foldersToDescribe(files: TreeFile[], folders: string[]): string[] {
  const out = new Set(folders.filter((d) => !d.includes('/') && !d.startsWith('.')));
  for (const f of files) {
    if (!SOURCE_FILE.test(f.file)) continue;
    const dir = path.posix.dirname(f.file);
    if (dir === '.' || dir.startsWith('test/fixtures')) continue;
    out.add(dir);
  }
  return [...out].sort();
}

/** Backticked spans of a Markdown text, fenced blocks included (the tree sketch names folders). */
export function backticked(markdown: string): string[] {
  const spans = [...markdown.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!.trim());
  const fenced = [...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].flatMap((m) => m[1]!.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? ''));
  return [...spans, ...fenced].filter(Boolean);
}

/** A backticked span that names a path of the tree: a folder (`a/b/`) or a file with a known extension. */
export function namedPath(span: string): { kind: 'folder' | 'file'; path: string } | null {
  if (/[\s<>*{}|$()=,:]/.test(span)) return null; // commands, globs, code
  if (/^[\w.-]+(\/[\w.-]+)*\/$/.test(span)) return { kind: 'folder', path: span.slice(0, -1) };
  if (/^([\w.-]+\/)*[\w.-]+\.(ts|mts|mjs|js|py|md|ya?ml|txt)$/.test(span)) return { kind: 'file', path: span };
  return null;
}

/**
 * What is wrong between the architecture document and the tree.
 * A file named without a folder (`registry.ts` in the core/tls paragraph) must exist somewhere in
 * the tree; one named with its folder must exist at that path. Generated folders (`dist/`,
 * `reports/out/`) may be named though they are not part of the tree.
 * @returns one sentence per problem, sorted; empty when the document matches the tree
 */
export function architectureMismatches(doc: string, files: TreeFile[], folders: string[]): string[] {
  const problems: string[] = [];
  const fileSet = new Set(files.map((f) => f.file));
  const baseNames = new Set(files.map((f) => path.posix.basename(f.file)));
  const folderSet = new Set(folders);
  for (const span of new Set(backticked(doc))) {
    const named = namedPath(span);
    if (!named) continue;
    if (named.kind === 'folder' && !folderSet.has(named.path) && !NOT_THE_HOUSE.has(named.path)) problems.push(`names folder ${named.path}/, which does not exist`);
    if (named.kind === 'file') {
      const ok = named.path.includes('/') ? fileSet.has(named.path) : baseNames.has(named.path);
      if (!ok) problems.push(`names file ${named.path}, which does not exist`);
    }
  }
  const mentioned = new Set(backticked(doc).map(namedPath).filter((n) => n?.kind === 'folder').map((n) => n!.path));
  for (const d of foldersToDescribe(files, folders)) {
    if (!mentioned.has(d)) problems.push(`does not describe folder ${d}/ (name it as \`${d}/\`)`);
  }
  return problems.sort();
}

/**
 * The repository's files and folders, without dependencies, builds and generated output.
 * @param root the repository root
 */
export function readTree(root: string): { files: TreeFile[]; folders: string[] } {
  const files: TreeFile[] = [];
  const folders: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(path.join(root, dir))) {
      const rel = dir ? `${dir}/${name}` : name;
      if (NOT_THE_HOUSE.has(name) || NOT_THE_HOUSE.has(rel)) continue;
      const st = statSync(path.join(root, rel));
      if (st.isDirectory()) {
        folders.push(rel);
        walk(rel);
      } else if (st.isFile()) {
        files.push({ file: rel, text: SOURCE_FILE.test(name) || name.endsWith('.md') ? readFileSync(path.join(root, rel), 'utf8') : '' });
      }
    }
  };
  walk('');
  return { files, folders };
}
