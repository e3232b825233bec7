/**
 * The HTML report, rendered from a real matrix run (3 profiles × the 4 MITM attacks over loopback
 * TLS) and opened in headless Chromium: each grid cell shows the outcome word of its profile ×
 * attack, the page makes no network request, and hostile strings in evidence stay text. Plus the
 * pure parts: escaping, artifact links, the comparison of two runs, and the CLI wiring.
 *
 * The browser test needs Debian's `chromium` at /usr/bin/chromium (`.ci/run` installs it); when it
 * is missing the browser part is skipped with a message saying so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { runMatrix } from '../attacks/matrix.ts';
import { ATTACKS } from '../attacks/registry.ts';
import type { Outcome } from '../attacks/types.ts';
import { main } from '../cli/main.ts';
import type { CliIo } from '../cli/common.ts';
import { initPki, loadPki, type PkiMaterial } from '../core/pki.ts';
import { effectiveSettings, loadProfile } from '../core/profile.ts';
import { changeKind, compareResults, renderCompareHtml, renderCompareMarkdown, renderCompareTable } from '../reports/compare.ts';
import { artifactHref, esc, markCanary, renderHtml } from '../reports/html.ts';
import { reportFormat } from '../reports/formats.ts';
import { OUTCOME_LABELS, RESULT_SCHEMA_VERSION, type CellResult, type MatrixResults } from '../reports/results.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`report-html: ${CHROMIUM} is missing, so the browser test is skipped (install Debian's chromium package: apt-get install -y chromium)`);

const MITM = ['mitm-passive', 'mitm-self-signed', 'mitm-wrong-host', 'mitm-rogue-ca'];
const PROFILES = ['plaintext', 'tls-verified', 'tls-pinned'];
/** Bytes an attacker could put in evidence: markup, a script, a remote image, quotes. */
const HOSTILE = `<script>window.__pwned = 1</script><img src="http://127.0.0.1:9/pixel.png" onerror="window.__pwned = 2"> "quoted" & 'single' </td></tr></table>`;

let tmp: string;
let pki: PkiMaterial;
let real: MatrixResults;
let dir: string;
let resultsFile: string;
let htmlFile: string;

function captureIo(): CliIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), interactive: false, stdout: () => out, stderr: () => err };
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-report-'));
  await initPki({ dir: path.join(tmp, 'pki') });
  pki = loadPki(path.join(tmp, 'pki'));
  real = await runMatrix({
    profiles: PROFILES.map((p) => loadProfile(p)),
    attacks: ATTACKS.filter((a) => MITM.includes(a.id)),
    pki,
    command: `secchat matrix --profiles ${PROFILES.join(' ')} --attacks ${MITM.join(',')}`,
  });
  // A copy with hostile strings where an attacker's bytes can land, and artifacts to link.
  const hostile: MatrixResults = structuredClone(real);
  const victim = hostile.cells.find((c) => c.profile === 'plaintext' && c.attack === 'mitm-self-signed')!;
  victim.evidence.push({ kind: 'hostile<b>kind</b>', detail: HOSTILE });
  victim.reason += ` ${HOSTILE}`;
  victim.artifacts = { capture: 'artifacts/plain text/capture one.pcap', keylog: '../outside.keys', evil: 'javascript:window.__pwned=3', remote: 'https://example.com/x.pcap' };
  victim.data = { note: HOSTILE, handshakeMs: 12.5 };
  hostile.profiles[0].description = HOSTILE;
  dir = path.join(tmp, 'run');
  mkdirSync(dir);
  resultsFile = path.join(dir, 'results.json');
  writeFileSync(resultsFile, JSON.stringify(hostile, null, 2));
  htmlFile = path.join(dir, 'report.html');
  const renderer = reportFormat('html');
  writeFileSync(htmlFile, renderer.render(hostile, { resultsFile }));
}, 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the matrix run behind the report', () => {
  it('has every profile × MITM attack cell, none in error', () => {
    expect(real.cells).toHaveLength(PROFILES.length * MITM.length);
    expect(real.cells.filter((c) => c.outcome === 'error').map((c) => `${c.profile} ${c.attack}: ${c.reason}`)).toEqual([]);
    const outcome = (p: string, a: string) => real.cells.find((c) => c.profile === p && c.attack === a)!.outcome;
    expect(outcome('plaintext', 'mitm-passive')).toBe('succeeded');
    expect(outcome('tls-verified', 'mitm-rogue-ca')).toBe('succeeded');
    expect(outcome('tls-pinned', 'mitm-rogue-ca')).toBe('blocked');
  });
});

// In CI the browser must be there (.ci/run installs it): never skip the security checks silently.
describe.skipIf(!HAVE_CHROMIUM && !process.env.CI)('report.html in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  async function open(file = htmlFile) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const url = pathToFileURL(file).href;
    // Two independent records: what the router intercepted (and aborted unless it is the document),
    // and every request event the page fired (which also covers anything the router does not see).
    const routed: string[] = [];
    const requests: string[] = [];
    await context.route('**/*', (route) => {
      routed.push(route.request().url());
      return route.request().url() === url ? route.continue() : route.abort();
    });
    const page = await context.newPage();
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForTimeout(300); // let any late load (image, font, prefetch) show itself
    return { context, page, url, requests, routed };
  }

  it('shows, in every grid cell, the outcome word of its profile × attack', async () => {
    const { context, page } = await open();
    // Read the grid the way a sighted user does: the headers of a cell's row and column, and the
    // words in the cell (the table is transposed for wide matrices; data-rows says which way).
    const grid = await page.evaluate(() => {
      const table = document.querySelector('table.grid') as HTMLTableElement;
      const name = (th: Element) => (th.querySelector('.aid') ?? th.querySelector('a'))!.textContent!.trim();
      const cols = [...table.querySelectorAll('thead th')].slice(1).map(name);
      const cells: Array<{ row: string; col: string; label: string; text: string }> = [];
      for (const tr of table.querySelectorAll('tbody tr')) {
        const row = name(tr.querySelector('th[scope="row"]')!);
        tr.querySelectorAll('td').forEach((td, i) => cells.push({ row, col: cols[i], label: td.querySelector('.olabel')!.textContent!.replace(/^[^A-Za-z/]+/, '').trim(), text: (td as HTMLElement).innerText }));
      }
      return { rowsAre: table.dataset.rows, cols, cells, scopes: [...table.querySelectorAll('th')].map((th) => th.getAttribute('scope')) };
    });
    expect(grid.rowsAre).toBe('profiles');
    expect(grid.cols).toEqual(MITM);
    expect([...new Set(grid.cells.map((c) => c.row))]).toEqual(PROFILES);
    expect(grid.scopes.every((s) => s === 'col' || s === 'row')).toBe(true);
    expect(grid.cells).toHaveLength(real.cells.length);
    for (const g of grid.cells) {
      const [profile, attack] = grid.rowsAre === 'profiles' ? [g.row, g.col] : [g.col, g.row];
      const cell = real.cells.find((c) => c.profile === profile && c.attack === attack)!;
      expect(g.label, `${profile} × ${attack}`).toBe(OUTCOME_LABELS[cell.outcome]);
      expect(g.text).toContain(OUTCOME_LABELS[cell.outcome]); // the word is visible text, not colour alone
    }
    // The legend names every outcome in words.
    const legend = await page.locator('ul.legend').innerText();
    for (const label of Object.values(OUTCOME_LABELS)) expect(legend).toContain(label);
    await page.screenshot({ path: path.join(os.tmpdir(), 'secchat-report.png'), fullPage: false });
    await context.close();
  });

  it('makes no network request: only the file:// document itself is loaded', async () => {
    const { context, url, requests, routed } = await open();
    expect(requests).toEqual([url]);
    expect(routed.filter((u) => u !== url)).toEqual([]);
    await context.close();
  });

  it('(control) the request recorder does see a page that loads a remote image', async () => {
    const leaky = path.join(dir, 'leaky.html');
    writeFileSync(leaky, '<!doctype html><html lang="en"><title>x</title><img src="http://127.0.0.1:9/pixel.png" alt="">');
    const { context, url, requests } = await open(leaky);
    expect(requests).toEqual([url, 'http://127.0.0.1:9/pixel.png']);
    await context.close();
  });

  it('renders hostile evidence as text: no script runs, no element is injected', async () => {
    const { context, page } = await open();
    const r = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
      scripts: document.querySelectorAll('script').length,
      imgs: document.querySelectorAll('img').length,
      injectedBold: document.querySelectorAll('b').length,
      text: document.body.innerText,
      jsLinks: document.querySelectorAll('a[href^="javascript:"], a[href^="http:"], a[href^="https:"]').length,
      lang: document.documentElement.lang,
      h1: document.querySelectorAll('h1').length,
    }));
    expect(r.pwned).toBeNull();
    expect(r.scripts).toBe(0);
    expect(r.imgs).toBe(0);
    expect(r.injectedBold).toBe(0);
    expect(r.text).toContain('<script>window.__pwned = 1</script>');
    expect(r.text).toContain('hostile<b>kind</b>');
    expect(r.jsLinks).toBe(0);
    expect(r.lang).toBe('en');
    expect(r.h1).toBe(1);
    await context.close();
  });

  it('marks the canary in evidence, and links artifacts relative to the results file', async () => {
    const { context, page } = await open();
    const cell = real.cells.find((c) => c.profile === 'plaintext' && c.attack === 'mitm-passive')!;
    const marks = await page.locator('mark.canary', { hasText: cell.canary }).count();
    expect(marks).toBeGreaterThanOrEqual(2); // the canary line, and inside the captured bytes
    const hrefs = await page.evaluate(() => [...document.querySelectorAll('article.run a')].map((a) => (a as HTMLAnchorElement).href));
    expect(hrefs).toContain(pathToFileURL(path.join(dir, 'artifacts/plain text/capture one.pcap')).href);
    expect(hrefs).toContain(pathToFileURL(path.join(tmp, 'outside.keys')).href);
    expect(await page.locator('text=javascript:window.__pwned=3').count()).toBe(1); // shown as text, not linked
    await context.close();
  });

  it('prints on A4: the matrix on a landscape page, the profiles on portrait pages', async () => {
    const { context, page } = await open();
    const pdf = (await page.pdf({ preferCSSPageSize: true, printBackground: true })).toString('latin1');
    const boxes = [...pdf.matchAll(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/g)].map((m) => [Math.round(Number(m[1])), Math.round(Number(m[2]))]);
    expect(boxes.length).toBeGreaterThan(1);
    for (const [w, h] of boxes) expect([w, h].sort()).toEqual([595, 842]);
    expect(boxes[0]).toEqual([842, 595]);
    expect(boxes.some(([w, h]) => w === 595 && h === 842)).toBe(true);
    await context.close();
  });
});

describe('renderHtml (pure)', () => {
  it('escapes markup and quotes, and marks canaries only in escaped text', () => {
    expect(esc(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(markCanary('<b>canary-0123456789</b> and canary-0123456789', 'canary-0123456789')).toBe(
      '&lt;b&gt;<mark class="canary" title="the canary: the secret of this run">canary-0123456789</mark>&lt;/b&gt; and <mark class="canary" title="the canary: the secret of this run">canary-0123456789</mark>',
    );
    expect(markCanary('<x>', '<x>')).toBe('&lt;x&gt;'); // too short to be a canary: not marked
  });

  it('links only local artifact paths, relative to where the page is written', () => {
    expect(artifactHref('artifacts/a b.pcap', '/r/run/results.json')).toBe('artifacts/a%20b.pcap');
    expect(artifactHref('artifacts/x.keys', '/r/run/results.json', '/r/slides/report.html')).toBe('../run/artifacts/x.keys');
    expect(artifactHref('/abs/x.pcap', '/r/run/results.json')).toBe('../../abs/x.pcap');
    for (const bad of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', 'https://example.com/x', '//example.com/x', 'data:text/html,x', '']) {
      expect(artifactHref(bad, '/r/run/results.json'), bad).toBeNull();
    }
  });

  it('is one self-contained document with a strict Content-Security-Policy', () => {
    const html = readFileSync(htmlFile, 'utf8');
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'`);
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed|audio|video|source)\b|@import|url\(/i);
    // Every http(s) string is either the SVG namespace or escaped text from the results.
    for (const m of html.matchAll(/https?:\/\/[^\s"'<&]*/g)) expect(['http://www.w3.org/2000/svg', 'http://127.0.0.1:9/pixel.png', 'https://example.com/x.pcap']).toContain(m[0]);
  });

  it('labels the chart honestly: run time unless every run measured its handshake', () => {
    const html = renderHtml(real, { resultsFile: '/x/results.json' });
    expect(html).toContain('Run time per attack, profile plaintext (ms)');
    expect(html).toContain('It is not the TLS handshake alone');
    const measured: MatrixResults = structuredClone(real);
    for (const c of measured.cells) c.data = { handshakeMs: 3 };
    expect(renderHtml(measured, { resultsFile: '/x/results.json' })).toContain('TLS handshake time per attack run, profile plaintext (ms)');
  });

  it('transposes a wide matrix (more than six attacks, more attacks than profiles) so it fits a screen', () => {
    const wide: MatrixResults = structuredClone(real);
    for (let i = 0; i < 5; i++) {
      wide.attacks.push({ id: `extra-${i}`, title: `Extra ${i}`, description: 'synthetic' });
      for (const p of wide.profiles) wide.cells.push({ ...structuredClone(wide.cells[0]), profile: p.name, attack: `extra-${i}`, outcome: 'not-applicable' });
    }
    const html = renderHtml(wide, { resultsFile: '/x/results.json' });
    expect(html).toContain('data-rows="attacks"');
    expect(html).toMatch(/<tbody><tr><th scope="row"><span class="aid">mitm-(<wbr>)?passive<\/span>/);
    expect(renderHtml(real, { resultsFile: '/x/results.json' })).toContain('data-rows="profiles"');
  });

  it('shows each profile\'s weak settings with the fix and the lab that teaches it', () => {
    const html = renderHtml(real, { resultsFile: '/x/results.json' });
    expect(html).toContain('messages and passwords cross the network in plaintext');
    expect(html).toContain('<code>transport: tls (or a channel key exchange)</code>');
    expect(html).toContain('<code>secchat lab show 1</code>');
    expect(html).toContain('01-plaintext-vs-tls');
  });
});

/** A minimal results object with the given cells (profile, attack, outcome). */
function results(cells: Array<[string, string, Outcome]>, startedAt = '2025-01-01T00:00:00.000Z'): MatrixResults {
  const profiles = [...new Set(cells.map((c) => c[0]))];
  const attacks = [...new Set(cells.map((c) => c[1]))];
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'secchat', version: '0.0.0' },
    environment: { node: 'v20', openssl: '3.0', platform: 'linux x64', cpus: 2 },
    startedAt,
    durationMs: 1,
    command: 'secchat matrix',
    profiles: profiles.map((name) => ({ name, description: '', settings: loadProfile('tls-verified'), effectiveSettings: effectiveSettings(loadProfile('tls-verified')), warnings: [] })),
    attacks: attacks.map((id) => ({ id, title: id, description: id })),
    cells: cells.map(([profile, attack, outcome]): CellResult => ({
      schemaVersion: RESULT_SCHEMA_VERSION, profile, attack, outcome, impact: [], reason: `${attack} on ${profile}: ${outcome} <i>why</i>`, summary: outcome, canary: 'canary-00000000', evidence: [], negotiated: null, durationMs: 1,
    })),
  };
}

describe('compare (pure)', () => {
  it('classifies every pair of outcomes', () => {
    expect(changeKind('succeeded', 'blocked')).toBe('fixed');
    expect(changeKind('succeeded', 'not-applicable')).toBe('fixed');
    expect(changeKind('blocked', 'succeeded')).toBe('regressed');
    expect(changeKind('not-applicable', 'succeeded')).toBe('regressed');
    expect(changeKind('blocked', 'error')).toBe('changed');
    expect(changeKind('succeeded', 'error')).toBe('changed');
    expect(changeKind('blocked', 'not-applicable')).toBe('changed');
    expect(changeKind('blocked', 'blocked')).toBe('unchanged');
    expect(changeKind(null, 'blocked')).toBe('added');
    expect(changeKind('succeeded', null)).toBe('removed');
    expect(() => changeKind(null, null)).toThrow(RangeError);
  });

  it('finds fixed, regressed, changed, unchanged, added and removed cells', () => {
    const before = results([['p', 'a1', 'succeeded'], ['p', 'a2', 'blocked'], ['p', 'a3', 'blocked'], ['p', 'a4', 'succeeded'], ['p', 'gone', 'blocked'], ['old', 'a1', 'succeeded']]);
    const after = results([['p', 'a1', 'blocked'], ['p', 'a2', 'succeeded'], ['p', 'a3', 'error'], ['p', 'a4', 'succeeded'], ['p', 'new', 'blocked']]);
    const c = compareResults(before, after);
    const kind = (p: string, a: string) => c.changes.find((x) => x.profile === p && x.attack === a)?.kind;
    expect(kind('p', 'a1')).toBe('fixed');
    expect(kind('p', 'a2')).toBe('regressed');
    expect(kind('p', 'a3')).toBe('changed');
    expect(kind('p', 'a4')).toBe('unchanged');
    expect(kind('p', 'new')).toBe('added');
    expect(kind('p', 'gone')).toBe('removed');
    expect(kind('old', 'a1')).toBe('removed');
    expect(c.counts).toEqual({ fixed: 1, regressed: 1, changed: 1, unchanged: 1, added: 1, removed: 2 });
    expect(c.pairedProfiles).toBeNull();
    expect(c.changes).toHaveLength(7);
  });

  it('a success that needed its premise in only one run moved: now only under the premise is FIXED, the reverse REGRESSED (found by a fresh-clone trial: it read "same")', () => {
    expect(changeKind('succeeded', 'succeeded', { before: false, after: true })).toBe('fixed');
    expect(changeKind('succeeded', 'succeeded', { before: true, after: false })).toBe('regressed');
    expect(changeKind('succeeded', 'succeeded', { before: true, after: true })).toBe('unchanged');
    expect(changeKind('blocked', 'blocked', { before: false, after: true })).toBe('unchanged');
    const premise = { assumes: 'the victim trusts the rogue root', label: 'rogue root trusted' };
    const withPremise = (r: MatrixResults, used: boolean | undefined) => {
      r.attacks = r.attacks.map((a) => (a.id === 'mitm-rogue-ca' ? { ...a, premise } : a));
      r.cells = r.cells.map((c) => (used === undefined ? c : { ...c, premiseUsed: used }));
      return r;
    };
    const before = withPremise(results([['p', 'mitm-rogue-ca', 'succeeded']]), false); // read without any rogue root
    const after = withPremise(results([['p', 'mitm-rogue-ca', 'succeeded']]), undefined); // old files: the premise counts
    const c = compareResults(before, after);
    expect(c.changes[0]).toMatchObject({ kind: 'fixed', before: { premise: false }, after: { premise: true } });
    expect(renderCompareTable(c)).toMatch(/SUCCEEDED\s*│\s*SUCCEEDED \(premise only\)\s*│\s*FIXED/);
    expect(renderCompareHtml(c)).toContain('(premise only)');
    expect(compareResults(after, before).changes[0]!.kind).toBe('regressed');
  });

  it('pairs the single profiles of two runs when the student renamed it', () => {
    const c = compareResults(results([['lab-02-start', 'x', 'succeeded']]), results([['mine', 'x', 'blocked']]));
    expect(c.pairedProfiles).toEqual({ before: 'lab-02-start', after: 'mine' });
    expect(c.changes).toEqual([expect.objectContaining({ profile: 'mine', attack: 'x', kind: 'fixed' })]);
  });

  it('renders the comparison as a table, Markdown and escaped HTML', () => {
    const c = compareResults(results([['p', 'a1', 'succeeded'], ['p', 'a2', 'blocked']]), results([['p', 'a1', 'blocked'], ['p', 'a2', 'blocked']]));
    const table = renderCompareTable(c);
    expect(table).toMatch(/p\s+│ a1\s+│ SUCCEEDED │ blocked │ FIXED/);
    expect(table).not.toMatch(/│ a2 /); // unchanged cells are only counted
    expect(table).toContain('1 fixed, 0 regressed, 0 changed, 1 unchanged, 0 new, 0 removed');
    const md = renderCompareMarkdown(c);
    expect(md).toContain('| p | a1 | SUCCEEDED | blocked | **FIXED** |');
    expect(md).toContain('&lt;i&gt;why&lt;/i&gt;');
    const html = renderCompareHtml(c);
    expect(html).toContain('data-change="fixed"');
    expect(html).toContain('&lt;i&gt;why&lt;/i&gt;');
    expect(html).not.toContain('<i>why</i>');
  });
});

describe('CLI wiring', () => {
  it('matrix writes report.html beside results.json and report.md', async () => {
    const out = path.join(tmp, 'cli-matrix');
    const io = captureIo();
    const code = await main(['node', 'secchat', 'matrix', '--profiles', 'plaintext', '--attacks', 'mitm-passive', '--out', out, '--pki', path.join(tmp, 'pki')], io);
    expect(code).toBe(0);
    for (const f of ['results.json', 'report.md', 'report.html']) expect(existsSync(path.join(out, f)), f).toBe(true);
    expect(io.stdout()).toContain(path.join(out, 'report.html'));
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('<td class="o-succeeded" data-outcome="succeeded">');
  });

  it('report --format html --out FILE links artifacts relative to FILE', async () => {
    const out = path.join(tmp, 'slides', 'r.html');
    mkdirSync(path.dirname(out), { recursive: true });
    const io = captureIo();
    expect(await main(['node', 'secchat', 'report', '--in', resultsFile, '--format', 'html', '--out', out], io)).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('href="../run/artifacts/plain%20text/capture%20one.pcap"');
  });

  it('report --compare renders before → after; wrong arguments exit 2', async () => {
    const after: MatrixResults = structuredClone(real);
    for (const c of after.cells) if (c.profile === 'plaintext') c.outcome = 'blocked';
    const afterFile = path.join(tmp, 'after.json');
    writeFileSync(afterFile, JSON.stringify(after));
    const io = captureIo();
    expect(await main(['node', 'secchat', 'report', '--compare', resultsFile, afterFile, '--format', 'md'], io)).toBe(0);
    expect(io.stdout()).toContain('| plaintext | mitm-passive | SUCCEEDED | blocked | **FIXED** |');
    expect(io.stdout()).toContain('4 fixed, 0 regressed, 0 changed, 8 unchanged, 0 new, 0 removed');
    const both = captureIo();
    expect(await main(['node', 'secchat', 'report', '--in', resultsFile, '--compare', resultsFile, afterFile], both)).toBe(2);
    expect(both.stderr()).toContain('pass either --in FILE or --compare BEFORE AFTER');
    const one = captureIo();
    expect(await main(['node', 'secchat', 'report', '--compare', resultsFile], one)).toBe(2);
    expect(one.stderr()).toContain('--compare takes exactly two files');
  });
});
