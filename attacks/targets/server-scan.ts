/**
 * `server-scan` against a target: the student's server alone, probed like sslscan does (see
 * server-probe.ts, which runs attacks/tls-scan.ts, the scanner of the profile `server-scan`) —
 * versions and suites accepted, TLS_FALLBACK_SCSV, its certificate, plaintext on the TLS port. Succeeded when the server accepts something that gives up a property (a
 * deprecated version, a suite without forward secrecy, a non-AEAD suite, a downgrade it does not
 * detect, a weak or self-signed certificate, plaintext); each finding names what shows it. When
 * nothing weak was seen but a probe went unanswered, there is no verdict: "blocked" would be a guess.
 */
import { PROBE_VERSIONS, probeFindings, probeServer } from './server-probe.ts';
import { startTargetServer } from './scenario.ts';
import type { TargetAttack } from './types.ts';

export const targetServerScan: TargetAttack = {
  id: 'server-scan',
  title: 'TLS server scan',
  description:
    "Probes the server alone, like sslscan: every TLS version and cipher suite it accepts, TLS_FALLBACK_SCSV, its certificate, and plaintext on its TLS port. Succeeds when the server accepts something that gives up a property (TLS < 1.2, no forward secrecy, CBC, undetected downgrade, a weak or self-signed certificate), naming it.",
  independentOfChat: true,
  applicability: (t) => (t.server.transport === 'tls' ? null : `the server speaks ${t.server.transport} first; the probe needs TLS from the first byte`),
  async run(ctx) {
    const { proc, port } = await startTargetServer(ctx.target);
    try {
      const p = await probeServer(port, ctx.target.client.expectServerName);
      const findings = probeFindings(p);
      const accepted = PROBE_VERSIONS.filter((v) => p.versions[v].length);
      const evidence = [
        ...PROBE_VERSIONS.map((v) => ({ kind: `accepted-${v}`, detail: p.versions[v].length ? p.versions[v].map((s) => `${s.name}${s.forwardSecret ? '' : ' (no FS)'}${s.aead ? '' : ' (CBC)'}`).join(', ') : 'refused' })),
        ...PROBE_VERSIONS.map((v) => ({ kind: `refusal-${v}`, detail: `${v}: ${p.versions[v].length ? 'then ' : ''}${p.refusals[v].refusal}` })),
        { kind: 'scan', detail: `${p.scan.probes} ClientHello probes in ${p.scan.durationMs} ms (attacks/tls-scan.ts: one per version and suite, by elimination; only the first answer read)` },
        { kind: 'fallback-scsv', detail: p.fallbackDetail },
        ...(p.certificate ? [{ kind: 'certificate', detail: `${p.certificate.subject}; issuer ${p.certificate.issuer}; SAN ${p.certificate.subjectAltName ?? 'none'}; ${p.certificate.keyType?.toUpperCase()}-${p.certificate.keyBits}; ${p.certificate.signatureAlgorithm ?? '?'}; valid ${p.certificate.validFrom} – ${p.certificate.validTo}` }] : []),
        { kind: 'plaintext', detail: p.plaintext.detail },
        ...findings.map((f) => ({ kind: 'finding', detail: f })),
      ];
      const data = { versions: p.versions, fallbackScsv: p.fallbackScsv, certificate: p.certificate, plaintextAnswered: p.plaintext.answered };
      if (!accepted.length) return { outcome: 'error', reason: 'no verdict: the server completed no TLS handshake at all with the probe', summary: 'no handshake', impact: [], evidence, negotiated: null, data };
      const unsure = PROBE_VERSIONS.filter((v) => p.refusals[v].inconclusive).map((v) => `${v}: ${p.refusals[v].refusal}`);
      if (p.fallbackScsv === 'unclear') unsure.push(p.fallbackDetail);
      if (findings.length) {
        return { outcome: 'succeeded', reason: `the server ${findings.join('; ')}`, summary: `${findings.length} weakness(es) accepted`, impact: ['confidentiality'], evidence, negotiated: null, data };
      }
      if (unsure.length) {
        return { outcome: 'error', reason: `nothing weak was accepted, but the server did not answer every probe (${unsure.join('; ')}), so the scan is incomplete`, summary: 'scan incomplete: no answer', impact: [], evidence, negotiated: null, data };
      }
      return {
        outcome: 'blocked',
        reason: `the server accepts only ${accepted.join(', ')} with forward-secret AEAD suites, refuses a fallback (inappropriate_fallback) where it can, presents a sound certificate and no plaintext`,
        summary: `only ${accepted.join('+')} FS AEAD`.slice(0, 40),
        impact: [],
        evidence,
        negotiated: null,
        data,
      };
    } finally {
      await proc.stop();
    }
  },
};
