/**
 * What a TLS attacker reads off the wire about cipher suites (used by downgrade-suite): the
 * victim's offer from its ClientHello, the weakest suites in it (core/tls/cipher-suites.ts
 * `compareSuiteStrength`), and the server's first flight — its ServerHello and any plaintext
 * alerts. Pure functions over bytes and decoded messages.
 */
import { parseAlert } from '../../core/tls/alerts.ts';
import { CIPHER_SUITES, compareSuiteStrength, type CipherSuiteInfo } from '../../core/tls/cipher-suites.ts';
import type { ClientHello } from '../../core/tls/client-hello.ts';
import { HandshakeReassembler } from '../../core/tls/handshake-reassembly.ts';
import { TlsRecordReader, tlsStart } from '../../core/tls/record-layer.ts';
import { CONTENT_TYPE, HANDSHAKE_TYPE, isGrease } from '../../core/tls/registry.ts';
import { parseServerHello, type ServerHello } from '../../core/tls/server-hello.ts';

const TLS13 = 0x0304;

/** The victim's offer as the attacker reads it from the ClientHello. */
export interface SuiteOffer {
  /** every known suite offered that the offered versions can negotiate, in the victim's order */
  suites: Array<Readonly<CipherSuiteInfo>>;
  /** offered values secchat does not model (not ranked), as names */
  unranked: string[];
  /** the hello offers TLS 1.3 (supported_versions) */
  tls13: boolean;
  /** the hello offers a version below TLS 1.3 */
  legacy: boolean;
}

/** Reads the offer from a decoded ClientHello (RFC 8446 §4.1.2, §4.2.1). */
export function suiteOffer(hello: ClientHello): SuiteOffer {
  const versions = (hello.supportedVersions ?? [hello.legacyVersion]).filter((v) => !isGrease(v));
  const tls13 = versions.includes(TLS13);
  const legacy = versions.some((v) => v < TLS13);
  const suites: Array<Readonly<CipherSuiteInfo>> = [];
  const unranked: string[] = [];
  for (const s of hello.cipherSuites) {
    const info = CIPHER_SUITES.get(s.id);
    if (!info) {
      if (s.name !== 'GREASE' && !s.name.endsWith('_SCSV')) unranked.push(s.name);
      continue;
    }
    if (info.keyExchange === 'TLS13' ? tls13 : legacy) suites.push(info);
  }
  return { suites, unranked, tls13, legacy };
}

/** The suites of `offer` that tie for weakest, in the victim's order (empty for an empty offer). */
export function weakestSuites(suites: ReadonlyArray<Readonly<CipherSuiteInfo>>): Array<Readonly<CipherSuiteInfo>> {
  if (!suites.length) return [];
  const min = suites.reduce((a, b) => (compareSuiteStrength(b, a) < 0 ? b : a));
  return suites.filter((s) => compareSuiteStrength(s, min) === 0);
}

/** What the server sent first on a TLS stream: its ServerHello, and any plaintext alerts. */
export function serverFlight(s2c: Buffer): { serverHello: ServerHello | null; alerts: string[] } {
  const at = tlsStart(s2c, HANDSHAKE_TYPE.server_hello);
  const alertAt = s2c.findIndex((b, i) => b === CONTENT_TYPE.alert && s2c[i + 1] === 3 && (i === 0 || s2c[i - 1] === 0x0a));
  const from = at >= 0 ? at : alertAt;
  const out = { serverHello: null as ServerHello | null, alerts: [] as string[] };
  if (from < 0) return out;
  try {
    const reader = new TlsRecordReader();
    reader.push(s2c.subarray(from));
    const hs = new HandshakeReassembler();
    for (let rec = reader.next(); rec; rec = reader.next()) {
      if (rec.type === CONTENT_TYPE.handshake && !out.serverHello) {
        hs.push(rec.fragment);
        const msg = hs.next();
        if (msg?.msgType === HANDSHAKE_TYPE.server_hello) out.serverHello = parseServerHello(msg.body);
      } else if (rec.type === CONTENT_TYPE.alert && rec.fragment.length === 2) {
        const a = parseAlert(rec.fragment);
        out.alerts.push(`${a.level === 2 ? 'fatal' : 'warning'} ${a.name}`);
      }
    }
  } catch {
    // encrypted records or a cut stream end the reading: what was read so far stands
  }
  return out;
}

