/**
 * "Which configurations are safe?": the per-profile verdict (reports/verdict.ts) computed from a
 * row's cells only, its premise handling, and how every renderer shows it; what the secure
 * defaults leave open kept apart from weak settings (reports/setting-notes.ts); results schema 2
 * and the reading of version 1 files; and `report --compare`'s settings diff beside moved cells
 * (reports/settings-diff.ts), unchanged cells hidden unless `--all`. Pure functions and the CLI on
 * files: no network.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../cli/main.ts';
import type { CliIo } from '../cli/common.ts';
import { mitmRogueCa } from '../attacks/plugins/mitm.ts';
import { ATTACKS } from '../attacks/registry.ts';
import { effectiveSettings, loadProfile } from '../core/profile.ts';
import { compareResults, renderCompareHtml, renderCompareMarkdown, renderCompareTable } from '../reports/compare.ts';
import { renderHtml } from '../reports/html.ts';
import { renderMarkdown } from '../reports/markdown.ts';
import { RESULT_SCHEMA_VERSION, upgradeResults, type AttackInfo, type CellResult, type Impact, type MatrixResults, type Outcome } from '../reports/results.ts';
import { settingNotes } from '../reports/setting-notes.ts';
import { diffSettings, flattenSettings, settingChangeText } from '../reports/settings-diff.ts';
import { renderSummary, renderTable, summaryLine } from '../reports/table.ts';
import { cellPremise, profileVerdict, verdicts } from '../reports/verdict.ts';

const ROGUE = { assumes: 'the victim trusts a rogue root CA', label: 'rogue root trusted' };

type Row = Array<[attack: string, outcome: Outcome, impact?: Impact[]]>;

/** Results with one row per profile; `premised` attacks carry the rogue-root premise. */
function run(rows: Record<string, Row>, opts: { premised?: string[]; settings?: Record<string, string>; extraAttacks?: string[] } = {}): MatrixResults {
  const ids = [...new Set([...Object.values(rows).flatMap((r) => r.map((c) => c[0])), ...(opts.extraAttacks ?? [])])];
  const attacks: AttackInfo[] = ids.map((id) => ({ id, title: id, description: id, ...(opts.premised?.includes(id) ? { premise: ROGUE } : {}) }));
  const profiles = Object.keys(rows).map((name) => {
    const settings = { ...loadProfile(opts.settings?.[name] ?? 'tls-verified'), name };
    return { name, description: '', settings, effectiveSettings: effectiveSettings(settings), warnings: [] };
  });
  const cells = Object.entries(rows).flatMap(([profile, row]) =>
    row.map(([attack, outcome, impact]): CellResult => ({
      schemaVersion: RESULT_SCHEMA_VERSION, profile, attack, outcome, impact: outcome === 'succeeded' ? impact ?? ['confidentiality'] : [], reason: `${attack}: ${outcome}`, summary: outcome, canary: 'canary-0000000000000000', evidence: [], negotiated: null, durationMs: 5,
    })),
  );
  return { schemaVersion: RESULT_SCHEMA_VERSION, tool: { name: 'secchat', version: '0.0.0' }, environment: { node: 'v20', openssl: '3', platform: 'linux', cpus: 2 }, startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1000, command: 'secchat matrix', profiles, attacks, cells };
}

describe('profileVerdict', () => {
  it('holds only when every attack that applied was blocked', () => {
    expect(profileVerdict(run({ p: [['a', 'blocked'], ['b', 'blocked']] }), 'p')).toMatchObject({ status: 'holds', line: 'holds against every attack' });
    expect(profileVerdict(run({ p: [['a', 'blocked'], ['b', 'not-applicable']] }), 'p')).toMatchObject({ status: 'holds', line: 'holds against every attack that applies' });
  });

  it('holds except premise attacks when only they succeeded, naming the premise', () => {
    const v = profileVerdict(run({ p: [['mitm-self-signed', 'blocked'], ['mitm-rogue-ca', 'succeeded', ['confidentiality', 'integrity']], ['x', 'not-applicable']] }, { premised: ['mitm-rogue-ca'] }), 'p');
    expect(v.status).toBe('holds-except-premise');
    expect(v.line).toBe('holds against every attack that applies except those that assume the victim trusts a rogue root CA (mitm-rogue-ca)');
    expect(v.premises).toEqual([{ premise: ROGUE, attacks: ['mitm-rogue-ca'] }]);
  });

  it('counts a success as a failure when the results name no premise for its attack (a version 1 file)', () => {
    const v = profileVerdict(run({ p: [['mitm-rogue-ca', 'succeeded', ['confidentiality', 'integrity']]] }), 'p');
    expect(v).toMatchObject({ status: 'fails', line: 'fails: confidentiality and integrity (mitm-rogue-ca)' });
  });

  it('fails naming what each group of attacks broke, most fundamental first, premise attacks apart', () => {
    const r = run(
      {
        plaintext: [
          ['mitm-passive', 'succeeded', ['confidentiality']],
          ['mitm-self-signed', 'succeeded', ['integrity', 'confidentiality']],
          ['mitm-wrong-host', 'succeeded', ['confidentiality', 'integrity']],
          ['mitm-rogue-ca', 'succeeded', ['confidentiality', 'integrity']],
          ['replay', 'succeeded', ['integrity']],
          ['replay-login', 'succeeded', ['authentication']],
          ['downgrade-starttls', 'not-applicable'],
          ['tamper', 'succeeded', ['integrity']],
          ['password-crack', 'blocked'],
        ],
      },
      { premised: ['mitm-rogue-ca'] },
    );
    const v = profileVerdict(r, 'plaintext');
    expect(v.status).toBe('fails');
    expect(v.line).toBe('fails: confidentiality (mitm-passive); confidentiality and integrity (mitm-self-signed, mitm-wrong-host); integrity (replay, tamper); authentication (replay-login); also mitm-rogue-ca (premise: rogue root trusted)');
    expect(v.counts).toEqual({ succeeded: 7, blocked: 1, notApplicable: 1, error: 0 });
  });

  it('never says "holds" when a run ended in error or was not run: unproven', () => {
    const r = run({ p: [['a', 'blocked'], ['b', 'error']] }, { extraAttacks: ['c'] });
    expect(profileVerdict(r, 'p')).toMatchObject({ status: 'unproven', line: 'unproven: 1 run ended in error (b), 1 attack was not run (c); holds against every other attack', errors: ['b'], notRun: ['c'] });
    const f = profileVerdict(run({ p: [['a', 'succeeded', ['integrity']], ['b', 'error'], ['c', 'error']] }), 'p');
    expect(f).toMatchObject({ status: 'fails', line: 'fails: integrity (a); unproven: 2 runs ended in error (b, c)' });
    expect(profileVerdict(run({ p: [['a', 'blocked']] }), 'nobody')).toMatchObject({ status: 'not-run' });
  });

  it('is computed from the cells alone: the same row under opposite settings gets the same verdict', () => {
    const row: Row = [['mitm-passive', 'blocked'], ['mitm-wrong-host', 'succeeded', ['confidentiality', 'integrity']]];
    const weak = profileVerdict(run({ p: row }, { settings: { p: 'plaintext' } }), 'p');
    const strong = profileVerdict(run({ p: row }, { settings: { p: 'tls-pinned' } }), 'p');
    expect(weak).toEqual(strong);
  });

  it('property: a success without a premise always fails the row; "holds" never hides a success, an error or a missing cell', () => {
    const outcome = fc.constantFrom<Outcome>('succeeded', 'blocked', 'not-applicable', 'error');
    fc.assert(
      fc.property(fc.array(fc.tuple(outcome, fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 8 }), (spec) => {
        const row: Row = [];
        const premised: string[] = [];
        const missing: string[] = [];
        spec.forEach(([o, premise, present], i) => {
          const id = `attack-${i}`;
          if (premise) premised.push(id);
          if (present || i === 0) row.push([id, o, ['integrity']]);
          else missing.push(id);
        });
        const v = profileVerdict(run({ p: row }, { premised, extraAttacks: missing }), 'p');
        const plainSuccess = row.some(([id, o]) => o === 'succeeded' && !premised.includes(id));
        expect(v.status === 'fails').toBe(plainSuccess);
        if (v.status.startsWith('holds')) {
          expect(row.every(([, o]) => o === 'blocked' || o === 'not-applicable' || o === 'succeeded')).toBe(true);
          expect(missing).toEqual([]);
        }
        if (v.status === 'holds') expect(row.every(([, o]) => o !== 'succeeded')).toBe(true);
        for (const [id, o] of row) if (o === 'succeeded' || o === 'error') expect(v.line).toContain(id);
        for (const id of missing) expect(v.line).toContain(id);
      }),
      { numRuns: 300 },
    );
  });

  it('gives one verdict per row, profiles first, then rows only cells name (e.g. a target)', () => {
    const r = run({ a: [['x', 'blocked']], b: [['x', 'succeeded']] });
    r.cells.push({ ...r.cells[0], profile: 'my-app' });
    expect(verdicts(r).map((v) => [v.profile, v.status])).toEqual([['a', 'holds'], ['b', 'fails'], ['my-app', 'holds']]);
  });
});

describe('the rogue-CA attack declares its premise, and the matrix records it', () => {
  it('mitm-rogue-ca is the only premise attack of the registry', () => {
    expect(mitmRogueCa.premise).toEqual(ROGUE);
    expect(ATTACKS.filter((a) => a.premise).map((a) => a.id)).toEqual(['mitm-rogue-ca']);
  });
});

describe('renderers show the verdicts and the premise style', () => {
  const r = run(
    {
      'tls-verified': [['mitm-self-signed', 'blocked'], ['mitm-rogue-ca', 'succeeded', ['confidentiality', 'integrity']]],
      'tls-no-verify': [['mitm-self-signed', 'succeeded', ['confidentiality', 'integrity']], ['mitm-rogue-ca', 'succeeded', ['confidentiality', 'integrity']]],
    },
    { premised: ['mitm-rogue-ca'], settings: { 'tls-verified': 'tls-verified', 'tls-no-verify': 'tls-no-verify' } },
  );

  it('terminal: the summary lists each verdict and the counts; the grid shows the premise in the cell', () => {
    const s = renderSummary(r);
    expect(s).toContain('  tls-verified   holds against every attack except those that assume the victim trusts a rogue root CA (mitm-rogue-ca)\n');
    expect(s).toContain('  tls-no-verify  fails: confidentiality and integrity (mitm-self-signed); also mitm-rogue-ca (premise: rogue root trusted)\n');
    expect(summaryLine(r)).toMatch(/^4 runs: 3 succeeded \(2 of them only under a premise\), 1 blocked, 0 not applicable, 0 error/);
    const grid = renderTable(r, { width: 200 });
    expect(grid).toMatch(/│ tls-verified\s+│ blocked\s+│ SUCCEEDED\s+│/);
    expect(grid).toMatch(/│\s+│ blocked\s+│ if rogue root\s+│\n│\s+│\s+│ trusted\s+│/); // the premise instead of the reason
    const coloured = renderTable(r, { width: 200, colour: true });
    expect(coloured).toContain('\x1b[35mSUCCEEDED'); // premise: magenta
    expect(coloured).toContain('\x1b[31;1mSUCCEEDED'); // a failed defence: red
  });

  it('Markdown: a verdict list, italics with the premise for premise cells, bold for failures', () => {
    const m = renderMarkdown(r);
    expect(m).toContain('## Which configurations are safe?');
    expect(m).toContain('- `tls-verified`: holds against every attack except those that assume the victim trusts a rogue root CA \\(mitm-rogue-ca\\)');
    expect(m).toContain('| tls-verified | blocked | *SUCCEEDED* if rogue root trusted |');
    expect(m).toContain('| tls-no-verify | **SUCCEEDED** | *SUCCEEDED* if rogue root trusted |');
    expect(m).toContain('Premise: it assumes the victim trusts a rogue root CA.');
  });

  it('HTML: premise cells carry their own class and the premise; each profile section its verdict', () => {
    const h = renderHtml(r, { resultsFile: '/x/results.json' });
    expect(h).toContain('<td class="o-succeeded premise" data-outcome="succeeded" data-premise="rogue root trusted"');
    expect(h).toContain('<span class="osum">if rogue root trusted</span>');
    expect(h).toContain('<td class="o-succeeded" data-outcome="succeeded">');
    expect(h).toContain('<span class="vchip v-holds-except-premise">holds, except premise</span> holds against every attack except those');
    expect(h).toMatch(/<li class="v-fails" data-status="fails"><a href="#p-1"><code>tls-no-verify<\/code><\/a><span class="vchip v-fails">FAILS<\/span>/);
  });
});

describe('a premise is judged per cell: a premise attack that succeeded without its premise is a plain failure', () => {
  // tls-no-verify: the client verifies nothing, so mitm-rogue-ca read the canary with no rogue root
  // installed (the attack recorded premiseUsed: false); tls-verified needed the rogue root.
  const r = run(
    {
      'tls-verified': [['mitm-self-signed', 'blocked'], ['mitm-rogue-ca', 'succeeded', ['confidentiality', 'integrity']]],
      'tls-no-verify': [['mitm-self-signed', 'blocked'], ['mitm-rogue-ca', 'succeeded', ['confidentiality', 'integrity']]],
    },
    { premised: ['mitm-rogue-ca'], settings: { 'tls-verified': 'tls-verified', 'tls-no-verify': 'tls-no-verify' } },
  );
  const noVerify = r.cells.find((c) => c.profile === 'tls-no-verify' && c.attack === 'mitm-rogue-ca')!;
  noVerify.premiseUsed = false;
  noVerify.summary = 'canary read: forged cert accepted';
  r.cells.find((c) => c.profile === 'tls-verified' && c.attack === 'mitm-rogue-ca')!.premiseUsed = true;

  it('the verdict line, the groups and the counts', () => {
    const v = profileVerdict(r, 'tls-no-verify');
    expect(v).toMatchObject({ status: 'fails', line: 'fails: confidentiality and integrity (mitm-rogue-ca)', premises: [], failures: [{ impacts: ['confidentiality', 'integrity'], attacks: ['mitm-rogue-ca'] }] });
    expect(profileVerdict(r, 'tls-verified')).toMatchObject({ status: 'holds-except-premise', premises: [{ premise: ROGUE, attacks: ['mitm-rogue-ca'] }] });
    expect(cellPremise(r, noVerify)).toBeNull();
    expect(summaryLine(r)).toMatch(/^4 runs: 2 succeeded \(1 of them only under a premise\), 2 blocked/);
  });

  it('terminal grid: red with its summary, not the premise', () => {
    const coloured = renderTable(r, { width: 200, colour: true });
    expect(coloured).toMatch(/tls-no-verify[^\n]*\x1b\[31;1mSUCCEEDED/);
    expect(coloured).toMatch(/tls-verified[^\n]*\x1b\[35mSUCCEEDED/);
    const grid = renderTable(r, { width: 200 });
    expect(grid).toMatch(/│ tls-no-verify\s+│ blocked\s+│ SUCCEEDED\s+│\n│\s+│ blocked\s+│ canary read: forged\s+│/);
    expect(renderSummary(r)).toContain('  tls-no-verify  fails: confidentiality and integrity (mitm-rogue-ca)\n');
  });

  it('Markdown: bold like any failure', () => {
    const m = renderMarkdown(r);
    expect(m).toContain('| tls-no-verify | blocked | **SUCCEEDED** |');
    expect(m).toContain('| tls-verified | blocked | *SUCCEEDED* if rogue root trusted |');
    expect(m).toContain('- `tls-no-verify`: fails: confidentiality and integrity \\(mitm-rogue-ca\\)');
  });

  it('HTML: the failure style in the grid, the run and the tally; the premise style only where it was used', () => {
    const h = renderHtml(r, { resultsFile: '/x/results.json' });
    expect(h.match(/<td class="o-succeeded premise"/g)).toHaveLength(1);
    expect(h).toContain('<td class="o-succeeded" data-outcome="succeeded"><a href="#c-1-1">');
    expect(h).toContain('1 SUCCEEDED</li><li class="o-premise"><span aria-hidden="true">');
    expect(h.match(/<article class="run o-succeeded premise"/g)).toHaveLength(1);
    expect(h).toMatch(/<article class="run o-succeeded" id="c-1-1"[^]*?<p class="note"><strong>Premise not needed:<\/strong>/);
  });

  it('a cell written before the field (no premiseUsed) still reads as a premise success', () => {
    const old = JSON.parse(JSON.stringify(r)) as MatrixResults;
    for (const c of old.cells) delete c.premiseUsed;
    expect(profileVerdict(old, 'tls-no-verify').status).toBe('holds-except-premise');
  });
});

describe('weak settings and what the secure defaults leave open (agreeing with the README: defaults are secure)', () => {
  it('verify: ca is never filed as a weak setting; its rogue-root gap is listed apart', () => {
    const verified = settingNotes(loadProfile('tls-verified'));
    expect(verified.weak).toEqual([]);
    expect(verified.leftOpen.map((w) => w.setting)).toEqual(['client.verify']);
    expect(verified.leftOpen[0].weakness).toMatch(/rogue root/);
    expect(settingNotes(loadProfile('tls-no-verify')).weak.map((w) => w.setting)).toContain('client.verify');
    expect(settingNotes(loadProfile('tls-pinned'))).toEqual({ weak: [], leftOpen: [] });
  });

  it('the reports say so: no "Weak settings" and no weak tag for tls-verified, a "leaves open" note instead', () => {
    const r = run({ 'tls-verified': [['mitm-rogue-ca', 'succeeded']] }, { premised: ['mitm-rogue-ca'] });
    const m = renderMarkdown(r);
    expect(m).not.toContain('Weak settings:');
    expect(m).toContain('Left open by the secure defaults (not a weak setting):\n\n- `client.verify`: trust rests on every root the client trusts');
    const h = renderHtml(r, { resultsFile: '/x/results.json' });
    expect(h).not.toContain('<span class="tag">weak</span>');
    expect(h).toContain('<tr class="is-open"><th scope="row">client.verify</th><td>ca<span class="tag tag-open">leaves open</span></td></tr>');
    expect(h).toContain('No weak settings from the list of known weaknesses.');
  });
});

describe('settings diff', () => {
  it('flattens effective settings without name and description, and diffs them key by key', () => {
    expect(flattenSettings({ name: 'x', description: 'y', transport: 'tls', channel: { ciphers: ['a', 'b'] } })).toEqual([['transport', 'tls'], ['channel.ciphers', 'a, b']]);
    const d = diffSettings(effectiveSettings(loadProfile('tls-no-verify')), effectiveSettings(loadProfile('tls-verified')));
    expect(d).toEqual([
      { setting: 'client.verify', before: 'none', after: 'ca' },
      { setting: 'client.checkHostname', before: null, after: 'true' },
    ]);
    expect(d.map(settingChangeText)).toEqual(['client.verify: none → ca', 'client.checkHostname: (not in effect) → true']);
    expect(diffSettings({ transport: 'tls', tls: { minVersion: 'TLSv1' } }, { transport: 'plain' })).toEqual([
      { setting: 'transport', before: 'tls', after: 'plain' },
      { setting: 'tls.minVersion', before: 'TLSv1', after: null },
    ]);
    expect(diffSettings(effectiveSettings(loadProfile('tls-verified')), { ...effectiveSettings(loadProfile('tls-verified')), name: 'other', description: 'other' })).toEqual([]);
  });
});

describe('results schema 2, and version 1 files', () => {
  it('upgradeResults fills effectiveSettings of a version 1 file and keeps its version; refuses unknown versions', () => {
    const v1 = JSON.parse(JSON.stringify(run({ p: [['a', 'blocked']] }, { settings: { p: 'tls-no-verify' } })));
    v1.schemaVersion = 1;
    for (const p of v1.profiles) delete p.effectiveSettings;
    const up = upgradeResults(v1);
    expect(up.schemaVersion).toBe(1);
    expect(up.profiles[0].effectiveSettings).toEqual(effectiveSettings({ ...loadProfile('tls-no-verify'), name: 'p' }));
    expect(() => upgradeResults({ ...v1, schemaVersion: 99 })).toThrow(/schemaVersion 99 is not one of 1, 2/);
  });
});

describe('report --compare: settings diff beside moved cells, unchanged hidden unless --all', () => {
  let dir: string;
  let before: string;
  let after: string;
  const io = () => {
    let out = '';
    let err = '';
    return { out: (t: string) => void (out += t), err: (t: string) => void (err += t), interactive: false, stdout: () => out, stderr: () => err } as CliIo & { stdout(): string; stderr(): string };
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-compare-'));
    before = path.join(dir, 'before.json');
    after = path.join(dir, 'after.json');
    // A student hardens their profile: verify none → ca. The self-signed MITM is fixed; passive stays blocked.
    const b = run({ mine: [['mitm-passive', 'blocked'], ['mitm-self-signed', 'succeeded', ['confidentiality', 'integrity']]], other: [['mitm-passive', 'blocked'], ['mitm-self-signed', 'blocked']] }, { settings: { mine: 'tls-no-verify' } });
    const a = run({ mine: [['mitm-passive', 'blocked'], ['mitm-self-signed', 'blocked']], other: [['mitm-passive', 'blocked'], ['mitm-self-signed', 'blocked']] }, { settings: { mine: 'tls-verified' } });
    writeFileSync(before, JSON.stringify(b));
    writeFileSync(after, JSON.stringify(a));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('compareResults records each profile\'s settings change', () => {
    const c = compareResults(JSON.parse(readFileSync(before, 'utf8')), JSON.parse(readFileSync(after, 'utf8')));
    expect(c.settings).toEqual([
      { profile: 'mine', beforeProfile: 'mine', changes: [{ setting: 'client.verify', before: 'none', after: 'ca' }, { setting: 'client.checkHostname', before: null, after: 'true' }] },
      { profile: 'other', beforeProfile: 'other', changes: [] },
    ]);
  });

  it('table: the moved cell with the settings that changed; unchanged cells only with --all', async () => {
    const t = io();
    expect(await main(['node', 'secchat', 'report', '--compare', before, after], t)).toBe(0);
    expect(t.stdout()).toMatch(/│ mine\s+│ mitm-self-signed │ SUCCEEDED │ blocked │ FIXED\s+│ client\.verify: none → ca\s+│/);
    expect(t.stdout()).toContain('client.checkHostname: (not in effect) → true');
    expect(t.stdout()).not.toContain('mitm-passive');
    expect(t.stdout()).not.toContain('other');
    expect(t.stdout()).toContain('1 fixed, 0 regressed, 0 changed, 3 unchanged, 0 new, 0 removed');
    const all = io();
    expect(await main(['node', 'secchat', 'report', '--compare', before, after, '--all'], all)).toBe(0);
    expect(all.stdout()).toMatch(/│ mine\s+│ mitm-passive\s+│ blocked\s+│ blocked │ same/);
    expect(all.stdout()).toMatch(/│ other\s+│ mitm-passive\s+│ blocked\s+│ blocked │ same\s+│ \(no setting changed\)/);
  });

  it('Markdown and HTML: the diff beside the moved cell; unchanged cells hidden, counted, shown with --all', async () => {
    const c = compareResults(JSON.parse(readFileSync(before, 'utf8')), JSON.parse(readFileSync(after, 'utf8')));
    const m = renderCompareMarkdown(c);
    expect(m).toContain('| mine | mitm-self-signed | SUCCEEDED | blocked | **FIXED** | `client.verify: none → ca`; `client.checkHostname: (not in effect) → true` |');
    expect(m).toContain('3 unchanged cells are not shown (`--all` shows them).');
    expect(m).not.toContain('Unchanged:');
    expect(renderCompareMarkdown(c, { all: true })).toContain('Unchanged:\n\n- mine × mitm-passive: blocked');
    const h = renderCompareHtml(c);
    expect(h).toContain('<th scope="row"><span class="pname">mine</span><ul class="sdiff" aria-label="Settings changed"><li><code class="skey">client.verify</code> <code>none</code> <span class="arrow" aria-label="became">→</span> <code>ca</code></li>');
    expect(h).not.toContain('<span class="pname">other</span>'); // no moved cell: the row is hidden
    expect(h).toContain('3 unchanged cells are hidden');
    expect(h).not.toContain('<span class="aid">mitm-passive</span>'); // no moved cell: the column is hidden
    const all = renderCompareHtml(c, { all: true });
    expect(all).toContain('<span class="pname">other</span><span class="sdiff-none">(no setting changed)</span>');
    expect(all).toContain('<span class="aid">mitm-passive</span>');
    expect(all).not.toContain('unchanged cells are hidden');
    expect(renderCompareTable(c)).not.toContain('other');
  });

  it('flags that belong to the other mode exit 2 with a message naming them', async () => {
    const g = io();
    expect(await main(['node', 'secchat', 'report', '--compare', before, after, '--grid'], g)).toBe(2);
    expect(g.stderr()).toContain('--grid is for one run');
    const a = io();
    expect(await main(['node', 'secchat', 'report', '--in', after, '--all'], a)).toBe(2);
    expect(a.stderr()).toContain('--all is for --compare');
    const f = io();
    expect(await main(['node', 'secchat', 'report', '--in', after, '--grid', '--format', 'md'], f)).toBe(2);
    expect(f.stderr()).toContain('--grid is for --format table');
  });

  it('reads a version 1 results.json, and refuses an unknown version with exit 2', async () => {
    const v1 = JSON.parse(readFileSync(before, 'utf8'));
    v1.schemaVersion = 1;
    for (const p of v1.profiles) delete p.effectiveSettings;
    const v1file = path.join(dir, 'v1.json');
    writeFileSync(v1file, JSON.stringify(v1));
    const t = io();
    expect(await main(['node', 'secchat', 'report', '--compare', v1file, after], t)).toBe(0);
    expect(t.stdout()).toContain('client.verify: none → ca');
    const bad = path.join(dir, 'v9.json');
    writeFileSync(bad, JSON.stringify({ ...v1, schemaVersion: 9 }));
    const e = io();
    expect(await main(['node', 'secchat', 'report', '--in', bad], e)).toBe(2);
    expect(e.stderr()).toContain('is not a secchat results.json of schema version 1 or 2');
  });
});
