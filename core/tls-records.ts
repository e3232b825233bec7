/**
 * TLS record layer and handshake message parsing, socket-free.
 *
 * Implements: the record header (RFC 5246 §6.2.1, RFC 8446 §5.1), handshake message framing and
 * reassembly across records (RFC 5246 §7.4, RFC 8446 §4), ClientHello / ServerHello (RFC 5246
 * §7.4.1.2–3, RFC 8446 §4.1.2–3 with supported_versions §4.2.1 and key_share §4.2.8), the RSA
 * ClientKeyExchange (RFC 5246 §7.4.7.1), the ECDHE ServerKeyExchange (RFC 8422 §5.4), the DHE one
 * (RFC 5246 §7.4.3), the TLS 1.2 Certificate message (RFC 5246 §7.4.2), alerts (RFC 5246 §7.2),
 * and TLS_FALLBACK_SCSV (RFC 7507).
 *
 * Parsers follow one rule (STYLE.md lesson 1): an incremental reader returns a whole message, or
 * `null` for "need more bytes", or throws a {@link ProtocolError} when the bytes cannot be TLS.
 * A one-shot parser (`parseClientHello`...) is given a whole message body and throws on any
 * malformation, including trailing bytes. Nothing here touches a socket.
 *
 * Versions are named in node's spelling ('TLSv1.2'), groups in node's `ecdhCurve` spelling
 * ('X25519', 'P-256'), cipher suites by their IANA name with the OpenSSL name alongside.
 */
import { ProtocolError } from './errors.ts';

// ---------------------------------------------------------------------------------------------
// Constants and names

/** Record content types (RFC 5246 §6.2.1, RFC 6520 for heartbeat). */
export const CONTENT_TYPE = {
  change_cipher_spec: 20,
  alert: 21,
  handshake: 22,
  application_data: 23,
  heartbeat: 24,
} as const;

/** Handshake message types (RFC 5246 §7.4, RFC 8446 §4). */
export const HANDSHAKE_TYPE = {
  hello_request: 0,
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  end_of_early_data: 5,
  encrypted_extensions: 8,
  certificate: 11,
  server_key_exchange: 12,
  certificate_request: 13,
  server_hello_done: 14,
  certificate_verify: 15,
  client_key_exchange: 16,
  finished: 20,
  key_update: 24,
  message_hash: 254,
} as const;

/** Extension types this module decodes or names (IANA "TLS ExtensionType Values"). */
export const EXTENSION_TYPE = {
  server_name: 0,
  status_request: 5,
  supported_groups: 10,
  ec_point_formats: 11,
  signature_algorithms: 13,
  alpn: 16,
  signed_certificate_timestamp: 18,
  padding: 21,
  encrypt_then_mac: 22,
  extended_master_secret: 23,
  record_size_limit: 28,
  session_ticket: 35,
  pre_shared_key: 41,
  early_data: 42,
  supported_versions: 43,
  cookie: 44,
  psk_key_exchange_modes: 45,
  post_handshake_auth: 49,
  signature_algorithms_cert: 50,
  key_share: 51,
  renegotiation_info: 0xff01,
} as const;

const EXTENSION_NAMES = new Map<number, string>(Object.entries(EXTENSION_TYPE).map(([k, v]) => [v, k]));

/** Largest record fragment accepted: 2^14 + 2048, the TLS 1.2 ciphertext limit (RFC 5246 §6.2.3). */
export const MAX_RECORD_FRAGMENT_BYTES = 2 ** 14 + 2048;
/** Bytes of a record header: type(1) version(2) length(2). */
export const RECORD_HEADER_BYTES = 5;
/** Default cap on one reassembled handshake message; a certificate chain fits well inside. */
export const DEFAULT_MAX_HANDSHAKE_MESSAGE_BYTES = 256 * 1024;

/** Protocol versions by wire value, in node's spelling. */
const VERSION_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0300, 'SSLv3'],
  [0x0301, 'TLSv1'],
  [0x0302, 'TLSv1.1'],
  [0x0303, 'TLSv1.2'],
  [0x0304, 'TLSv1.3'],
]);

/** Wire value → node's name ('TLSv1.2'); GREASE and unknown values come back as hex. */
export function versionName(version: number): string {
  return VERSION_NAMES.get(version) ?? (isGrease(version) ? 'GREASE' : `0x${hex4(version)}`);
}

/** Named groups (RFC 8446 §4.2.7, RFC 7919), in node's `ecdhCurve` spelling where node has one. */
const GROUP_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0017, 'P-256'],
  [0x0018, 'P-384'],
  [0x0019, 'P-521'],
  [0x001d, 'X25519'],
  [0x001e, 'X448'],
  [0x0100, 'ffdhe2048'],
  [0x0101, 'ffdhe3072'],
  [0x0102, 'ffdhe4096'],
  [0x0103, 'ffdhe6144'],
  [0x0104, 'ffdhe8192'],
  [0x11ec, 'X25519MLKEM768'],
]);

/** Wire value → group name ('X25519', 'P-256'...); GREASE and unknown values come back as hex. */
export function groupName(id: number): string {
  return GROUP_NAMES.get(id) ?? (isGrease(id) ? 'GREASE' : `0x${hex4(id)}`);
}

/** Alert descriptions (RFC 8446 §6, RFC 5246 §7.2, RFC 7507 for inappropriate_fallback). */
export const ALERT_DESCRIPTION = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  no_renegotiation: 100,
  missing_extension: 109,
  unsupported_extension: 110,
  unrecognized_name: 112,
  bad_certificate_status_response: 113,
  unknown_psk_identity: 115,
  certificate_required: 116,
  no_application_protocol: 120,
} as const;
const ALERT_NAMES = new Map<number, string>(Object.entries(ALERT_DESCRIPTION).map(([k, v]) => [v, k]));

/** Alert levels (RFC 5246 §7.2). */
export const ALERT_LEVEL = { warning: 1, fatal: 2 } as const;

/** TLS_FALLBACK_SCSV (RFC 7507 §6): a client retrying with a lower version says so. */
export const TLS_FALLBACK_SCSV = 0x5600;
/** TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 §3.3). */
export const TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;

/**
 * The special ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3): SHA-256("HelloRetryRequest").
 */
export const HELLO_RETRY_REQUEST_RANDOM = Buffer.from(
  'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c',
  'hex',
);

// ---------------------------------------------------------------------------------------------
// The cipher suite table: one table, one place.

export type KeyExchange = 'RSA' | 'ECDHE' | 'DHE' | 'TLS13';
export type BulkCipher = 'AES-128-GCM' | 'AES-256-GCM' | 'AES-128-CBC' | 'AES-256-CBC' | 'CHACHA20-POLY1305';
export type HashName = 'SHA256' | 'SHA384' | 'SHA1';

export interface CipherSuiteInfo {
  /** Wire value. */
  id: number;
  /** IANA name, e.g. `TLS_RSA_WITH_AES_128_GCM_SHA256`. */
  name: string;
  /** OpenSSL's name, as used in node's `ciphers` option, e.g. `AES128-GCM-SHA256`. */
  openssl: string;
  keyExchange: KeyExchange;
  /** Who signs the ephemeral share (ECDHE/DHE), or whose key decrypts the PMS (RSA); null for TLS 1.3. */
  authentication: 'RSA' | 'ECDSA' | null;
  cipher: BulkCipher;
  /** Record MAC for CBC suites; null for AEAD suites. */
  mac: HashName | null;
  /** Hash of the TLS 1.2 PRF (RFC 5246 §5) or of HKDF (RFC 8446 §7.1). */
  prfHash: 'SHA256' | 'SHA384';
}

type Row = [number, string, string, KeyExchange, 'RSA' | 'ECDSA' | null, BulkCipher, HashName | null, 'SHA256' | 'SHA384'];
// prettier-ignore
const SUITE_ROWS: Row[] = [
  // RSA key exchange: the stolen server key decrypts the pre-master secret.
  [0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA', 'RSA', 'RSA', 'AES-128-CBC', 'SHA1', 'SHA256'],
  [0x0035, 'TLS_RSA_WITH_AES_256_CBC_SHA', 'AES256-SHA', 'RSA', 'RSA', 'AES-256-CBC', 'SHA1', 'SHA256'],
  [0x003c, 'TLS_RSA_WITH_AES_128_CBC_SHA256', 'AES128-SHA256', 'RSA', 'RSA', 'AES-128-CBC', 'SHA256', 'SHA256'],
  [0x003d, 'TLS_RSA_WITH_AES_256_CBC_SHA256', 'AES256-SHA256', 'RSA', 'RSA', 'AES-256-CBC', 'SHA256', 'SHA256'],
  [0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256', 'AES128-GCM-SHA256', 'RSA', 'RSA', 'AES-128-GCM', null, 'SHA256'],
  [0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384', 'RSA', 'RSA', 'AES-256-GCM', null, 'SHA384'],
  // DHE: forward secret (finite-field).
  [0x0033, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA', 'DHE-RSA-AES128-SHA', 'DHE', 'RSA', 'AES-128-CBC', 'SHA1', 'SHA256'],
  [0x0039, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA', 'DHE-RSA-AES256-SHA', 'DHE', 'RSA', 'AES-256-CBC', 'SHA1', 'SHA256'],
  [0x0067, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256', 'DHE-RSA-AES128-SHA256', 'DHE', 'RSA', 'AES-128-CBC', 'SHA256', 'SHA256'],
  [0x006b, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256', 'DHE-RSA-AES256-SHA256', 'DHE', 'RSA', 'AES-256-CBC', 'SHA256', 'SHA256'],
  [0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 'DHE-RSA-AES128-GCM-SHA256', 'DHE', 'RSA', 'AES-128-GCM', null, 'SHA256'],
  [0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', 'DHE-RSA-AES256-GCM-SHA384', 'DHE', 'RSA', 'AES-256-GCM', null, 'SHA384'],
  [0xccaa, 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'DHE-RSA-CHACHA20-POLY1305', 'DHE', 'RSA', 'CHACHA20-POLY1305', null, 'SHA256'],
  // ECDHE: forward secret (elliptic curve).
  [0xc009, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'ECDHE-ECDSA-AES128-SHA', 'ECDHE', 'ECDSA', 'AES-128-CBC', 'SHA1', 'SHA256'],
  [0xc00a, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE', 'ECDSA', 'AES-256-CBC', 'SHA1', 'SHA256'],
  [0xc013, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE', 'RSA', 'AES-128-CBC', 'SHA1', 'SHA256'],
  [0xc014, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA', 'ECDHE', 'RSA', 'AES-256-CBC', 'SHA1', 'SHA256'],
  [0xc023, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE', 'ECDSA', 'AES-128-CBC', 'SHA256', 'SHA256'],
  [0xc024, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE', 'ECDSA', 'AES-256-CBC', 'SHA384', 'SHA384'],
  [0xc027, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'ECDHE-RSA-AES128-SHA256', 'ECDHE', 'RSA', 'AES-128-CBC', 'SHA256', 'SHA256'],
  [0xc028, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', 'ECDHE-RSA-AES256-SHA384', 'ECDHE', 'RSA', 'AES-256-CBC', 'SHA384', 'SHA384'],
  [0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE', 'ECDSA', 'AES-128-GCM', null, 'SHA256'],
  [0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE', 'ECDSA', 'AES-256-GCM', null, 'SHA384'],
  [0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE', 'RSA', 'AES-128-GCM', null, 'SHA256'],
  [0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE', 'RSA', 'AES-256-GCM', null, 'SHA384'],
  [0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-RSA-CHACHA20-POLY1305', 'ECDHE', 'RSA', 'CHACHA20-POLY1305', null, 'SHA256'],
  [0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE', 'ECDSA', 'CHACHA20-POLY1305', null, 'SHA256'],
  // TLS 1.3 (RFC 8446 §B.4): key exchange is always (EC)DHE or PSK; OpenSSL uses the IANA names.
  [0x1301, 'TLS_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256', 'TLS13', null, 'AES-128-GCM', null, 'SHA256'],
  [0x1302, 'TLS_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384', 'TLS13', null, 'AES-256-GCM', null, 'SHA384'],
  [0x1303, 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS13', null, 'CHACHA20-POLY1305', null, 'SHA256'],
];

/** Every cipher suite secchat knows, by wire value. */
export const CIPHER_SUITES: ReadonlyMap<number, Readonly<CipherSuiteInfo>> = new Map(
  SUITE_ROWS.map(([id, name, openssl, keyExchange, authentication, cipher, mac, prfHash]) => [
    id,
    Object.freeze({ id, name, openssl, keyExchange, authentication, cipher, mac, prfHash }),
  ]),
);

/** Sizes of each bulk cipher in the TLS 1.2 record layer (RFC 5246 §6.3, RFC 5288 §3, RFC 7905 §2). */
export const BULK_CIPHER_SIZES: Readonly<
  Record<BulkCipher, { keyBytes: number; fixedIvBytes: number; recordIvBytes: number; tagBytes: number; blockBytes: number }>
> = {
  'AES-128-GCM': { keyBytes: 16, fixedIvBytes: 4, recordIvBytes: 8, tagBytes: 16, blockBytes: 0 },
  'AES-256-GCM': { keyBytes: 32, fixedIvBytes: 4, recordIvBytes: 8, tagBytes: 16, blockBytes: 0 },
  'AES-128-CBC': { keyBytes: 16, fixedIvBytes: 0, recordIvBytes: 16, tagBytes: 0, blockBytes: 16 },
  'AES-256-CBC': { keyBytes: 32, fixedIvBytes: 0, recordIvBytes: 16, tagBytes: 0, blockBytes: 16 },
  'CHACHA20-POLY1305': { keyBytes: 32, fixedIvBytes: 12, recordIvBytes: 0, tagBytes: 16, blockBytes: 0 },
};

/** Output bytes of each MAC / PRF hash. */
export const HASH_BYTES: Readonly<Record<HashName, number>> = { SHA1: 20, SHA256: 32, SHA384: 48 };

/** Name of a cipher suite value: IANA name, the SCSV names, 'GREASE', or hex for unknown ones. */
export function cipherSuiteName(id: number): string {
  const known = CIPHER_SUITES.get(id);
  if (known) return known.name;
  if (id === TLS_FALLBACK_SCSV) return 'TLS_FALLBACK_SCSV';
  if (id === TLS_EMPTY_RENEGOTIATION_INFO_SCSV) return 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV';
  if (isGrease(id)) return 'GREASE';
  return `0x${hex4(id)}`;
}

/** GREASE values (RFC 8701 §2): 0x?A?A with both bytes equal. */
export function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 8 === (value & 0xff);
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

// ---------------------------------------------------------------------------------------------
// Record layer

/** One TLS record as it crossed the wire. */
export interface TlsRecord {
  /** Content type (see {@link CONTENT_TYPE}). */
  type: number;
  /** legacy_record_version, e.g. 0x0303; 0x0301 is normal on a first ClientHello. */
  version: number;
  /** The fragment (plaintext or ciphertext); a copy, safe to keep. */
  fragment: Buffer;
  /** Byte offset of the record header in the stream pushed so far. */
  offset: number;
}

/**
 * Parse one record header at `offset`. Returns null when fewer than 5 bytes are there.
 * @throws ProtocolError on an unknown content type, a major version other than 3, or a length
 *   above {@link MAX_RECORD_FRAGMENT_BYTES} — checked before any buffer is allocated.
 */
export function parseRecordHeader(buf: Buffer, offset = 0): { type: number; version: number; length: number } | null {
  if (buf.length - offset < RECORD_HEADER_BYTES) return null;
  const type = buf[offset]!;
  const version = buf.readUInt16BE(offset + 1);
  const length = buf.readUInt16BE(offset + 3);
  if (type < CONTENT_TYPE.change_cipher_spec || type > CONTENT_TYPE.heartbeat) {
    throw new ProtocolError(`not a TLS record: content type ${type}`, { field: 'record.type', value: type });
  }
  if (version >> 8 !== 3) {
    throw new ProtocolError(`not a TLS record: version 0x${hex4(version)}`, { field: 'record.version', value: version });
  }
  if (length > MAX_RECORD_FRAGMENT_BYTES) {
    throw new ProtocolError(`TLS record of ${length} bytes exceeds ${MAX_RECORD_FRAGMENT_BYTES}`, {
      field: 'record.length',
      value: length,
      max: MAX_RECORD_FRAGMENT_BYTES,
    });
  }
  return { type, version, length };
}

/**
 * Incremental TLS record reader (RFC 5246 §6.2.1). Push bytes as they arrive, in any chunking;
 * pull whole records. Pure: no sockets, no timers.
 *
 * ```ts
 * const r = new TlsRecordReader();
 * r.push(chunk);
 * for (let rec; (rec = r.next()); ) handle(rec);
 * ```
 * Once `next()` has thrown, the stream is not TLS (or is corrupt) and the reader stays failed.
 */
export class TlsRecordReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Stream offset of the first buffered byte. */
  private consumed = 0;
  private failure: ProtocolError | null = null;

  /** Append bytes from the stream (copied lazily; the caller may reuse `chunk` after `next()`). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(Buffer.from(chunk));
    this.buffered += chunk.length;
  }

  /** Bytes pushed but not yet returned as part of a record. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Stream offset of the next record's header. */
  get offset(): number {
    return this.consumed;
  }

  /**
   * Return the next whole record, or null when more bytes are needed.
   * @throws ProtocolError (see {@link parseRecordHeader}); thrown again on every later call.
   */
  next(): TlsRecord | null {
    if (this.failure) throw this.failure;
    if (this.buffered < RECORD_HEADER_BYTES) return null;
    const head = this.peek(RECORD_HEADER_BYTES);
    let header;
    try {
      header = parseRecordHeader(head)!;
    } catch (err) {
      this.failure = err as ProtocolError;
      (this.failure.details as Record<string, unknown>).offset = this.consumed;
      throw err;
    }
    const total = RECORD_HEADER_BYTES + header.length;
    if (this.buffered < total) return null;
    const whole = this.take(total);
    const record: TlsRecord = {
      type: header.type,
      version: header.version,
      fragment: whole.subarray(RECORD_HEADER_BYTES),
      offset: this.consumed,
    };
    this.consumed += total;
    return record;
  }

  /** Concatenate the first n buffered bytes into the first chunk, without consuming them. */
  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) {
      const merged = Buffer.concat(this.chunks);
      this.chunks = [merged];
    }
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.peek(n);
    const out = Buffer.from(first); // copy: callers keep records longer than our chunks
    const rest = this.chunks[0]!.subarray(n);
    if (rest.length > 0) this.chunks[0] = rest;
    else this.chunks.shift();
    this.buffered -= n;
    return out;
  }
}

/**
 * Split a whole recorded stream into records.
 * @returns the records and the bytes left over after the last whole record (a truncated
 *   recording leaves a partial record there).
 * @throws ProtocolError as {@link TlsRecordReader.next}.
 */
export function readAllRecords(stream: Buffer): { records: TlsRecord[]; trailing: Buffer } {
  const reader = new TlsRecordReader();
  reader.push(stream);
  const records: TlsRecord[] = [];
  for (let rec = reader.next(); rec; rec = reader.next()) records.push(rec);
  return { records, trailing: stream.subarray(reader.offset) };
}

// ---------------------------------------------------------------------------------------------
// Handshake messages

/** One handshake message (RFC 5246 §7.4): `raw` is header + body, as hashed into the transcript. */
export interface HandshakeMessage {
  msgType: number;
  body: Buffer;
  raw: Buffer;
}

/**
 * Reassembles handshake messages from the fragments of consecutive plaintext handshake records:
 * one message may span several records, one record may carry several messages (RFC 5246 §6.2.1).
 * Returns messages or null ("need more bytes"); throws ProtocolError for a message longer than
 * `maxMessageBytes` (checked on the header, before buffering the body).
 */
export class HandshakeReassembler {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly maxMessageBytes = DEFAULT_MAX_HANDSHAKE_MESSAGE_BYTES) {}

  /** Append the fragment of one handshake record. */
  push(fragment: Uint8Array): void {
    this.buf = this.buf.length === 0 ? Buffer.from(fragment) : Buffer.concat([this.buf, fragment]);
  }

  /** True when a message has started but is not complete: a record boundary must not be here yet. */
  get hasPartialMessage(): boolean {
    return this.buf.length > 0;
  }

  /**
   * The next whole message, or null when more fragments are needed.
   * @throws ProtocolError when the announced length exceeds `maxMessageBytes`.
   */
  next(): HandshakeMessage | null {
    if (this.buf.length < 4) return null;
    const msgType = this.buf[0]!;
    const length = this.buf.readUIntBE(1, 3);
    if (length > this.maxMessageBytes) {
      throw new ProtocolError(`handshake message of ${length} bytes exceeds ${this.maxMessageBytes}`, {
        field: 'handshake.length',
        value: length,
        max: this.maxMessageBytes,
      });
    }
    if (this.buf.length < 4 + length) return null;
    const raw = Buffer.from(this.buf.subarray(0, 4 + length));
    this.buf = this.buf.subarray(4 + length);
    return { msgType, body: raw.subarray(4), raw };
  }
}

/** Frame a handshake message: type(1) + uint24 length + body. */
export function encodeHandshakeMessage(msgType: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = msgType;
  head.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([head, body]);
}

/** Frame a record: type(1) + version(2) + uint16 length + fragment. @throws RangeError when too long. */
export function encodeRecord(type: number, version: number, fragment: Buffer): Buffer {
  if (fragment.length > 2 ** 14 + 2048) throw new RangeError(`record fragment of ${fragment.length} bytes is too long`);
  const head = Buffer.alloc(RECORD_HEADER_BYTES);
  head[0] = type;
  head.writeUInt16BE(version, 1);
  head.writeUInt16BE(fragment.length, 3);
  return Buffer.concat([head, fragment]);
}

// ---------------------------------------------------------------------------------------------
// A bounds-checked cursor for one-shot parsers

class Cursor {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    private readonly what: string,
  ) {}
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  private need(n: number, field: string): void {
    if (this.remaining < n) {
      throw new ProtocolError(`${this.what}: truncated at ${field}`, { field: `${this.what}.${field}`, offset: this.pos });
    }
  }
  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }
  u16(field: string): number {
    this.need(2, field);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  bytes(n: number, field: string): Buffer {
    this.need(n, field);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** A length-prefixed vector (RFC 5246 §4.3) with a 1-, 2- or 3-byte length. */
  vec(lenBytes: 1 | 2 | 3, field: string): Buffer {
    this.need(lenBytes, field);
    const n = this.buf.readUIntBE(this.pos, lenBytes);
    this.pos += lenBytes;
    return this.bytes(n, field);
  }
  end(): void {
    if (this.remaining !== 0) {
      throw new ProtocolError(`${this.what}: ${this.remaining} trailing bytes`, { field: this.what, offset: this.pos });
    }
  }
}

function u16List(buf: Buffer, what: string): number[] {
  if (buf.length % 2 !== 0) throw new ProtocolError(`${what}: odd length ${buf.length}`, { field: what });
  const out: number[] = [];
  for (let i = 0; i < buf.length; i += 2) out.push(buf.readUInt16BE(i));
  return out;
}

/** One extension as sent: its wire type, name (or hex), and undecoded data. */
export interface TlsExtension {
  type: number;
  name: string;
  data: Buffer;
}

function parseExtensions(c: Cursor, what: string): TlsExtension[] {
  // Extensions are optional in TLS 1.2 hellos (RFC 5246 §7.4.1.2): absent means none.
  if (c.remaining === 0) return [];
  const block = new Cursor(c.vec(2, 'extensions'), `${what}.extensions`);
  const out: TlsExtension[] = [];
  const seen = new Set<number>();
  while (block.remaining > 0) {
    const type = block.u16('type');
    const data = block.vec(2, 'data');
    // RFC 8446 §4.2: "There MUST NOT be more than one extension of the same type".
    if (seen.has(type)) throw new ProtocolError(`${what}: duplicate extension ${type}`, { field: `${what}.extensions`, value: type });
    seen.add(type);
    out.push({ type, name: EXTENSION_NAMES.get(type) ?? (isGrease(type) ? 'GREASE' : `0x${hex4(type)}`), data });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// ClientHello

export interface NamedValue {
  id: number;
  name: string;
}

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
 * @throws ProtocolError on truncation, trailing bytes, or malformed extensions it decodes.
 */
export function parseClientHello(body: Buffer): ClientHello {
  const c = new Cursor(body, 'ClientHello');
  const legacyVersion = c.u16('legacy_version');
  const random = c.bytes(32, 'random');
  const sessionId = c.vec(1, 'session_id');
  if (sessionId.length > 32) throw new ProtocolError('ClientHello: session_id longer than 32 bytes', { field: 'ClientHello.session_id' });
  const suiteIds = u16List(c.vec(2, 'cipher_suites'), 'ClientHello.cipher_suites');
  const compressionMethods = [...c.vec(1, 'compression_methods')];
  const extensions = parseExtensions(c, 'ClientHello');
  c.end();

  const hello: ClientHello = {
    legacyVersion,
    random,
    sessionId,
    cipherSuites: suiteIds.map((id) => ({ id, name: cipherSuiteName(id) })),
    compressionMethods,
    extensions,
    extendedMasterSecret: false,
    encryptThenMac: false,
    preSharedKey: false,
    fallbackScsv: suiteIds.includes(TLS_FALLBACK_SCSV),
    maxVersion: legacyVersion,
  };
  for (const ext of extensions) {
    const what = `ClientHello.${ext.name}`;
    const e = new Cursor(ext.data, what);
    switch (ext.type) {
      case EXTENSION_TYPE.server_name: {
        // RFC 6066 §3: ServerNameList of (name_type, opaque HostName<1..2^16-1>); type 0 = host_name.
        if (ext.data.length === 0) break; // the empty form is only legal in a ServerHello
        const list = new Cursor(e.vec(2, 'server_name_list'), what);
        while (list.remaining > 0) {
          const nameType = list.u8('name_type');
          const name = list.vec(2, 'host_name');
          if (nameType === 0 && hello.serverName === undefined) hello.serverName = name.toString('ascii');
        }
        e.end();
        break;
      }
      case EXTENSION_TYPE.supported_versions:
        hello.supportedVersions = u16List(e.vec(1, 'versions'), what);
        e.end();
        break;
      case EXTENSION_TYPE.supported_groups:
        hello.supportedGroups = u16List(e.vec(2, 'named_group_list'), what).map((id) => ({ id, name: groupName(id) }));
        e.end();
        break;
      case EXTENSION_TYPE.key_share: {
        const shares = new Cursor(e.vec(2, 'client_shares'), what);
        const groups: NamedValue[] = [];
        while (shares.remaining > 0) {
          const id = shares.u16('group');
          shares.vec(2, 'key_exchange');
          groups.push({ id, name: groupName(id) });
        }
        e.end();
        hello.keyShareGroups = groups;
        break;
      }
      case EXTENSION_TYPE.signature_algorithms:
        hello.signatureAlgorithms = u16List(e.vec(2, 'supported_signature_algorithms'), what);
        e.end();
        break;
      case EXTENSION_TYPE.alpn: {
        const list = new Cursor(e.vec(2, 'protocol_name_list'), what);
        const names: string[] = [];
        while (list.remaining > 0) names.push(list.vec(1, 'protocol_name').toString('latin1'));
        e.end();
        hello.alpn = names;
        break;
      }
      case EXTENSION_TYPE.extended_master_secret:
        hello.extendedMasterSecret = true;
        break;
      case EXTENSION_TYPE.encrypt_then_mac:
        hello.encryptThenMac = true;
        break;
      case EXTENSION_TYPE.session_ticket:
        hello.sessionTicket = ext.data;
        break;
      case EXTENSION_TYPE.pre_shared_key:
        hello.preSharedKey = true;
        break;
    }
  }
  const real = (hello.supportedVersions ?? []).filter((v) => !isGrease(v));
  if (real.length > 0) hello.maxVersion = Math.max(...real);
  return hello;
}

// ---------------------------------------------------------------------------------------------
// ServerHello

/** A decoded ServerHello (RFC 5246 §7.4.1.3, RFC 8446 §4.1.3). */
export interface ServerHello {
  legacyVersion: number;
  random: Buffer;
  sessionId: Buffer;
  cipherSuite: NamedValue;
  /** The suite's table row, if secchat knows it. */
  suite?: Readonly<CipherSuiteInfo>;
  compressionMethod: number;
  extensions: TlsExtension[];
  /** The negotiated version: supported_versions when present (TLS 1.3), else legacy_version. */
  selectedVersion: number;
  extendedMasterSecret: boolean;
  encryptThenMac: boolean;
  /** TLS 1.3: the group of the server's key share (or the group asked for, in a HelloRetryRequest). */
  keyShareGroup?: NamedValue;
  /** TLS 1.3: the server accepted a pre-shared key (resumption), RFC 8446 §4.2.11. */
  preSharedKey: boolean;
  /** TLS 1.2: the server will send a NewSessionTicket (RFC 5077 §3.2). */
  sessionTicket: boolean;
  /** This is a HelloRetryRequest (RFC 8446 §4.1.3), not a real ServerHello. */
  helloRetryRequest: boolean;
}

/**
 * Decode a ServerHello body (without the 4-byte handshake header).
 * @throws ProtocolError on truncation, trailing bytes, or malformed decoded extensions.
 */
export function parseServerHello(body: Buffer): ServerHello {
  const c = new Cursor(body, 'ServerHello');
  const legacyVersion = c.u16('legacy_version');
  const random = c.bytes(32, 'random');
  const sessionId = c.vec(1, 'session_id');
  const suiteId = c.u16('cipher_suite');
  const compressionMethod = c.u8('compression_method');
  const extensions = parseExtensions(c, 'ServerHello');
  c.end();
  const helloRetryRequest = random.equals(HELLO_RETRY_REQUEST_RANDOM);
  const hello: ServerHello = {
    legacyVersion,
    random,
    sessionId,
    cipherSuite: { id: suiteId, name: cipherSuiteName(suiteId) },
    suite: CIPHER_SUITES.get(suiteId),
    compressionMethod,
    extensions,
    selectedVersion: legacyVersion,
    extendedMasterSecret: false,
    encryptThenMac: false,
    preSharedKey: false,
    sessionTicket: false,
    helloRetryRequest,
  };
  for (const ext of extensions) {
    const e = new Cursor(ext.data, `ServerHello.${ext.name}`);
    switch (ext.type) {
      case EXTENSION_TYPE.supported_versions:
        hello.selectedVersion = e.u16('selected_version');
        e.end();
        break;
      case EXTENSION_TYPE.key_share: {
        // ServerHello: KeyShareEntry; HelloRetryRequest: just the selected NamedGroup (§4.2.8).
        const id = e.u16('group');
        if (!helloRetryRequest) e.vec(2, 'key_exchange');
        e.end();
        hello.keyShareGroup = { id, name: groupName(id) };
        break;
      }
      case EXTENSION_TYPE.extended_master_secret:
        hello.extendedMasterSecret = true;
        break;
      case EXTENSION_TYPE.encrypt_then_mac:
        hello.encryptThenMac = true;
        break;
      case EXTENSION_TYPE.pre_shared_key:
        hello.preSharedKey = true;
        break;
      case EXTENSION_TYPE.session_ticket:
        hello.sessionTicket = true;
        break;
    }
  }
  return hello;
}

// ---------------------------------------------------------------------------------------------
// Key exchange messages (TLS ≤ 1.2)

/**
 * RSA ClientKeyExchange (RFC 5246 §7.4.7.1): the pre-master secret encrypted to the server's
 * certificate key, behind a 2-byte length (TLS 1.0+; SSLv3 had none, and is not handled).
 * @throws ProtocolError on truncation or trailing bytes.
 */
export function parseClientKeyExchangeRsa(body: Buffer): { encryptedPreMasterSecret: Buffer } {
  const c = new Cursor(body, 'ClientKeyExchange');
  const encryptedPreMasterSecret = c.vec(2, 'encrypted_pre_master_secret');
  c.end();
  return { encryptedPreMasterSecret };
}

/** An ECDHE ServerKeyExchange (RFC 8422 §5.4): the server's ephemeral public point, signed. */
export interface EcdheServerKeyExchange {
  /** 3 = named_curve, the only type still allowed (RFC 8422 §5.4). */
  curveType: number;
  group: NamedValue;
  publicKey: Buffer;
  /** TLS 1.2 SignatureScheme (RFC 5246 §7.4.1.4.1); undefined before TLS 1.2. */
  signatureAlgorithm?: number;
  signature: Buffer;
}

/**
 * Decode an ECDHE ServerKeyExchange body.
 * @param version the negotiated version: TLS 1.2 adds the 2-byte signature algorithm.
 * @throws ProtocolError on truncation, trailing bytes, or a curve type other than named_curve.
 */
export function parseServerKeyExchangeEcdhe(body: Buffer, version = 0x0303): EcdheServerKeyExchange {
  const c = new Cursor(body, 'ServerKeyExchange');
  const curveType = c.u8('curve_type');
  if (curveType !== 3) {
    throw new ProtocolError(`ServerKeyExchange: curve type ${curveType} is not named_curve`, { field: 'ServerKeyExchange.curve_type', value: curveType });
  }
  const id = c.u16('namedcurve');
  const publicKey = c.vec(1, 'public');
  const signatureAlgorithm = version >= 0x0303 ? c.u16('signature_algorithm') : undefined;
  const signature = c.vec(2, 'signature');
  c.end();
  return { curveType, group: { id, name: groupName(id) }, publicKey, signatureAlgorithm, signature };
}

/** A DHE ServerKeyExchange (RFC 5246 §7.4.3): explicit finite-field parameters, signed. */
export interface DheServerKeyExchange {
  p: Buffer;
  g: Buffer;
  publicKey: Buffer;
  /** Size of the prime in bits, leading zero bytes ignored. */
  primeBits: number;
  signatureAlgorithm?: number;
  signature: Buffer;
}

/**
 * Decode a DHE ServerKeyExchange body.
 * @param version the negotiated version: TLS 1.2 adds the 2-byte signature algorithm.
 * @throws ProtocolError on truncation or trailing bytes.
 */
export function parseServerKeyExchangeDhe(body: Buffer, version = 0x0303): DheServerKeyExchange {
  const c = new Cursor(body, 'ServerKeyExchange');
  const p = c.vec(2, 'dh_p');
  const g = c.vec(2, 'dh_g');
  const publicKey = c.vec(2, 'dh_Ys');
  const signatureAlgorithm = version >= 0x0303 ? c.u16('signature_algorithm') : undefined;
  const signature = c.vec(2, 'signature');
  c.end();
  let first = 0;
  while (first < p.length && p[first] === 0) first++;
  const primeBits = first === p.length ? 0 : (p.length - first - 1) * 8 + (32 - Math.clz32(p[first]!));
  return { p, g, publicKey, primeBits, signatureAlgorithm, signature };
}

/**
 * A TLS 1.2 Certificate message (RFC 5246 §7.4.2): DER certificates, the leaf first.
 * (TLS 1.3's Certificate has a context and per-entry extensions and is encrypted anyway.)
 * @throws ProtocolError on truncation or trailing bytes.
 */
export function parseCertificateTls12(body: Buffer): Buffer[] {
  const c = new Cursor(body, 'Certificate');
  const list = new Cursor(c.vec(3, 'certificate_list'), 'Certificate');
  c.end();
  const certs: Buffer[] = [];
  while (list.remaining > 0) certs.push(list.vec(3, 'ASN.1Cert'));
  return certs;
}

// ---------------------------------------------------------------------------------------------
// Alerts

/** A decoded alert (RFC 5246 §7.2). */
export interface TlsAlert {
  level: number;
  description: number;
  /** e.g. 'inappropriate_fallback', or the number as a string when unknown. */
  name: string;
}

/** Name of an alert description ('inappropriate_fallback' for 86). */
export function alertName(description: number): string {
  return ALERT_NAMES.get(description) ?? String(description);
}

/**
 * Decode the fragment of a plaintext alert record.
 * @throws ProtocolError unless it is exactly 2 bytes.
 */
export function parseAlert(fragment: Buffer): TlsAlert {
  if (fragment.length !== 2) throw new ProtocolError(`alert of ${fragment.length} bytes, expected 2`, { field: 'alert' });
  return { level: fragment[0]!, description: fragment[1]!, name: alertName(fragment[1]!) };
}

/**
 * Build a plaintext alert record.
 * @param description e.g. ALERT_DESCRIPTION.inappropriate_fallback
 * @param level       ALERT_LEVEL.fatal (default) or .warning
 * @param version     legacy_record_version, default 0x0303
 */
export function buildAlertRecord(description: number, level: number = ALERT_LEVEL.fatal, version = 0x0303): Buffer {
  return encodeRecord(CONTENT_TYPE.alert, version, Buffer.from([level, description]));
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

// ---------------------------------------------------------------------------------------------
// Peeking at the start of a connection

/** What {@link peekClientHello} could tell from the first bytes of a connection. */
export interface ClientHelloPeek {
  /**
   * The bytes look like TLS. When `complete` is false this is provisional (true as long as the
   * bytes seen fit a TLS handshake record, false with no bytes at all).
   */
  isTls: boolean;
  /** True when the verdict is final: the whole ClientHello was parsed, or the bytes are not TLS. */
  complete: boolean;
  hello?: ClientHello;
  /** Why the bytes are not TLS (or not a valid ClientHello), when `isTls` is false and `complete`. */
  error?: string;
}

/**
 * Look at the first bytes a client sent and decide whether the stream is TLS and what it offers.
 * Never throws: a proxy calls it on arbitrary input. Handles a ClientHello split over several
 * records. Call again with more bytes while `complete` is false.
 */
export function peekClientHello(bytes: Buffer): ClientHelloPeek {
  if (bytes.length === 0) return { isTls: false, complete: false };
  if (bytes[0] !== CONTENT_TYPE.handshake) return { isTls: false, complete: true, error: `first byte 0x${bytes[0]!.toString(16)} is not a TLS handshake record` };
  if (bytes.length >= 2 && bytes[1] !== 3) return { isTls: false, complete: true, error: `record version major ${bytes[1]} is not 3` };
  try {
    const reader = new TlsRecordReader();
    reader.push(bytes);
    const hs = new HandshakeReassembler();
    for (let rec = reader.next(); rec; rec = reader.next()) {
      if (rec.type !== CONTENT_TYPE.handshake) {
        return { isTls: false, complete: true, error: `record of type ${rec.type} before the ClientHello was complete` };
      }
      hs.push(rec.fragment);
      const msg = hs.next();
      if (msg) {
        if (msg.msgType !== HANDSHAKE_TYPE.client_hello) {
          return { isTls: false, complete: true, error: `first handshake message has type ${msg.msgType}, not client_hello` };
        }
        return { isTls: true, complete: true, hello: parseClientHello(msg.body) };
      }
    }
    // Check the first handshake header early so garbage with a lucky first byte is rejected soon.
    if (bytes.length >= 6 && bytes[5] !== HANDSHAKE_TYPE.client_hello) {
      return { isTls: false, complete: true, error: `first handshake message has type ${bytes[5]}, not client_hello` };
    }
    return { isTls: true, complete: false };
  } catch (err) {
    return { isTls: false, complete: true, error: err instanceof Error ? err.message : String(err) };
  }
}
