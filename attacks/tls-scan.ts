/**
 * A TLS server scanner in the manner of sslscan / testssl.sh: which protocol versions and cipher
 * suites does a server accept, and does it enforce TLS_FALLBACK_SCSV (RFC 7507)?
 *
 * Method (the one sslscan 2 uses): per version, one hand-built ClientHello offering every suite
 * OpenSSL knows (`openssl ciphers ALL:COMPLEMENTOFALL`, plus the five TLS 1.3 suites); the server
 * picks one, which is recorded and removed from the next offer, until the server refuses the rest.
 * Only the first answer is read — a ServerHello (RFC 5246 §7.4.1.3, RFC 8446 §4.1.3; a
 * HelloRetryRequest also names the suite the server chose) or an alert (RFC 5246 §7.2) — then the
 * connection is dropped, so a probe costs one TCP round trip and no key exchange on our side.
 *
 * A server that picks a suite and then fails (an alert other than handshake_failure,
 * protocol_version or insufficient_security, e.g. internal_error when OpenSSL 3 cannot sign a
 * TLS 1.0 handshake) would end the elimination early and hide the suites after it; the offer is
 * then split in halves and each half enumerated on its own, so every suite the server accepts is
 * still found (a false "refused" is the worst error a scanner can make).
 *
 * Socket I/O lives in {@link probeHello}; the elimination logic in {@link enumerateSuites} is
 * independent of sockets (it takes the probe as a function). Loops are bounded: each probe removes
 * a suite or ends its branch, and {@link MAX_PROBES_PER_VERSION} caps the total.
 */
import net from 'node:net';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { ALERT_DESCRIPTION, alertName, parseAlert } from '../core/tls/alerts.ts';
import { buildClientHello } from '../core/tls/client-hello.ts';
import { HandshakeReassembler } from '../core/tls/handshake-reassembly.ts';
import { TlsRecordReader } from '../core/tls/record-layer.ts';
import { CONTENT_TYPE, EXTENSION_TYPE, HANDSHAKE_TYPE, TLS_FALLBACK_SCSV, versionName } from '../core/tls/registry.ts';
import { parseServerHello } from '../core/tls/server-hello.ts';
import { opensslEnabledSuites, type SuiteInfo } from '../core/tls-capabilities.ts';

/** Versions a scan probes, oldest first (SSLv3 included: a server that still speaks it must be found). */
export const SCAN_VERSIONS = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type ScanVersion = (typeof SCAN_VERSIONS)[number];

/** Wire value of a scanned version (SSLv3 = 0x0300 … TLS 1.3 = 0x0304, RFC 8446 §4.2.1). */
export function scanWireVersion(v: ScanVersion): number {
  return 0x0300 + SCAN_VERSIONS.indexOf(v);
}

/** Upper bound on probes for one version (a server accepting every suite needs ~2 per suite). */
export const MAX_PROBES_PER_VERSION = 600;
/** Default wait for the server's first answer to one probe, in ms (loopback answers in < 5 ms). */
export const DEFAULT_PROBE_TIMEOUT_MS = 3000;

/** Alerts that mean "nothing I can accept in this offer", which end an elimination. */
const REFUSAL_ALERTS = new Set<number>([ALERT_DESCRIPTION.handshake_failure, ALERT_DESCRIPTION.protocol_version, ALERT_DESCRIPTION.insufficient_security]);

/** The first thing a server answered to one ClientHello. */
export type ProbeAnswer =
  | { kind: 'hello'; version: number; suite: number; helloRetryRequest: boolean }
  | { kind: 'alert'; description: number; name: string }
  | { kind: 'closed' }
  | { kind: 'timeout' }
  | { kind: 'garbage'; detail: string }
  | { kind: 'error'; detail: string };

/** Sends one ClientHello and reads the server's first answer. Injected in tests. */
export type HelloProbe = (version: ScanVersion, suites: number[], opts?: { fallbackScsv?: boolean }) => Promise<ProbeAnswer>;

/** The suites a scan offers: every suite OpenSSL knows (PSK and SRP ones included), plus all five TLS 1.3 suites. */
export function scanUniverse(): SuiteInfo[] {
  return opensslEnabledSuites('ALL:COMPLEMENTOFALL:@SECLEVEL=0', 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256', { supportedOnly: false });
}

/** What one version's enumeration found. */
export interface VersionScan {
  version: ScanVersion;
  /** accepted suites, in the order the server chose them (its preference, or ours) */
  accepted: SuiteInfo[];
  /** why the server took nothing more: the alert name, "closed", "answered TLSv1.2"… */
  refusal: string;
  /**
   * true when the search ended on no answer (timeout, socket error, bytes that are not TLS), twice
   * in a row: nothing more may be accepted, or the server may just have been busy — not a refusal
   */
  inconclusive: boolean;
  probes: number;
}

/** One step of the scan, for evidence: what was offered and answered. */
export function describeAnswer(a: ProbeAnswer): string {
  switch (a.kind) {
    case 'hello':
      return `${a.helloRetryRequest ? 'HelloRetryRequest' : 'ServerHello'} ${versionName(a.version)} 0x${a.suite.toString(16).padStart(4, '0')}`;
    case 'alert':
      return `alert ${a.name} (${a.description})`;
    case 'closed':
      return 'connection closed without an answer';
    case 'timeout':
      return 'no answer (timeout)';
    default:
      return a.detail;
  }
}

/**
 * Finds every suite of `candidates` the server accepts on `version` by elimination (see file
 * comment), splitting the offer when the server fails after choosing.
 * @returns accepted suites and the refusal that ended the search
 */
export async function enumerateSuites(probe: HelloProbe, version: ScanVersion, candidates: SuiteInfo[], maxProbes = MAX_PROBES_PER_VERSION): Promise<VersionScan> {
  const wire = scanWireVersion(version);
  const accepted: SuiteInfo[] = [];
  let probes = 0;
  let firstRefusal = '';
  let inconclusive = false;
  const noAnswer = (a: ProbeAnswer) => a.kind === 'timeout' || a.kind === 'error' || a.kind === 'garbage';
  const run = async (offer: SuiteInfo[]): Promise<void> => {
    let remaining = offer;
    while (remaining.length > 0 && probes < maxProbes) {
      probes++;
      let a = await probe(version, remaining.map((s) => s.id));
      if (noAnswer(a) && probes < maxProbes) {
        // One more try before concluding anything: a busy server is not a refusing one.
        probes++;
        a = await probe(version, remaining.map((s) => s.id));
        if (noAnswer(a)) inconclusive = true;
      }
      if (a.kind === 'hello') {
        const chosen = remaining.find((s) => s.id === a.suite);
        if (a.version === wire && chosen) {
          accepted.push(chosen);
          remaining = remaining.filter((s) => s !== chosen);
          continue;
        }
        firstRefusal ||= a.version !== wire ? `answered with ${versionName(a.version)} instead` : `chose suite 0x${a.suite.toString(16)} it was not offered`;
        return;
      }
      if (a.kind === 'alert' && !REFUSAL_ALERTS.has(a.description) && remaining.length > 1) {
        // The server chose something and then failed: look at each half alone.
        const mid = Math.ceil(remaining.length / 2);
        await run(remaining.slice(0, mid));
        await run(remaining.slice(mid));
        return;
      }
      firstRefusal ||= describeAnswer(a);
      return;
    }
    if (probes >= maxProbes) firstRefusal ||= `stopped after ${maxProbes} probes`;
  };
  await run(candidates);
  return { version, accepted, refusal: firstRefusal || 'every offered suite was accepted', inconclusive, probes };
}

/** Where and how to reach the server. */
export interface ScanTarget {
  host: string;
  port: number;
  /** SNI host_name; default none (an IP address) */
  serverName?: string;
  /**
   * Runs on each fresh TCP connection before the ClientHello (e.g. a STARTTLS exchange); resolves
   * when the next byte may be TLS.
   */
  beforeHello?: (sock: net.Socket) => Promise<void>;
  /** per probe, ms */
  timeoutMs?: number;
}

// Everything a modern client offers, so that only the server's settings limit its answer.
const ALL_GROUPS = [0x001d, 0x0017, 0x0018, 0x0019, 0x001e, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104];
const ALL_SIGALGS = [0x0804, 0x0805, 0x0806, 0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201, 0x0402, 0x0502, 0x0602, 0x0202];

let x25519Share: Buffer | null = null;
/** An X25519 key share (RFC 8446 §4.2.8) so TLS 1.3 servers answer with a ServerHello, not a HelloRetryRequest. */
function keyShareExtension(): { type: number; data: Buffer } {
  if (!x25519Share) {
    const { publicKey } = generateKeyPairSync('x25519');
    x25519Share = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
  }
  const entry = Buffer.alloc(4);
  entry.writeUInt16BE(0x001d, 0);
  entry.writeUInt16BE(32, 2);
  const list = Buffer.concat([entry, x25519Share]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(list.length);
  return { type: EXTENSION_TYPE.key_share, data: Buffer.concat([len, list]) };
}

/** The ClientHello record of one probe. */
export function probeHelloBytes(version: ScanVersion, suites: number[], opts: { serverName?: string; fallbackScsv?: boolean } = {}): Buffer {
  const tls13 = version === 'TLSv1.3';
  return buildClientHello({
    legacyVersion: tls13 ? 0x0303 : scanWireVersion(version),
    recordVersion: version === 'SSLv3' ? 0x0300 : 0x0301,
    random: randomBytes(32),
    sessionId: tls13 ? randomBytes(32) : undefined, // middlebox compatibility mode, RFC 8446 §D.4
    cipherSuites: [...suites, ...(opts.fallbackScsv ? [TLS_FALLBACK_SCSV] : [])],
    serverName: opts.serverName,
    supportedGroups: ALL_GROUPS,
    signatureAlgorithms: ALL_SIGALGS,
    supportedVersions: tls13 ? [0x0304] : undefined,
    extraExtensions: tls13 ? [keyShareExtension()] : [],
  });
}

/**
 * A {@link HelloProbe} over TCP: connect, run `beforeHello`, send the ClientHello, read records
 * until the first handshake message or alert, close.
 */
export function tcpProbe(target: ScanTarget): HelloProbe {
  const timeoutMs = target.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  return (version, suites, opts = {}) =>
    new Promise<ProbeAnswer>((resolve) => {
      const sock = net.connect({ host: target.host, port: target.port });
      const reader = new TlsRecordReader();
      const hs = new HandshakeReassembler();
      let done = false;
      const finish = (a: ProbeAnswer) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        resolve(a);
      };
      const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
      sock.once('error', (e) => finish({ kind: 'error', detail: e.message }));
      sock.once('close', () => finish({ kind: 'closed' }));
      sock.once('connect', async () => {
        try {
          if (target.beforeHello) await target.beforeHello(sock);
        } catch (e) {
          finish({ kind: 'error', detail: `before the ClientHello: ${(e as Error).message}` });
          return;
        }
        sock.on('data', (d: Buffer) => {
          try {
            reader.push(d);
            for (let rec = reader.next(); rec; rec = reader.next()) {
              if (rec.type === CONTENT_TYPE.alert) {
                const al = parseAlert(rec.fragment.subarray(0, 2));
                return finish({ kind: 'alert', description: al.description, name: alertName(al.description) });
              }
              if (rec.type !== CONTENT_TYPE.handshake) return finish({ kind: 'garbage', detail: `record type ${rec.type} before any ServerHello` });
              hs.push(rec.fragment);
              const msg = hs.next();
              if (!msg) continue;
              if (msg.msgType !== HANDSHAKE_TYPE.server_hello) return finish({ kind: 'garbage', detail: `handshake message ${msg.msgType} instead of a ServerHello` });
              const sh = parseServerHello(msg.body);
              return finish({ kind: 'hello', version: sh.selectedVersion, suite: sh.cipherSuite.id, helloRetryRequest: sh.helloRetryRequest });
            }
          } catch (e) {
            finish({ kind: 'garbage', detail: `not TLS: ${(e as Error).message}` });
          }
        });
        sock.write(probeHelloBytes(version, suites, { serverName: target.serverName, fallbackScsv: opts.fallbackScsv }));
      });
    });
}

/** Whether the server refuses a fallback marked with TLS_FALLBACK_SCSV (RFC 7507 §3). */
export interface FallbackScsvResult {
  /** false when the server accepts fewer than two versions: there is nothing to fall back from */
  tested: boolean;
  /** true: alert inappropriate_fallback; false: the fallback was accepted; null: not tested / unclear */
  enforced: boolean | null;
  detail: string;
}

/** The whole scan. */
export interface TlsScanReport {
  versions: VersionScan[];
  fallbackScsv: FallbackScsvResult;
  probes: number;
  durationMs: number;
}

/**
 * Probes the fallback rule: a ClientHello for the second-highest accepted version, offering that
 * version's accepted suites and TLS_FALLBACK_SCSV; RFC 7507 §3 requires alert inappropriate_fallback.
 */
export async function probeFallbackScsvRule(probe: HelloProbe, versions: VersionScan[]): Promise<FallbackScsvResult> {
  const ok = versions.filter((v) => v.accepted.length > 0);
  if (ok.length < 2) return { tested: false, enforced: null, detail: `the server accepts ${ok.length ? 'only ' + ok[0]!.version : 'no version'}: there is no lower version to fall back to` };
  const high = ok[ok.length - 1]!;
  const low = ok[ok.length - 2]!;
  const a = await probe(low.version, low.accepted.map((s) => s.id), { fallbackScsv: true });
  const what = `a ${low.version} ClientHello carrying TLS_FALLBACK_SCSV (the server also accepts ${high.version})`;
  if (a.kind === 'alert' && a.description === ALERT_DESCRIPTION.inappropriate_fallback) return { tested: true, enforced: true, detail: `${what} was refused with alert inappropriate_fallback (86), as RFC 7507 requires` };
  if (a.kind === 'hello') return { tested: true, enforced: false, detail: `${what} was accepted (${describeAnswer(a)}): the server does not enforce RFC 7507` };
  return { tested: true, enforced: null, detail: `${what} got ${describeAnswer(a)}, not inappropriate_fallback` };
}

/**
 * Scans a server: every version of {@link SCAN_VERSIONS} in parallel, each enumerated by
 * elimination, then the fallback rule.
 * @param probe how to send one ClientHello (default {@link tcpProbe} of `target`)
 */
export async function scanTlsServer(target: ScanTarget, probe: HelloProbe = tcpProbe(target)): Promise<TlsScanReport> {
  const started = performance.now();
  const universe = scanUniverse();
  const versions = await Promise.all(
    SCAN_VERSIONS.map((v) =>
      enumerateSuites(
        probe,
        v,
        universe.filter((s) => (v === 'TLSv1.3' ? s.minProtocol === 'TLSv1.3' : s.minProtocol !== 'TLSv1.3' && (v === 'TLSv1.2' || s.minProtocol !== 'TLSv1.2'))),
      ),
    ),
  );
  const fallbackScsv = await probeFallbackScsvRule(probe, versions);
  return { versions, fallbackScsv, probes: versions.reduce((n, v) => n + v.probes, 0) + (fallbackScsv.tested ? 1 : 0), durationMs: Math.round(performance.now() - started) };
}
