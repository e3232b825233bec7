/**
 * server-scan — what sslscan or testssl.sh would tell an attacker about secchat's own server.
 *
 * The attacker connects straight to the real server (no victim needed) and sends one hand-built
 * ClientHello per version and suite (attacks/tls-scan.ts), then checks TLS_FALLBACK_SCSV
 * (RFC 7507). Over STARTTLS it first asks for the upgrade, as any client may.
 *
 * Verdict, from the server's answers only: `succeeded` when the server accepted something that
 * gives up a property — a suite without forward secrecy (static RSA), a version below TLS 1.2
 * (RFC 8996), a suite that is not AEAD (CBC, MAC-then-encrypt), NULL/anonymous/export suites, or a
 * marked fallback (no RFC 7507 enforcement); the evidence lists each accepted suite and what it
 * breaks. `blocked` names what the server refused (its alerts). `error` when the server accepted
 * no version at all (nothing was measured).
 */
import type net from 'node:net';
import { encodeFrame, FrameDecoder, type Frame } from '../../core/frames.ts';
import type { SuiteInfo } from '../../core/tls-capabilities.ts';
import { scanTlsServer, type ScanVersion, type TlsScanReport, type VersionScan } from '../tls-scan.ts';
import type { Attack, Evidence, Impact, Verdict } from '../types.ts';

/** Versions RFC 8996 deprecates (and SSLv3, RFC 7568). */
const DEPRECATED: readonly ScanVersion[] = ['SSLv3', 'TLSv1', 'TLSv1.1'];

/** A property an accepted suite gives up: its short name (for grouping) and the sentence. */
export interface BrokenProperty {
  property: 'deprecated version' | 'no forward secrecy' | 'not AEAD' | 'no encryption' | 'no server authentication' | 'export-grade keys';
  detail: string;
}

/** The properties an accepted suite gives up on a version; empty when it keeps them all. */
export function propertiesBroken(version: ScanVersion, s: SuiteInfo): BrokenProperty[] {
  const out: BrokenProperty[] = [];
  if (DEPRECATED.includes(version)) out.push({ property: 'deprecated version', detail: `deprecated version ${version} (RFC 8996)` });
  if (s.nullEncryption) out.push({ property: 'no encryption', detail: 'no encryption (NULL cipher)' });
  if (s.anonymous) out.push({ property: 'no server authentication', detail: 'no server authentication (anonymous key exchange)' });
  if (s.export) out.push({ property: 'export-grade keys', detail: 'export-grade keys' });
  if (!s.forwardSecret) out.push({ property: 'no forward secrecy', detail: s.staticRsa ? 'no forward secrecy (static RSA key exchange)' : `no forward secrecy (${s.kx} key exchange)` });
  if (!s.aead && !s.nullEncryption) out.push({ property: 'not AEAD', detail: `not AEAD (${s.enc} with ${s.mac} MAC)` });
  return out;
}

const IMPACT_OF: Record<BrokenProperty['property'] | 'no fallback protection', Impact[]> = {
  'deprecated version': ['integrity'],
  'no forward secrecy': ['confidentiality'],
  'not AEAD': ['confidentiality', 'integrity'],
  'no encryption': ['confidentiality'],
  'no server authentication': ['authentication'],
  'export-grade keys': ['confidentiality'],
  'no fallback protection': ['integrity'],
};

/**
 * A `beforeHello` hook for secchat's STARTTLS: read the welcome, send `starttls`, wait for
 * `starttls_ok` (docs/protocol.md). Rejects on anything else or after `timeoutMs`.
 */
export function secchatStartTls(timeoutMs = 3000): (sock: net.Socket) => Promise<void> {
  return (sock) =>
    new Promise<void>((resolve, reject) => {
      const dec = new FrameDecoder();
      let sent = false;
      const timer = setTimeout(() => done(new Error(`no starttls_ok within ${timeoutMs} ms`)), timeoutMs);
      const done = (err?: Error) => {
        clearTimeout(timer);
        sock.off('data', onData);
        if (err) reject(err);
        else resolve();
      };
      const onData = (d: Buffer) => {
        try {
          dec.push(d);
          for (let f: Frame | null = dec.next(); f; f = dec.next()) {
            if (f.type === 'welcome' && !sent) {
              if (!(f as { starttls?: boolean }).starttls) return done(new Error('the welcome offers no starttls'));
              sent = true;
              sock.write(encodeFrame({ type: 'starttls' } as Frame));
            } else if (f.type === 'starttls_ok') return done();
            else if (f.type === 'error') return done(new Error(`server error frame: ${String((f as { code?: string }).code)}`));
          }
        } catch (e) {
          done(e as Error);
        }
      };
      sock.on('data', onData);
    });
}

/** Evidence lines and verdict parts from a scan report. */
export function scanFindings(r: TlsScanReport): { broken: Array<{ version: ScanVersion; suite: SuiteInfo; broken: BrokenProperty[] }>; evidence: Evidence[] } {
  const broken: Array<{ version: ScanVersion; suite: SuiteInfo; broken: BrokenProperty[] }> = [];
  const evidence: Evidence[] = [];
  for (const v of r.versions) {
    if (v.accepted.length === 0) {
      evidence.push({ kind: 'refused-version', detail: `${v.version}: refused (${v.refusal})` });
      continue;
    }
    const items = v.accepted.map((s) => {
      const b = propertiesBroken(v.version, s);
      if (b.length) broken.push({ version: v.version, suite: s, broken: b });
      return `${s.openssl}${b.length ? ` — gives up: ${b.map((x) => x.detail).join(', ')}` : ' (forward secret, AEAD)'}`;
    });
    evidence.push({ kind: 'accepted-suites', detail: `${v.version}: the server accepted ${v.accepted.length} suite(s): ${items.join('; ')}; then ${v.refusal}` });
  }
  evidence.push({ kind: 'fallback-scsv', detail: r.fallbackScsv.detail });
  evidence.push({ kind: 'scan', detail: `${r.probes} ClientHello probes in ${r.durationMs} ms (one per version and suite, by elimination; only the first answer read)` });
  return { broken, evidence };
}

/** Versions whose every probe was refused, with the reason, for a `blocked` sentence. */
function refusedSummary(versions: VersionScan[]): string {
  const refused = versions.filter((v) => v.accepted.length === 0);
  return refused.length ? `refused ${refused.map((v) => `${v.version} (${v.refusal})`).join(', ')}` : 'accepted every version';
}

/**
 * The verdict from a scan report alone (pure): `succeeded` when something accepted gives up a
 * property, `error` when nothing was accepted or a probe went unanswered, else `blocked`.
 */
export function scanVerdict(report: TlsScanReport): Verdict {
  const { broken, evidence } = scanFindings(report);
  const data = {
    probes: report.probes,
    durationMs: report.durationMs,
    versions: report.versions.map((v) => ({
      version: v.version,
      refusal: v.refusal,
      accepted: v.accepted.map((s) => ({ id: s.id, iana: s.iana, openssl: s.openssl, breaks: propertiesBroken(v.version, s).map((b) => b.detail) })),
    })),
    fallbackScsv: report.fallbackScsv,
  };
  const acceptedAny = report.versions.some((v) => v.accepted.length > 0);
  if (!acceptedAny) {
    const why = report.versions.map((v) => `${v.version}: ${v.refusal}`).join('; ');
    return { outcome: 'error', reason: `the server accepted no TLS version at all, so nothing was measured (${why})`, summary: 'no TLS version accepted', impact: [], evidence, negotiated: null, data };
  }
  const noScsv = report.fallbackScsv.enforced === false;
  if (broken.length > 0 || noScsv) {
    const byProperty = new Map<string, string[]>();
    for (const b of broken) for (const what of b.broken) byProperty.set(what.property, [...(byProperty.get(what.property) ?? []), `${b.suite.openssl} on ${b.version}`]);
    const parts = [...byProperty.entries()].map(([what, where]) => `${what}: ${where.slice(0, 4).join(', ')}${where.length > 4 ? ` and ${where.length - 4} more` : ''}`);
    if (noScsv) parts.push('no fallback protection: a marked fallback (TLS_FALLBACK_SCSV, RFC 7507) was accepted');
    const impact = [...new Set([...byProperty.keys(), ...(noScsv ? ['no fallback protection'] : [])].flatMap((k) => IMPACT_OF[k as keyof typeof IMPACT_OF]))];
    const first = broken[0];
    return {
      outcome: 'succeeded',
      reason: `the server accepted what gives up a property — ${parts.join('; ')}`,
      summary: (first ? `accepts ${first.suite.openssl} on ${first.version}` : 'fallback SCSV not enforced').slice(0, 40),
      impact,
      evidence,
      negotiated: null,
      data,
    };
  }
  const unsure = report.versions.filter((v) => v.inconclusive).map((v) => `${v.version}: ${v.refusal}`);
  if (report.fallbackScsv.tested && report.fallbackScsv.enforced === null) unsure.push(report.fallbackScsv.detail);
  if (unsure.length) {
    // Nothing weak was seen, but a probe went unanswered: "blocked" would be a guess.
    return { outcome: 'error', reason: `nothing weak was accepted, but the server did not answer every probe (${unsure.join('; ')}), so the scan is incomplete`, summary: 'scan incomplete: no answer', impact: [], evidence, negotiated: null, data };
  }
  const restRefused = [...new Set(report.versions.filter((v) => v.accepted.length > 0).map((v) => v.refusal))].join(', ');
  const accepted = report.versions.filter((v) => v.accepted.length > 0).map((v) => `${v.version} (${v.accepted.map((s) => s.openssl).join(', ')})`);
  const scsv = report.fallbackScsv.enforced ? '; a marked fallback was refused with inappropriate_fallback (RFC 7507)' : `; ${report.fallbackScsv.detail}`;
  return {
    outcome: 'blocked',
    reason: `the server ${refusedSummary(report.versions)} and every static-RSA, CBC, NULL, anonymous or export suite offered (${restRefused}); it accepted only forward-secret AEAD suites: ${accepted.join('; ')}${scsv}`,
    summary: 'only forward-secret AEAD on TLS ≥ 1.2',
    impact: [],
    evidence,
    negotiated: null,
    data,
  };
}

export const serverScan: Attack = {
  id: 'server-scan',
  title: 'TLS server scan',
  description:
    'Like sslscan against the chat server: one ClientHello per TLS version and cipher suite, and a TLS_FALLBACK_SCSV check (RFC 7507). Succeeds when the server accepts something that gives up a property — no forward secrecy, a version below TLS 1.2, a non-AEAD suite, NULL/anonymous/export suites, or a marked fallback.',
  independentOfChat: true,
  applicability(p) {
    if (p.transport === 'plain') return 'transport: plain — the server speaks no TLS, so there is no TLS configuration to scan (the secure channel, if any, is not TLS)';
    return null;
  },
  async run(ctx) {
    const server = await ctx.startServer();
    try {
      const report = await scanTlsServer({
        host: '127.0.0.1',
        port: server.port,
        serverName: 'localhost',
        beforeHello: ctx.profile.transport === 'tls' ? undefined : secchatStartTls(),
      });
      return scanVerdict(report);
    } finally {
      await server.close();
    }
  },
};
