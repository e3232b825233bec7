/**
 * The HTML report on a classroom projector: the demo matrix's shape — every preset profile ×
 * every attack of the registry, as `npm run demo` runs it — rendered and opened in headless
 * Chromium at 1920×1080. Every attack column must be in view without horizontal scrolling, each
 * cell's outcome word whole, and the header row must stay on screen while the rows scroll.
 * Cells carry the longest summary a verdict may have (40 characters, one of them unbreakable), so
 * the layout is checked against the worst case rather than one run's luck. A premise attack's
 * success must show its premise and a style of its own, and every profile its verdict.
 *
 * Needs Debian's `chromium` at /usr/bin/chromium (`.ci/run` installs it); skipped with a message
 * when it is missing outside CI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ATTACKS } from '../attacks/registry.ts';
import { effectiveSettings, listPresets, loadProfile } from '../core/profile.ts';
import { renderHtml } from '../reports/html.ts';
import { RESULT_SCHEMA_VERSION, type CellResult, type MatrixResults, type Outcome } from '../reports/results.ts';
import { profileVerdict } from '../reports/verdict.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`report-projector: ${CHROMIUM} is missing, so the browser test is skipped (apt-get install -y chromium)`);

/** Summaries at the 40-character limit of CellResult.summary: one with spaces, one without. */
const LONG_SUMMARIES = ['refused: transcript_mismatch in channel x', 'no_common_cipher_suite_between_the_peers'];
const OUTCOMES: Outcome[] = ['succeeded', 'blocked', 'not-applicable', 'error'];

/** The demo matrix's shape with worst-case cell text; outcomes cycle so every style appears in every column. */
function demoShaped(): MatrixResults {
  const profiles = listPresets().map((n) => loadProfile(n));
  const cells: CellResult[] = [];
  profiles.forEach((p, pi) =>
    ATTACKS.forEach((a, ai) => {
      const outcome = OUTCOMES[(pi + ai) % OUTCOMES.length];
      cells.push({
        schemaVersion: RESULT_SCHEMA_VERSION, profile: p.name, attack: a.id, outcome, impact: outcome === 'succeeded' ? ['confidentiality'] : [],
        reason: `synthetic ${outcome}`, summary: LONG_SUMMARIES[(pi + ai) % 2], canary: 'canary-0000000000000000', evidence: [], negotiated: null, durationMs: 1000 + ai,
      });
    }),
  );
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'secchat', version: '0.0.0' },
    environment: { node: process.version, openssl: process.versions.openssl, platform: 'linux x64', cpus: 2 },
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 100_000,
    command: 'secchat matrix',
    profiles: profiles.map((p) => ({ name: p.name, description: p.description, settings: p, effectiveSettings: effectiveSettings(p), warnings: [] })),
    attacks: ATTACKS.map((a) => ({ id: a.id, title: a.title, description: a.description, ...(a.premise ? { premise: a.premise } : {}) })),
    cells,
  };
}

let tmp: string;
let results: MatrixResults;
let file: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-projector-'));
  results = demoShaped();
  file = path.join(tmp, 'report.html');
  writeFileSync(file, renderHtml(results, { resultsFile: path.join(tmp, 'results.json') }));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the demo matrix (data)', () => {
  it('has at least one premise attack among its columns, and more columns than the compact threshold', () => {
    expect(results.attacks.filter((a) => a.premise).map((a) => a.id)).toContain('mitm-rogue-ca');
    expect(results.attacks.length).toBeGreaterThan(6);
  });
});

describe.skipIf(!HAVE_CHROMIUM && !process.env.CI)('report.html on a 1920×1080 projector (headless Chromium)', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    await context.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
    page = await context.newPage();
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('shows every attack column without horizontal scrolling, each outcome word whole', async () => {
    const m = await page.evaluate(() => {
      const table = document.querySelector('table.grid') as HTMLTableElement;
      const box = (e: Element) => {
        const b = e.getBoundingClientRect();
        return { left: b.left, right: b.right, width: b.width };
      };
      return {
        scrollWidth: document.documentElement.scrollWidth,
        bodyScrollWidth: document.body.scrollWidth,
        innerWidth: window.innerWidth,
        rowsAre: table.dataset.rows,
        heads: [...table.querySelectorAll('thead th')].map((th) => ({ name: (th.querySelector('.aid') ?? th).textContent!.trim(), ...box(th) })),
        // Every scroll container inside the grid's section: none may scroll sideways.
        scrollers: [...document.querySelectorAll('#matrix *')].filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible' && !(e as HTMLElement).closest('td')).map((e) => e.className),
        labels: [...table.querySelectorAll('td .olabel')].map((l) => ({ text: (l as HTMLElement).innerText, fits: l.scrollWidth <= l.clientWidth + 1, right: l.getBoundingClientRect().right, cellRight: l.closest('td')!.getBoundingClientRect().right })),
      };
    });
    await page.screenshot({ path: path.join(os.tmpdir(), 'secchat-report-1920x1080.png') });
    expect(m.rowsAre).toBe('profiles');
    expect(m.scrollWidth).toBeLessThanOrEqual(m.innerWidth);
    expect(m.bodyScrollWidth).toBeLessThanOrEqual(m.innerWidth);
    expect(m.scrollers).toEqual([]);
    expect(m.heads.map((h) => h.name)).toEqual(['Profile', ...ATTACKS.map((a) => a.id)]);
    for (const h of m.heads) {
      expect(h.left, h.name).toBeGreaterThanOrEqual(0);
      expect(h.right, h.name).toBeLessThanOrEqual(m.innerWidth);
      expect(h.width, `${h.name} is wide enough to read`).toBeGreaterThan(80);
    }
    expect(m.labels).toHaveLength(results.cells.length);
    for (const l of m.labels) {
      expect(l.fits, `outcome word cut: ${l.text}`).toBe(true);
      expect(l.right).toBeLessThanOrEqual(l.cellRight + 1);
    }
  });

  it('keeps the header row on screen while the rows scroll (sticky)', async () => {
    await page.evaluate(() => document.querySelector('table.grid tbody tr:nth-child(12)')!.scrollIntoView({ block: 'start' }));
    const s = await page.evaluate(() => {
      const th = document.querySelectorAll('table.grid thead th')[3];
      const b = th.getBoundingClientRect();
      const topRow = document.querySelector('table.grid tbody tr')!.getBoundingClientRect();
      const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
      return { top: b.top, bottom: b.bottom, scrolled: window.scrollY, firstRowTop: topRow.top, headerOnTop: !!hit && th.contains(hit) };
    });
    await page.screenshot({ path: path.join(os.tmpdir(), 'secchat-report-1920x1080-scrolled.png') });
    expect(s.scrolled).toBeGreaterThan(0);
    expect(s.firstRowTop, 'the first rows scrolled away under the header').toBeLessThan(0);
    expect(s.top).toBeGreaterThanOrEqual(-1);
    expect(s.top).toBeLessThan(5);
    expect(s.headerOnTop, 'the header is drawn above the rows passing under it').toBe(true);
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it('shows a premise attack\'s success in its own style with the premise in the cell, and every verdict', async () => {
    const cells = await page.evaluate(() =>
      [...document.querySelectorAll('table.grid td[data-outcome="succeeded"]')].map((td) => ({
        premise: td.classList.contains('premise'),
        text: (td as HTMLElement).innerText,
        border: getComputedStyle(td).borderTopStyle,
        background: getComputedStyle(td).backgroundColor,
      })),
    );
    const premised = cells.filter((c) => c.premise);
    const plain = cells.filter((c) => !c.premise);
    const expected = results.cells.filter((c) => c.outcome === 'succeeded' && c.attack === 'mitm-rogue-ca').length;
    expect(premised).toHaveLength(expected);
    expect(expected).toBeGreaterThan(0);
    for (const c of premised) {
      expect(c.text).toContain('SUCCEEDED');
      expect(c.text).toContain('if rogue root trusted');
      expect(c.border).toBe('dashed');
    }
    for (const c of plain) expect(c.border).toBe('solid');
    expect(new Set(premised.map((c) => c.background)).size).toBe(1);
    expect(plain.map((c) => c.background)).not.toContain(premised[0].background);
    // The verdict list: one line per profile, the same words the pure function computes.
    const lines = await page.evaluate(() => [...document.querySelectorAll('ul.verdicts li')].map((li) => ({ name: li.querySelector('code')!.textContent, line: li.querySelector('.vline')!.textContent, status: (li as HTMLElement).dataset.status })));
    expect(lines.map((l) => l.name)).toEqual(results.profiles.map((p) => p.name));
    for (const l of lines) {
      const v = profileVerdict(results, l.name!);
      expect(l.line).toBe(v.line);
      expect(l.status).toBe(v.status);
    }
  });
});
