/**
 * A TLS server probe, like sslscan: which protocol versions and cipher suites a server accepts,
 * whether it honours TLS_FALLBACK_SCSV (RFC 7507), what certificate it presents, and whether it
 * answers plaintext on its TLS port. It needs no client of the target: it is its own client.
 *
 * Suites for TLS 1.0–1.2 are enumerated the way sslscan does it in "server preference" order: offer
 * every suite this OpenSSL knows, note the one the server picks, remove it, and offer the rest
 * again until the handshake fails — one handshake per accepted suite plus one. TLS 1.3 suites are
 * offered one at a time (RFC 8446 §B.4 lists five). The fallback check uses `openssl s_client
 * -fallback_scsv`, because node cannot put the SCSV in its ClientHello.
 *
 * TODO(after rebase onto the scan branch): issue 14's server-scan probe module is meant to serve
 * targets too; when it lands, call it here instead of this minimal probe.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';

/** Versions probed, oldest first (node's spelling). */
export const PROBE_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type ProbeVersion = (typeof PROBE_VERSIONS)[number];

/** TLS 1.3 suites (RFC 8446 §B.4), OpenSSL names. */
export const TLS13_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256', 'TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_8_SHA256'] as const;

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
  /** refused (inappropriate_fallback), accepted, or not testable (only one version accepted) */
  fallbackScsv: 'refused' | 'accepted' | 'not-testable';
  fallbackDetail: string;
  certificate: ProbedCertificate | null;
  /** what the server did with a plaintext line on its TLS port */
  plaintext: { answered: boolean; detail: string };
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

function suiteOf(s: tls.TLSSocket, version: ProbeVersion): AcceptedSuite {
  const c = s.getCipher();
  const name = c.name;
  const std = c.standardName ?? name;
  return {
    name,
    standardName: std,
    forwardSecret: version === 'TLSv1.3' || /^(ECDHE|DHE|EDH)-|_(ECDHE|DHE)_/.test(name + ' ' + std),
    aead: /GCM|CCM|CHACHA20|POLY1305/.test(name),
  };
}

/** Every TLS ≤ 1.2 suite this node's OpenSSL knows, in OpenSSL names (not the TLS 1.3 ones). */
function legacySuites(): string[] {
  return tls
    .getCiphers()
    .map((c) => c.toUpperCase())
    .filter((c) => !c.startsWith('TLS_') && !/PSK|SRP/.test(c));
}

async function suitesFor(port: number, servername: string, version: ProbeVersion): Promise<AcceptedSuite[]> {
  const found: AcceptedSuite[] = [];
  if (version === 'TLSv1.3') {
    for (const suite of TLS13_SUITES) {
      const r = await handshake(port, servername, { minVersion: version, maxVersion: version, ciphers: suite });
      if (r.ok) {
        found.push(suiteOf(r.socket, version));
        r.socket.destroy();
      }
    }
    return found;
  }
  let offer = legacySuites();
  // Bounded: one handshake per suite this OpenSSL knows, at most.
  for (let i = 0; i < 64 && offer.length; i++) {
    const r = await handshake(port, servername, { minVersion: version, maxVersion: version, ciphers: `${offer.join(':')}:@SECLEVEL=0` });
    if (!r.ok) break;
    const s = suiteOf(r.socket, version);
    r.socket.destroy();
    found.push(s);
    offer = offer.filter((o) => o !== s.name);
  }
  return found;
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
    subject: x.subject.replace(/\n/g, ', '),
    issuer: x.issuer.replace(/\n/g, ', '),
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
  const versions = {} as Record<ProbeVersion, AcceptedSuite[]>;
  for (const v of PROBE_VERSIONS) versions[v] = await suitesFor(port, servername, v);

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

  const accepted = PROBE_VERSIONS.filter((v) => versions[v].length > 0);
  let fallbackScsv: ServerProbe['fallbackScsv'] = 'not-testable';
  let fallbackDetail = `the server accepts ${accepted.length ? accepted.join(', ') : 'no version'}: there is no lower version to fall back to`;
  if (accepted.length >= 2) {
    // RFC 7507 §3: a ClientHello with the SCSV and a version below the server's highest must be refused.
    const lower = accepted[accepted.length - 2]!;
    const flag = { TLSv1: '-tls1', 'TLSv1.1': '-tls1_1', 'TLSv1.2': '-tls1_2', 'TLSv1.3': '-tls1_3' }[lower];
    const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', servername, flag, '-fallback_scsv', '-cipher', 'ALL:@SECLEVEL=0'], '', 8000);
    if (/inappropriate fallback/i.test(r.out)) {
      fallbackScsv = 'refused';
      fallbackDetail = `openssl s_client ${flag} -fallback_scsv: the server answered alert inappropriate_fallback (RFC 7507)`;
    } else if (/Cipher is (?!\(NONE\))|New, TLS/i.test(r.out)) {
      fallbackScsv = 'accepted';
      fallbackDetail = `openssl s_client ${flag} -fallback_scsv: the server completed a ${lower} handshake although it supports ${accepted[accepted.length - 1]} — a downgrade is not detected`;
    } else fallbackDetail = `openssl s_client ${flag} -fallback_scsv gave no clear answer: ${r.out.split('\n').filter(Boolean).slice(-2).join(' ⏎ ')}`;
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

  return { versions, fallbackScsv, fallbackDetail, certificate, plaintext };
}

/** Each property the server gives up, in one sentence with the suites or facts that show it. */
export function probeFindings(p: ServerProbe): string[] {
  const out: string[] = [];
  const old = (['TLSv1', 'TLSv1.1'] as const).filter((v) => p.versions[v].length);
  if (old.length) out.push(`accepts deprecated ${old.join(' and ')} (RFC 8996)`);
  const all = PROBE_VERSIONS.flatMap((v) => p.versions[v].map((s) => ({ v, s })));
  const noFs = all.filter((x) => !x.s.forwardSecret);
  if (noFs.length) out.push(`accepts ${uniq(noFs.map((x) => x.s.name)).length} suite(s) without forward secrecy (static RSA key exchange): ${uniq(noFs.map((x) => x.s.name)).join(', ')}`);
  const nonAead = all.filter((x) => !x.s.aead);
  if (nonAead.length) out.push(`accepts ${uniq(nonAead.map((x) => x.s.name)).length} non-AEAD (CBC) suite(s): ${uniq(nonAead.map((x) => x.s.name)).join(', ')}`);
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
