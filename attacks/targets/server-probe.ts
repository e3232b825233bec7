/**
 * A TLS server probe for a target's server, like sslscan: which protocol versions and cipher
 * suites it accepts and whether it honours TLS_FALLBACK_SCSV (RFC 7507) — both from
 * attacks/tls-scan.ts, the one scanner the profile `server-scan` uses too (hand-built
 * ClientHellos, suites by elimination, only the first answer read) — plus what only a target
 * needs: the certificate it presents and whether it answers plaintext on its TLS port. It needs
 * no client of the target: it is its own client.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { SuiteInfo } from '../../core/tls-capabilities.ts';
import { SCAN_VERSIONS, scanTlsServer, type ScanVersion } from '../tls-scan.ts';
import { distinguishedNameText } from '../../core/tls/distinguished-name.ts';

/** Versions probed, oldest first (SSLv3 included: a server that still speaks it must be found). */
export const PROBE_VERSIONS = SCAN_VERSIONS;
export type ProbeVersion = ScanVersion;

/** Time limit of one probe handshake, ms (loopback answers in microseconds; Python servers in milliseconds). */
export const PROBE_HANDSHAKE_TIMEOUT_MS = 3000;

/** One accepted suite. */
export interface AcceptedSuite {
  /** OpenSSL name, as sslscan and `openssl s_client` print it, e.g. `ECDHE-RSA-AES128-GCM-SHA256` */
  name: string;
  /** IANA name, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256` */
  standardName: string;
  /** key exchange is ephemeral (ECDHE/DHE, or any TLS 1.3 suite) */
  forwardSecret: boolean;
  /** authenticated encryption (GCM, CCM, ChaCha20-Poly1305) rather than CBC + HMAC */
  aead: boolean;
  /** everything OpenSSL says about the suite (key exchange, NULL, anonymous, export…) */
  info: SuiteInfo;
}

/** What the server's certificate says (leaf only). */
export interface ProbedCertificate {
  subject: string;
  issuer: string;
  selfSigned: boolean;
  subjectAltName: string | null;
  validFrom: string;
  validTo: string;
  /** now outside notBefore..notAfter */
  expired: boolean;
  notYetValid: boolean;
  /** RSA modulus or EC field size, bits */
  keyBits: number | null;
  keyType: string | null;
  /** e.g. sha256WithRSAEncryption, from `openssl x509 -text` */
  signatureAlgorithm: string | null;
}

/** Everything the probe found. */
export interface ServerProbe {
  /** accepted suites per version (empty: version refused) */
  versions: Record<ProbeVersion, AcceptedSuite[]>;
  /** per version, why the server took nothing more (the scanner's words), and whether that was a non-answer */
  refusals: Record<ProbeVersion, { refusal: string; inconclusive: boolean }>;
  /** refused (inappropriate_fallback), accepted, not testable (fewer than two versions), or unclear (another answer) */
  fallbackScsv: 'refused' | 'accepted' | 'not-testable' | 'unclear';
  fallbackDetail: string;
  certificate: ProbedCertificate | null;
  /** what the server did with a plaintext line on its TLS port */
  plaintext: { answered: boolean; detail: string };
  /** ClientHellos the scanner sent, and how long the scan took (ms) */
  scan: { probes: number; durationMs: number };
}

function handshake(port: number, servername: string, opts: tls.ConnectionOptions): Promise<{ ok: true; socket: tls.TLSSocket } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ...opts });
    const t = setTimeout(() => {
      s.destroy();
      resolve({ ok: false, error: 'timeout' });
    }, PROBE_HANDSHAKE_TIMEOUT_MS);
    s.once('secureConnect', () => {
      clearTimeout(t);
      resolve({ ok: true, socket: s });
    });
    s.once('error', (e) => {
      clearTimeout(t);
      s.destroy();
      resolve({ ok: false, error: (e as NodeJS.ErrnoException).code ?? e.message });
    });
  });
}

function accepted(s: SuiteInfo): AcceptedSuite {
  return { name: s.openssl, standardName: s.iana, forwardSecret: s.forwardSecret, aead: s.aead, info: s };
}

function run(cmd: string, args: string[], input: string, timeoutMs: number): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => resolve({ out: `${stdout}${stderr}`, code: err ? ((err as { code?: number }).code ?? 1) : 0 }));
    child.stdin?.end(input);
  });
}

/** Reads the leaf certificate's facts. */
export function describeCertificate(pem: string, now = new Date()): ProbedCertificate {
  const x = new X509Certificate(pem);
  const key = x.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  return {
    subject: distinguishedNameText(x.subject),
    issuer: distinguishedNameText(x.issuer),
    selfSigned: x.subject === x.issuer && x.verify(key),
    subjectAltName: x.subjectAltName ?? null,
    validFrom: x.validFrom,
    validTo: x.validTo,
    expired: new Date(x.validTo).getTime() < now.getTime(),
    notYetValid: new Date(x.validFrom).getTime() > now.getTime(),
    keyBits: details.modulusLength ?? (details.namedCurve ? Number(/\d+/.exec(details.namedCurve)?.[0] ?? 0) || null : null),
    keyType: key.asymmetricKeyType ?? null,
    signatureAlgorithm: null,
  };
}

/**
 * Probes a TLS server on 127.0.0.1:`port`.
 * @param servername SNI to send (the name the target's clients use)
 */
export async function probeServer(port: number, servername: string): Promise<ServerProbe> {
  const scan = await scanTlsServer({ host: '127.0.0.1', port, serverName: servername, timeoutMs: PROBE_HANDSHAKE_TIMEOUT_MS });
  const versions = {} as Record<ProbeVersion, AcceptedSuite[]>;
  const refusals = {} as ServerProbe['refusals'];
  for (const v of scan.versions) {
    versions[v.version] = v.accepted.map(accepted);
    refusals[v.version] = { refusal: v.refusal, inconclusive: v.inconclusive };
  }
  const f = scan.fallbackScsv;
  const fallbackScsv: ServerProbe['fallbackScsv'] = !f.tested ? 'not-testable' : f.enforced === true ? 'refused' : f.enforced === false ? 'accepted' : 'unclear';

  // The certificate, from one real handshake (the scanner reads no further than the ServerHello).
  let certificate: ProbedCertificate | null = null;
  const any = await handshake(port, servername, { minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0' });
  if (any.ok) {
    const peer = any.socket.getPeerX509Certificate();
    any.socket.destroy();
    if (peer) {
      certificate = describeCertificate(peer.toString());
      const text = await run('openssl', ['x509', '-noout', '-text'], peer.toString(), 5000);
      certificate.signatureAlgorithm = /Signature Algorithm:\s*(\S+)/.exec(text.out)?.[1] ?? null;
    }
  }

  const plaintext = await new Promise<{ answered: boolean; detail: string }>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    const done = (answered: boolean, detail: string) => {
      clearTimeout(t);
      s.destroy();
      resolve({ answered, detail });
    };
    const t = setTimeout(() => {
      const b = Buffer.concat(got);
      if (b.length && b[0] !== 0x15 && b[0] !== 0x16) done(true, `the server answered a plaintext line with plaintext: ${JSON.stringify(b.subarray(0, 60).toString('latin1'))}`);
      else done(false, b.length ? `the server answered with a TLS ${b[0] === 0x15 ? 'alert' : 'record'} and did not accept plaintext` : 'the server sent nothing back to a plaintext line');
    }, 700);
    s.on('data', (d: Buffer) => got.push(d));
    s.once('connect', () => s.write('hello in plaintext\n'));
    s.once('error', () => {});
    s.once('close', () => {
      const b = Buffer.concat(got);
      if (b.length && b[0] !== 0x15 && b[0] !== 0x16) done(true, `the server answered a plaintext line with plaintext: ${JSON.stringify(b.subarray(0, 60).toString('latin1'))}`);
      else done(false, `the server closed the connection${b.length ? ` after a TLS ${b[0] === 0x15 ? 'alert' : 'record'}` : ''}: plaintext refused`);
    });
  });

  return { versions, refusals, fallbackScsv, fallbackDetail: f.detail, certificate, plaintext, scan: { probes: scan.probes, durationMs: scan.durationMs } };
}

/** Each property the server gives up, in one sentence with the suites or facts that show it. */
export function probeFindings(p: ServerProbe): string[] {
  const out: string[] = [];
  const old = (['SSLv3', 'TLSv1', 'TLSv1.1'] as const).filter((v) => p.versions[v].length);
  if (old.length) out.push(`accepts deprecated ${old.join(' and ')} (RFC 8996${old.includes('SSLv3') ? ', RFC 7568' : ''})`);
  const all = PROBE_VERSIONS.flatMap((v) => p.versions[v].map((s) => ({ v, s })));
  const names = (xs: typeof all) => uniq(xs.map((x) => x.s.name));
  const noFs = all.filter((x) => !x.s.forwardSecret);
  const kx = uniq(noFs.map((x) => (x.s.info.staticRsa ? 'static RSA' : x.s.info.kx)));
  if (noFs.length) out.push(`accepts ${names(noFs).length} suite(s) without forward secrecy (${kx.join(', ')} key exchange): ${names(noFs).join(', ')}`);
  const nonAead = all.filter((x) => !x.s.aead && !x.s.info.nullEncryption);
  if (nonAead.length) out.push(`accepts ${names(nonAead).length} non-AEAD (CBC) suite(s): ${names(nonAead).join(', ')}`);
  const nul = all.filter((x) => x.s.info.nullEncryption);
  if (nul.length) out.push(`accepts ${names(nul).length} suite(s) with no encryption (NULL): ${names(nul).join(', ')}`);
  const anon = all.filter((x) => x.s.info.anonymous);
  if (anon.length) out.push(`accepts ${names(anon).length} anonymous suite(s) (no server authentication): ${names(anon).join(', ')}`);
  const exp = all.filter((x) => x.s.info.export);
  if (exp.length) out.push(`accepts ${names(exp).length} export-grade suite(s): ${names(exp).join(', ')}`);
  if (p.fallbackScsv === 'accepted') out.push(`does not enforce TLS_FALLBACK_SCSV: ${p.fallbackDetail}`);
  const c = p.certificate;
  if (c?.selfSigned) out.push(`presents a self-signed certificate (${c.subject})`);
  if (c?.expired) out.push(`presents an expired certificate (notAfter ${c.validTo})`);
  if (c?.notYetValid) out.push(`presents a certificate not valid yet (notBefore ${c.validFrom})`);
  if (c?.keyType === 'rsa' && c.keyBits !== null && c.keyBits < 2048) out.push(`certificate key is RSA-${c.keyBits} (under 2048 bits)`);
  if (c?.signatureAlgorithm && /sha1|md5/i.test(c.signatureAlgorithm)) out.push(`certificate is signed with ${c.signatureAlgorithm}`);
  if (c && !c.subjectAltName) out.push('certificate has no subjectAltName: RFC 6125 clients will not match the name');
  if (p.plaintext.answered) out.push(`answers plaintext on its TLS port: ${p.plaintext.detail}`);
  return out;
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
