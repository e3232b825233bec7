/**
 * The ClientHello (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2): parsing, with the extensions a proxy or a
 * report needs decoded (server_name RFC 6066 §3, supported_versions RFC 8446 §4.2.1, supported_groups
 * §4.2.7, key_share §4.2.8, signature_algorithms §4.2.3, ALPN RFC 7301, TLS_FALLBACK_SCSV RFC 7507),
 * and a minimal builder for probing servers.
 *
 * `parseClientHello` is given a whole message body and throws {@link ProtocolError} on any
 * malformation, including trailing bytes.
 */
import { ProtocolError } from '../errors.ts';
import { Cursor, type FieldLog } from './byte-cursor.ts';
import { cipherSuiteLabel, cipherSuiteName } from './cipher-suites.ts';
import { readExtensions, type TlsExtension } from './extensions.ts';
import { encodeHandshakeMessage } from './handshake-reassembly.ts';
import { readHelloOpening } from './hello-opening.ts';
import { encodeRecord } from './record-layer.ts';
import { CONTENT_TYPE, EXTENSION_TYPE, HANDSHAKE_TYPE, TLS_FALLBACK_SCSV, groupName, isGrease, signatureSchemeName, versionLabel, type NamedValue } from './registry.ts';

/** A decoded ClientHello (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2). Absent extensions are undefined. */
export interface ClientHello {
  /** legacy_version: the highest version offered, before supported_versions existed. */
  legacyVersion: number;
  /** 32 bytes. */
  random: Buffer;
  /** 0–32 bytes; non-empty asks to resume a session (or is TLS 1.3 middlebox compatibility). */
  sessionId: Buffer;
  cipherSuites: NamedValue[];
  compressionMethods: number[];
  extensions: TlsExtension[];
  /** host_name from server_name (RFC 6066 §3). */
  serverName?: string;
  /** supported_versions in preference order, wire values (RFC 8446 §4.2.1). */
  supportedVersions?: number[];
  supportedGroups?: NamedValue[];
  /** Groups of the key shares sent (RFC 8446 §4.2.8), not the share bytes. */
  keyShareGroups?: NamedValue[];
  signatureAlgorithms?: number[];
  alpn?: string[];
  extendedMasterSecret: boolean;
  encryptThenMac: boolean;
  /** The session_ticket extension (RFC 5077 §3.2): present, and the ticket bytes (empty = "give me one"). */
  sessionTicket?: Buffer;
  preSharedKey: boolean;
  /** TLS_FALLBACK_SCSV (0x5600) is among the cipher suites (RFC 7507). */
  fallbackScsv: boolean;
  /** The highest version offered: max of supported_versions if sent, else legacy_version. */
  maxVersion: number;
}

/**
 * Decode a ClientHello body (without the 4-byte handshake header).
 * @param log records every field read, for annotated bytes (see `annotate.ts`); offsets count from
 *   the log's origin, which must be `body` or a buffer `body` is a view into
 * @throws ProtocolError on truncation, trailing bytes, or malformed extensions it decodes.
 */
export function parseClientHello(body: Buffer, log?: FieldLog): ClientHello {
  const c = new Cursor(body, 'ClientHello', log);
  const { legacyVersion, random, sessionId } = readHelloOpening(c);
  if (sessionId.length > 32) throw new ProtocolError('ClientHello: session_id longer than 32 bytes', { field: 'ClientHello.session_id' });
  const suiteIds = c.u16Vec(2, 'cipher_suites', 'ClientHello.cipher_suites', 'cipher_suite', cipherSuiteLabel);
  const compressionMethods = [...c.vec(1, 'compression_methods', (b) => [...b].map((m) => (m === 0 ? 'null' : String(m))).join(', '))];
  const hello: ClientHello = {
    legacyVersion,
    random,
    sessionId,
    cipherSuites: suiteIds.map((id) => ({ id, name: cipherSuiteName(id) })),
    compressionMethods,
    extensions: [],
    extendedMasterSecret: false,
    encryptThenMac: false,
    preSharedKey: false,
    fallbackScsv: suiteIds.includes(TLS_FALLBACK_SCSV),
    maxVersion: legacyVersion,
  };
  hello.extensions = readExtensions(c, 'ClientHello', {
    [EXTENSION_TYPE.server_name]: (e, ext, what) => {
      // RFC 6066 §3: ServerNameList of (name_type, opaque HostName<1..2^16-1>); type 0 = host_name.
      if (ext.data.length === 0) return; // the empty form is only legal in a ServerHello
      const list = e.child(e.vec(2, 'server_name_list'), what);
      while (list.remaining > 0) {
        const nameType = list.u8('name_type', (t) => (t === 0 ? 'host_name' : String(t)));
        const name = list.vec(2, 'host_name', (b) => b.toString('ascii'));
        if (nameType === 0 && hello.serverName === undefined) hello.serverName = name.toString('ascii');
      }
      e.end();
    },
    [EXTENSION_TYPE.supported_versions]: (e, _ext, what) => {
      hello.supportedVersions = e.u16Vec(1, 'versions', what, 'version', versionLabel);
      e.end();
    },
    [EXTENSION_TYPE.supported_groups]: (e, _ext, what) => {
      hello.supportedGroups = e.u16Vec(2, 'named_group_list', what, 'named_group', groupName).map((id) => ({ id, name: groupName(id) }));
      e.end();
    },
    [EXTENSION_TYPE.key_share]: (e, _ext, what) => {
      const shares = e.child(e.vec(2, 'client_shares'), what);
      const groups: NamedValue[] = [];
      while (shares.remaining > 0) {
        const id = shares.u16('group', groupName);
        shares.vec(2, 'key_exchange', (b) => `${b.length} bytes: ${b.toString('hex')}`);
        groups.push({ id, name: groupName(id) });
      }
      e.end();
      hello.keyShareGroups = groups;
    },
    [EXTENSION_TYPE.signature_algorithms]: (e, _ext, what) => {
      hello.signatureAlgorithms = e.u16Vec(2, 'supported_signature_algorithms', what, 'signature_scheme', signatureSchemeName);
      e.end();
    },
    [EXTENSION_TYPE.alpn]: (e, _ext, what) => {
      const list = e.child(e.vec(2, 'protocol_name_list'), what);
      const names: string[] = [];
      while (list.remaining > 0) names.push(list.vec(1, 'protocol_name', (b) => b.toString('latin1')).toString('latin1'));
      e.end();
      hello.alpn = names;
    },
    [EXTENSION_TYPE.extended_master_secret]: () => void (hello.extendedMasterSecret = true),
    [EXTENSION_TYPE.encrypt_then_mac]: () => void (hello.encryptThenMac = true),
    [EXTENSION_TYPE.session_ticket]: (_e, ext) => void (hello.sessionTicket = ext.data),
    [EXTENSION_TYPE.pre_shared_key]: () => void (hello.preSharedKey = true),
  });
  const real = (hello.supportedVersions ?? []).filter((v) => !isGrease(v));
  if (real.length > 0) hello.maxVersion = Math.max(...real);
  return hello;
}

// ---------------------------------------------------------------------------------------------
// A minimal ClientHello builder, for probing servers (e.g. their RFC 7507 fallback check)

/** Options of {@link buildClientHello}. */
export interface ClientHelloOptions {
  /** legacy_version, e.g. 0x0302 for TLS 1.1. */
  legacyVersion: number;
  /** 32 bytes; injected so probes are reproducible. */
  random: Buffer;
  cipherSuites: number[];
  /** Default empty. */
  sessionId?: Buffer;
  /** host_name for server_name; omitted when undefined. */
  serverName?: string;
  /** supported_groups, wire values; default X25519, P-256, P-384. Empty array omits the extension. */
  supportedGroups?: number[];
  /** signature_algorithms, wire values; default rsa_pss_rsae_sha256, rsa_pkcs1_sha256, ecdsa_secp256r1_sha256, rsa_pkcs1_sha1. */
  signatureAlgorithms?: number[];
  /** supported_versions; omitted when undefined (a pre-1.3 hello). */
  supportedVersions?: number[];
  /** Whether to offer extended_master_secret; default true. */
  extendedMasterSecret?: boolean;
  /** More extensions, appended as given. */
  extraExtensions?: Array<{ type: number; data: Buffer }>;
  /** legacy_record_version of the record carrying the hello; default 0x0301 as browsers send. */
  recordVersion?: number;
}

function u16Vec(values: number[], lenBytes: 1 | 2): Buffer {
  const out = Buffer.alloc(lenBytes + values.length * 2);
  out.writeUIntBE(values.length * 2, 0, lenBytes);
  values.forEach((v, i) => out.writeUInt16BE(v, lenBytes + i * 2));
  return out;
}

function ext(type: number, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(data.length, 2);
  return Buffer.concat([head, data]);
}

/**
 * Build a ClientHello record (one record, one handshake message) from explicit fields.
 * Enough to start a TLS 1.0–1.2 handshake with RSA or ECDHE suites; it does not create key shares,
 * so a TLS 1.3 server would answer with a HelloRetryRequest or an alert.
 * @throws RangeError when `random` is not 32 bytes or the hello does not fit one record.
 */
export function buildClientHello(opts: ClientHelloOptions): Buffer {
  if (opts.random.length !== 32) throw new RangeError('buildClientHello: random must be 32 bytes');
  const sessionId = opts.sessionId ?? Buffer.alloc(0);
  const exts: Buffer[] = [];
  if (opts.serverName !== undefined) {
    const name = Buffer.from(opts.serverName, 'ascii');
    const entry = Buffer.alloc(3);
    entry[0] = 0;
    entry.writeUInt16BE(name.length, 1);
    const list = Buffer.concat([entry, name]);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(list.length);
    exts.push(ext(EXTENSION_TYPE.server_name, Buffer.concat([len, list])));
  }
  const groups = opts.supportedGroups ?? [0x001d, 0x0017, 0x0018];
  if (groups.length > 0) {
    exts.push(ext(EXTENSION_TYPE.supported_groups, u16Vec(groups, 2)));
    exts.push(ext(EXTENSION_TYPE.ec_point_formats, Buffer.from([1, 0]))); // uncompressed only
  }
  const sigalgs = opts.signatureAlgorithms ?? [0x0804, 0x0401, 0x0403, 0x0201];
  if (sigalgs.length > 0) exts.push(ext(EXTENSION_TYPE.signature_algorithms, u16Vec(sigalgs, 2)));
  if (opts.supportedVersions) exts.push(ext(EXTENSION_TYPE.supported_versions, u16Vec(opts.supportedVersions, 1)));
  if (opts.extendedMasterSecret ?? true) exts.push(ext(EXTENSION_TYPE.extended_master_secret, Buffer.alloc(0)));
  for (const e of opts.extraExtensions ?? []) exts.push(ext(e.type, e.data));
  const extBlock = Buffer.concat(exts);
  const extLen = Buffer.alloc(2);
  extLen.writeUInt16BE(extBlock.length);

  const head = Buffer.alloc(2);
  head.writeUInt16BE(opts.legacyVersion);
  const body = Buffer.concat([
    head,
    opts.random,
    Buffer.from([sessionId.length]),
    sessionId,
    u16Vec(opts.cipherSuites, 2),
    Buffer.from([1, 0]), // compression: null only (RFC 8446 §4.1.2; CRIME for anything else)
    extLen,
    extBlock,
  ]);
  return encodeRecord(CONTENT_TYPE.handshake, opts.recordVersion ?? 0x0301, encodeHandshakeMessage(HANDSHAKE_TYPE.client_hello, body));
}
