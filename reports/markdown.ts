/**
 * Markdown renderer: one verdict per row (reports/verdict.ts), the matrix table (a premise
 * attack's success in italics with its premise, apart from the bold failures), then each profile
 * with its verdict, settings, weak settings, what its defaults leave open, and each cell's
 * outcome, reason and evidence. Every string from the results file is untrusted
 * (a certificate name from a man in the middle, a profile description, an edited file): each is
 * written through core/escape.ts's Markdown rules, so the report renders as text, never as HTML,
 * a link or an extra table cell.
 */
import { stringify } from 'yaml';
import { markdownCode, markdownLink, markdownParagraph, markdownText as md } from '../core/escape.ts';
import { effectiveSettings } from '../core/profile.ts';
import { negotiatedWords, OUTCOME_LABELS, resultRows, type CellResult, type MatrixResults } from './results.ts';
import { settingNotes } from './setting-notes.ts';
import { cellPremise, premiseOf, profileVerdict, verdicts } from './verdict.ts';

/** A fenced code block whose fence no line of `body` can close (CommonMark §4.5). */
function fenced(info: string, body: string): string[] {
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [fence + info, body, fence];
}

const label = (o: unknown) => OUTCOME_LABELS[o as keyof typeof OUTCOME_LABELS] ?? md(o);

/** Renders results.json as a Markdown report. */
export function renderMarkdown(r: MatrixResults): string {
  const attacks = r.attacks.map((a) => a.id);
  const out: string[] = [];
  out.push(`# secchat attack matrix`, '');
  out.push(`secchat ${md(r.tool.version)} · Node ${md(r.environment.node)} · OpenSSL ${md(r.environment.openssl)} · ${md(r.startedAt)} · ${(Number(r.durationMs) / 1000).toFixed(1)} s`, '');
  out.push(`Reproduce: ${markdownCode(r.command)}`, '');
  out.push('## Which configurations are safe?', '');
  out.push('One verdict per profile, from what its attack runs measured (never from its settings):', '');
  for (const v of verdicts(r)) out.push(`- ${markdownCode(v.profile)}: ${md(v.line)}`);
  out.push('', '## Matrix', '');
  out.push('Outcomes: **SUCCEEDED** — the attacker read or altered the canary, or had a replay or downgrade accepted (evidence below); *SUCCEEDED* if … — it did, under the premise named (something done to the victim beyond the network, such as a rogue root CA it was made to trust), which the secure defaults do not claim to survive; **blocked** — something stopped it (named in the reason); **n/a** — the precondition is missing; **ERROR** — the run itself failed.', '');
  out.push(`| ${r.targets?.length ? 'profile / target' : 'profile'} | ${attacks.map(md).join(' | ')} |`);
  out.push(`|---|${attacks.map(() => '---').join('|')}|`);
  for (const p of resultRows(r)) {
    const cells = attacks.map((a) => {
      const c = r.cells.find((x) => x.profile === p.name && x.attack === a);
      if (!c) return '';
      if (c.outcome !== 'succeeded') return label(c.outcome);
      const premise = cellPremise(r, c);
      return premise ? `*${label(c.outcome)}* if ${md(premise.label)}` : `**${label(c.outcome)}**`;
    });
    out.push(`| ${md(p.kind === 'target' ? `${p.name} (target)` : p.name)} | ${cells.join(' | ')} |`);
  }
  if (r.warnings?.length) {
    out.push('', '## Contradictions in the matrix', '', 'Cells of one row that disagree with each other (attacks/consistency.ts): one of them is wrong.', '');
    for (const w of r.warnings) out.push(`- ${markdownCode(w.profile)} (${w.attacks.map(md).join(', ')}): ${md(w.message)}`);
  }
  out.push('', '## Attacks', '');
  for (const a of r.attacks) {
    const premise = premiseOf(r, a.id);
    out.push(`- **${md(a.id)}** — ${md(a.description)}${premise ? ` Premise: it assumes ${md(premise.assumes)}.` : ''}`);
  }
  for (const p of r.profiles) {
    out.push('', `## Profile ${markdownCode(p.name)}`, '', p.description ? markdownParagraph(p.description) : '(no description)', '');
    out.push(`Verdict: ${md(profileVerdict(r, p.name).line)}`, '');
    out.push(...fenced('yaml', stringify(effectiveSettings(p.settings)).trimEnd()), '');
    const { weak, leftOpen } = settingNotes(p.settings);
    if (weak.length) {
      out.push('Weak settings:', '');
      for (const w of weak) out.push(`- ${markdownCode(w.setting)}: ${md(w.weakness)}. Fix: ${markdownCode(w.fix)} (lab ${md(w.lab)}).`);
      out.push('');
    }
    if (leftOpen.length) {
      out.push('Left open by the secure defaults (not a weak setting):', '');
      for (const w of leftOpen) out.push(`- ${markdownCode(w.setting)}: ${md(w.weakness)}. To close it too: ${markdownCode(w.fix)} (lab ${md(w.lab)}).`);
      out.push('');
    }
    for (const w of p.warnings.filter((w) => ![...weak, ...leftOpen].some((x) => w.includes(x.weakness)))) out.push(`> warning: ${md(w)}`, '');
    cellSections(out, r.cells.filter((x) => x.profile === p.name));
  }
  for (const t of r.targets ?? []) {
    out.push('', `## Target ${markdownCode(t.name)} (your own app)`, '', md(t.description || '(no description)'), '');
    out.push(`Verdict: ${md(profileVerdict(r, t.name).line)}`, '');
    out.push('```yaml', stringify(t.settings).trimEnd().replace(/```/g, "'''"), '```', '');
    for (const w of t.warnings) out.push(`> warning: ${md(w)}`, '');
    cellSections(out, r.cells.filter((x) => x.profile === t.name));
  }
  return out.join('\n') + '\n';
}

/** Each cell's outcome, reason, negotiated parameters, evidence and artifacts. */
function cellSections(out: string[], cells: CellResult[]): void {
  for (const c of cells) {
    out.push(`### ${md(c.attack)}: ${label(c.outcome)}`, '');
    out.push(markdownParagraph(c.reason), '');
    if (c.negotiated) out.push(`Negotiated: ${negotiatedWords(c.negotiated).map(md).join(' · ')}`, '');
    if (c.impact.length) out.push(`Impact: ${c.impact.map(md).join(', ')}`, '');
    if (c.evidence.length) {
      out.push('Evidence:', '');
      for (const e of c.evidence) out.push(`- ${markdownCode(e.kind)}: ${md(e.detail)}`);
      out.push('');
    }
    for (const [name, file] of Object.entries(c.artifacts ?? {})) out.push(`- ${markdownParagraph(name)}: ${markdownLink(file, file)}`);
    if (c.artifacts) out.push('');
  }
}
