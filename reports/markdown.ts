/**
 * Markdown renderer: the matrix table, then each profile with its settings, its weak settings,
 * and each cell's outcome, reason and evidence.
 */
import { stringify } from 'yaml';
import { weaknessesOf } from '../core/weaknesses.ts';
import { effectiveSettings } from '../core/profile.ts';
import { OUTCOME_LABELS, type MatrixResults } from './results.ts';

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Renders results.json as a Markdown report. */
export function renderMarkdown(r: MatrixResults): string {
  const attacks = r.attacks.map((a) => a.id);
  const out: string[] = [];
  out.push(`# secchat attack matrix`, '');
  out.push(`secchat ${r.tool.version} · Node ${r.environment.node} · OpenSSL ${r.environment.openssl} · ${r.startedAt} · ${(r.durationMs / 1000).toFixed(1)} s`, '');
  out.push(`Reproduce: \`${r.command}\``, '');
  out.push('Outcomes: **SUCCEEDED** — the attacker read or altered the canary, or had a replay or downgrade accepted (evidence below); **blocked** — something stopped it (named in the reason); **n/a** — the precondition is missing; **ERROR** — the run itself failed.', '');
  out.push(`| profile | ${attacks.join(' | ')} |`);
  out.push(`|---|${attacks.map(() => '---').join('|')}|`);
  for (const p of r.profiles) {
    const cells = attacks.map((a) => {
      const c = r.cells.find((x) => x.profile === p.name && x.attack === a);
      return c ? (c.outcome === 'succeeded' ? `**${OUTCOME_LABELS[c.outcome]}**` : OUTCOME_LABELS[c.outcome]) : '';
    });
    out.push(`| ${p.name} | ${cells.join(' | ')} |`);
  }
  out.push('', '## Attacks', '');
  for (const a of r.attacks) out.push(`- **${a.id}** — ${esc(a.description)}`);
  for (const p of r.profiles) {
    out.push('', `## Profile \`${p.name}\``, '', p.description || '(no description)', '');
    out.push('```yaml', stringify(effectiveSettings(p.settings)).trimEnd(), '```', '');
    const weak = weaknessesOf(p.settings);
    if (weak.length) {
      out.push('Weak settings:', '');
      for (const w of weak) out.push(`- \`${w.setting}\`: ${w.weakness}. Fix: \`${w.fix}\` (lab ${w.lab}).`);
      out.push('');
    }
    for (const w of p.warnings.filter((w) => !weak.some((x) => w.includes(x.weakness)))) out.push(`> warning: ${w}`, '');
    for (const c of r.cells.filter((x) => x.profile === p.name)) {
      out.push(`### ${c.attack}: ${OUTCOME_LABELS[c.outcome]}`, '');
      out.push(c.reason, '');
      if (c.negotiated) out.push(`Negotiated: ${c.negotiated.protocol ?? '?'} · ${c.negotiated.cipher ?? '?'} · ${c.negotiated.group ?? 'no (EC)DHE group'}`, '');
      if (c.impact.length) out.push(`Impact: ${c.impact.join(', ')}`, '');
      if (c.evidence.length) {
        out.push('Evidence:', '');
        for (const e of c.evidence) out.push(`- \`${e.kind}\`: ${esc(e.detail)}`);
        out.push('');
      }
      for (const [name, file] of Object.entries(c.artifacts ?? {})) out.push(`- ${name}: [${file}](${file})`);
      if (c.artifacts) out.push('');
    }
  }
  return out.join('\n') + '\n';
}
