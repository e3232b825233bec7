/**
 * What a chat server still accepts, asked the way a TLS scanner asks (sslscan, testssl.sh): one
 * handshake per question, each offering only the version, suites or group in question, and the
 * answer is whether the server completed the handshake (RFC 8446 §4.1.1 / RFC 5246 §7.4.1: a
 * server that supports none of the offer aborts with handshake_failure or protocol_version).
 *
 * This is the lab engine's own minimal probe behind a narrow interface ({@link ServerAcceptance}:
 * accepted versions, accepted suites with their key exchange, accepted groups). It is meant to be
 * replaced by the `server-scan` probe of the scan work once that lands; the labs read only the
 * interface. It knows STARTTLS: it reads the welcome, asks for `starttls`, and handshakes after
 * `starttls_ok`, as the secchat client does.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Profile } from '../core/profile.ts';

/** The TLS versions a probe asks about, oldest first (node:tls names). */
export const PROBED_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type ProbedVersion = (typeof PROBED_VERSIONS)[number];

/**
 * Finite-field groups (RFC 7919 §A) whose key exchange costs far more CPU than X25519 (RFC 7748):
 * ffdhe4096 and up take tens to hundreds of milliseconds per handshake on both ends.
 */
export const COSTLY_GROUPS = ['ffdhe4096', 'ffdhe6144', 'ffdhe8192'] as const;

/** Where the server listens and how a client reaches TLS on it. */
export interface ProbeTarget {
  host: string;
  port: number;
  transport: Profile['transport'];
  /** SNI sent in each ClientHello (default `localhost`, the lab server's name) */
  servername?: string;
  /** per-handshake limit, ms (default 5000: an ffdhe8192 handshake on a loaded machine) */
  timeoutMs?: number;
}

/** One probe handshake's answer. */
export interface ProbeAnswer {
  accepted: boolean;
  /** negotiated protocol and suite when accepted (e.g. `TLSv1`, `ECDHE-RSA-AES128-SHA`) */
  protocol: string | null;
  suite: string | null;
  /** key-exchange group when accepted: `X25519`, `DH-8192`, …; null for static RSA */
  kxGroup: string | null;
  /** why the handshake did not complete (OpenSSL's reason or the close), when refused */
  refusal: string | null;
}

/** What a server accepts for the questions the labs ask (the narrow interface the labs read). */
export interface ServerAcceptance {
  /** false when the profile's transport is plain: there is no TLS to probe */
  tls: boolean;
  /** each probed version: accepted or not */
  versions: Array<{ version: ProbedVersion } & ProbeAnswer>;
  /** TLS ≤ 1.2 suites with static RSA key exchange (no forward secrecy): the offer was `kRSA` */
  staticRsa: ProbeAnswer | null;
  /** each probed group, offered alone; accepted only when the key exchange really used it */
  groups: Array<{ offered: string } & ProbeAnswer>;
}

/** Which questions to ask (each costs one or more handshakes). */
export interface ProbeQuestions {
  versions?: boolean;
  staticRsa?: boolean;
  /** groups to offer one at a time, e.g. {@link COSTLY_GROUPS} */
  groups?: readonly string[];
}

/** Opens the TCP connection and, for STARTTLS transports, upgrades it to the point TLS starts. */
function openForTls(t: ProbeTarget, timeoutMs: number): Promise<net.Socket | null> {
  if (t.transport === 'tls') return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: t.host, port: t.port });
    let buf = '';
    let asked = false;
    const timer = setTimeout(() => fail(new Error(`no STARTTLS answer within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let frame: { type?: string; starttls?: boolean };
        try {
          frame = JSON.parse(line);
        } catch {
          return fail(new Error('the server sent something that is not a chat frame before TLS'));
        }
        if (!asked && frame.type === 'welcome') {
          if (frame.starttls !== true) return fail(new Error('the server did not offer STARTTLS'));
          asked = true;
          sock.write('{"type":"starttls"}\n');
        } else if (asked && frame.type === 'starttls_ok') {
          clearTimeout(timer);
          sock.off('data', onData);
          return resolve(sock);
        }
      }
    };
    sock.on('data', onData);
    sock.once('error', fail);
    sock.once('close', () => fail(new Error('the server closed the connection before STARTTLS')));
  });
}

function groupOf(s: tls.TLSSocket): string | null {
  const eph = s.getEphemeralKeyInfo() as { type?: string; name?: string; size?: number } | null;
  if (!eph || typeof eph !== 'object') return null;
  if (eph.name) return eph.name;
  return eph.type === 'DH' && eph.size ? `DH-${eph.size}` : null;
}

/** OpenSSL's reason out of its error line (`…:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:…` → the alert). */
export function opensslReason(message: string): string {
  return /routines:[^:]*:([^:]+)/.exec(message)?.[1]?.trim() ?? message;
}

/** One handshake with the given client options; never throws (a refusal is an answer). */
async function handshake(t: ProbeTarget, opts: tls.ConnectionOptions): Promise<ProbeAnswer> {
  const timeoutMs = t.timeoutMs ?? 5000;
  let raw: net.Socket | null;
  try {
    raw = await openForTls(t, timeoutMs);
  } catch (err) {
    return { accepted: false, protocol: null, suite: null, kxGroup: null, refusal: (err as Error).message };
  }
  return new Promise((resolve) => {
    const s = tls.connect({
      ...(raw ? { socket: raw } : { host: t.host, port: t.port }),
      servername: t.servername ?? 'localhost',
      rejectUnauthorized: false, // the question is what the server accepts, not who it is
      ...opts,
    });
    let done = false;
    const finish = (a: ProbeAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      raw?.destroy();
      resolve(a);
    };
    const timer = setTimeout(() => finish({ accepted: false, protocol: null, suite: null, kxGroup: null, refusal: `no handshake within ${timeoutMs} ms` }), timeoutMs);
    s.once('secureConnect', () => finish({ accepted: true, protocol: s.getProtocol(), suite: s.getCipher()?.name ?? null, kxGroup: groupOf(s), refusal: null }));
    s.once('error', (err) => finish({ accepted: false, protocol: null, suite: null, kxGroup: null, refusal: opensslReason(err.message) }));
    s.once('close', () => finish({ accepted: false, protocol: null, suite: null, kxGroup: null, refusal: 'the server closed the connection during the handshake' }));
  });
}

/** Everything below TLS 1.2 needs OpenSSL security level 0 on the probing side to be offered at all. */
const ANY_SUITE = 'ALL:@SECLEVEL=0';

/**
 * Asks the server the given questions, one handshake at a time (so an expensive group costs the
 * server one handshake, never a burst).
 * @returns the answers; `tls: false` with empty lists for a plain server. Never throws.
 */
export async function probeServer(t: ProbeTarget, q: ProbeQuestions): Promise<ServerAcceptance> {
  const out: ServerAcceptance = { tls: t.transport !== 'plain', versions: [], staticRsa: null, groups: [] };
  if (!out.tls) return out;
  if (q.versions) {
    for (const v of PROBED_VERSIONS) {
      out.versions.push({ version: v, ...(await handshake(t, { minVersion: v, maxVersion: v, ciphers: v === 'TLSv1.3' ? undefined : ANY_SUITE })) });
    }
  }
  if (q.staticRsa) out.staticRsa = await handshake(t, { minVersion: 'TLSv1', maxVersion: 'TLSv1.2', ciphers: 'kRSA:@SECLEVEL=0' });
  for (const g of q.groups ?? []) {
    // Offered alone, across TLS 1.2 and 1.3; accepted only if the key exchange really used it.
    const a = await handshake(t, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ecdhCurve: g, ciphers: 'ECDHE:DHE:@SECLEVEL=0' });
    const ffdheBits = /^ffdhe(\d+)$/i.exec(g)?.[1];
    const used = a.accepted && (a.kxGroup === g || (ffdheBits !== undefined && a.kxGroup === `DH-${ffdheBits}`));
    out.groups.push({ offered: g, ...a, accepted: used, refusal: a.accepted && !used ? `the handshake completed with ${a.kxGroup ?? 'no group'} instead` : a.refusal });
  }
  return out;
}
