/**
 * The properties labs teach, measured: each measure reads what the control conversation (the
 * chat with no attacker) negotiated on the wire and what the server still accepts when probed like
 * a scanner would (labs/server-probe.ts), and says whether the property holds, with the evidence.
 * A lab passes only when every measure of its property holds — an attack that was "not applicable"
 * never stands in for one.
 *
 * Suite properties follow the IANA names node reports as `standardName`
 * (TLS_<kx>_WITH_<cipher>_<mac>, RFC 5246 App. A.5; TLS 1.3 suites RFC 8446 §B.4, all AEAD with
 * (EC)DHE key exchange).
 */
import type { Negotiated as ChannelNegotiated } from '../core/channel/index.ts';
import type { NegotiatedTls } from '../core/tls/node-options.ts';
import { COSTLY_GROUPS, type ProbeQuestions, type ServerAcceptance } from './server-probe.ts';

/** The measures a lab.yaml `property.measures` may name. */
export const MEASURES = ['encrypted', 'authenticated-records', 'replay-protected', 'forward-secrecy', 'tls-1.2-or-newer', 'affordable-groups'] as const;
export type Measure = (typeof MEASURES)[number];

/** What a measure reads. */
export interface MeasureInput {
  /** what the control conversation negotiated (null when it never connected) */
  control: { tls: NegotiatedTls | null; channel: ChannelNegotiated | null } | null;
  /** what the server accepted when probed; null when the measure needs no probe */
  probe: ServerAcceptance | null;
}

/** One measure's result. */
export interface MeasureResult {
  measure: Measure;
  holds: boolean;
  /** one sentence: what was measured */
  evidence: string;
}

/** The probe questions each measure needs (none for those read off the control conversation). */
export const PROBE_QUESTIONS: Record<Measure, ProbeQuestions> = {
  encrypted: {},
  'authenticated-records': {},
  'replay-protected': {},
  'forward-secrecy': { staticRsa: true },
  'tls-1.2-or-newer': { versions: true },
  'affordable-groups': { groups: COSTLY_GROUPS },
};

/** The probe questions for a set of measures, merged. */
export function probeQuestionsFor(measures: readonly Measure[]): ProbeQuestions {
  const q: ProbeQuestions = {};
  for (const m of measures) {
    const x = PROBE_QUESTIONS[m];
    if (x.versions) q.versions = true;
    if (x.staticRsa) q.staticRsa = true;
    if (x.groups) q.groups = [...new Set([...(q.groups ?? []), ...x.groups])];
  }
  return q;
}

const TLS_RANK: Record<string, number> = { SSLv3: 0, TLSv1: 1, 'TLSv1.1': 2, 'TLSv1.2': 3, 'TLSv1.3': 4 };
/** Channel ciphers that authenticate every record: the AEADs, and CBC with HMAC-SHA256 (encrypt-then-MAC). */
const AUTHENTICATED_CHANNEL = new Set(['aes-256-gcm', 'aes-128-gcm', 'chacha20-poly1305', 'aes-128-cbc-hmac-sha256']);

/** True for a suite whose records are encrypted (not a NULL cipher). */
export function suiteEncrypts(suite: string): boolean {
  return !/_WITH_NULL_|(^|-)NULL(-|$)/i.test(suite);
}

/** True for an AEAD suite: every TLS 1.3 suite, and GCM / CCM / ChaCha20-Poly1305 ones before. */
export function suiteIsAead(suite: string, protocol: string | null): boolean {
  return protocol === 'TLSv1.3' || /GCM|CCM|CHACHA20/i.test(suite);
}

/** True when the suite's key exchange is ephemeral (TLS 1.3, or (EC)DHE before it). */
export function suiteIsEphemeral(suite: string, protocol: string | null): boolean {
  return protocol === 'TLSv1.3' || /^TLS_(EC)?DHE_|^(EC)?DHE-/i.test(suite);
}

function describeControl(c: NonNullable<MeasureInput['control']>): string {
  const parts = [c.tls ? `${c.tls.protocol} ${c.tls.cipher}${c.tls.group ? ` (${c.tls.group})` : ''}` : 'no TLS', c.channel && c.channel.keyExchange !== 'none' ? `secure channel ${c.channel.keyExchange} ${c.channel.cipher}` : null];
  return parts.filter(Boolean).join(', ');
}

/** Measures one property; never throws. */
export function measure(m: Measure, input: MeasureInput): MeasureResult {
  const c = input.control;
  const tlsUp = c?.tls?.protocol && c.tls.cipher ? c.tls : null;
  const channel = c?.channel && c.channel.keyExchange !== 'none' ? c.channel : null;
  const r = (holds: boolean, evidence: string): MeasureResult => ({ measure: m, holds, evidence });
  // Nothing negotiated, nothing to read a property from (a pin that refuses the real server, say).
  if (!c) return r(false, 'the chat with no attacker never connected, so the property could not be measured');
  const seen = `the chat with no attacker negotiated ${describeControl(c)}`;
  switch (m) {
    case 'encrypted': {
      const tlsEnc = !!tlsUp && suiteEncrypts(tlsUp.cipher!);
      const chEnc = !!channel && channel.cipher !== 'none' && channel.cipher !== 'null';
      return r(tlsEnc || chEnc, tlsEnc || chEnc ? `${seen}: its messages were encrypted` : `${seen}: its messages crossed the network unencrypted`);
    }
    case 'authenticated-records': {
      const tlsAead = !!tlsUp && suiteIsAead(tlsUp.cipher!, tlsUp.protocol);
      const chAead = !!channel && AUTHENTICATED_CHANNEL.has(channel.cipher) && channel.keyExchange !== 'ecdhe';
      if (channel && !tlsAead) {
        if (channel.keyExchange === 'ecdhe') return r(false, `${seen}: the channel's key exchange is unsigned, so an attacker can be the other end of it`);
        return r(chAead, chAead ? `${seen}: every record is authenticated` : `${seen}: ${channel.cipher} does not authenticate records, so they can be changed unnoticed`);
      }
      return r(tlsAead, tlsAead ? `${seen}: every record is authenticated (AEAD)` : `${seen}: the records are not protected by an AEAD`);
    }
    case 'replay-protected': {
      if (channel) {
        const ok = channel.replayProtection !== 'none';
        return r(ok, ok ? `${seen}: channel records carry replay protection (${channel.replayProtection})` : `${seen}: channel records carry no sequence number or nonce (replayProtection: none)`);
      }
      // TLS records carry an implicit sequence number in their MAC/nonce (RFC 5246 §6.2.3, RFC 8446 §5.3).
      return r(!!tlsUp, tlsUp ? `${seen}: TLS numbers every record` : `${seen}: nothing numbers the records`);
    }
    case 'forward-secrecy': {
      if (channel && !tlsUp) {
        const ok = channel.keyExchange === 'ecdhe-signed' || channel.keyExchange === 'ecdhe';
        return r(ok, ok ? `${seen}: the channel key comes from an ephemeral ECDHE exchange` : `${seen}: the channel key is wrapped with the server's long-term key`);
      }
      if (!tlsUp) return r(false, `${seen}: there is no key exchange to protect`);
      if (!suiteIsEphemeral(tlsUp.cipher!, tlsUp.protocol)) return r(false, `${seen}: static RSA key exchange, so the server key decrypts a recording`);
      const rsa = input.probe?.staticRsa;
      if (!rsa) return r(false, `${seen}, but the server was not probed for static RSA`);
      if (rsa.accepted) return r(false, `${seen}, but the server still accepts static RSA key exchange (${rsa.protocol} ${rsa.suite}) from any client that offers only that: a recording of such a client's session opens with the server key`);
      return r(true, `${seen}, and the server refused a ClientHello offering only static RSA suites (${rsa.refusal})`);
    }
    case 'tls-1.2-or-newer': {
      if (!tlsUp) return r(false, `${seen}: the chat did not run over TLS`);
      if ((TLS_RANK[tlsUp.protocol!] ?? 0) < TLS_RANK['TLSv1.2']) return r(false, `${seen}: older than TLS 1.2 (RFC 8996 deprecates TLS 1.0 and 1.1)`);
      const versions = input.probe?.versions ?? [];
      if (!versions.length) return r(false, `${seen}, but the server was not probed for older versions`);
      const old = versions.filter((v) => TLS_RANK[v.version] < TLS_RANK['TLSv1.2'] && v.accepted);
      if (old.length) return r(false, `${seen}, but the server still completes handshakes with ${old.map((v) => `${v.version} (${v.suite})`).join(' and ')}: any client that offers only those gets them`);
      return r(true, `${seen}, and the server refused TLS 1.0 and 1.1 handshakes (${versions.find((v) => v.version === 'TLSv1')?.refusal ?? 'refused'})`);
    }
    case 'affordable-groups': {
      const groups = input.probe?.groups ?? [];
      if (input.probe && !input.probe.tls) return r(true, 'the server speaks no TLS, so it offers no finite-field group');
      if (!groups.length) return r(false, 'the server was not probed for costly groups');
      const costly = groups.filter((g) => g.accepted);
      const ctl = tlsUp?.group && /^DH-(\d+)$/.exec(tlsUp.group);
      if (ctl && Number(ctl[1]) >= 4096) return r(false, `${seen}: a ${ctl[1]}-bit finite-field group in every handshake`);
      if (costly.length) return r(false, `the server still accepts ${costly.map((g) => g.offered).join(', ')} from a client that offers only ${costly.length > 1 ? 'one of them' : 'it'}: each such handshake costs the server's event loop as much as the lab's slow clients`);
      return r(true, `the server refused ClientHellos offering only ${groups.map((g) => g.offered).join(', ')}`);
    }
  }
}
