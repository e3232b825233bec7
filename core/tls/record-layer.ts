/**
 * The TLS record layer, socket-free: the record header (RFC 5246 §6.2.1, RFC 8446 §5.1), an
 * incremental record reader, and record framing.
 *
 * The reader follows the parser rule of STYLE.md lesson 1: it returns a whole record, or `null` for
 * "need more bytes", or throws a {@link ProtocolError} when the bytes cannot be TLS.
 */
import { ProtocolError } from '../errors.ts';
import { CONTENT_TYPE, hex4 } from './registry.ts';

/** Largest record fragment accepted: 2^14 + 2048, the TLS 1.2 ciphertext limit (RFC 5246 §6.2.3). */
export const MAX_RECORD_FRAGMENT_BYTES = 2 ** 14 + 2048;
/** Bytes of a record header: type(1) version(2) length(2). */
export const RECORD_HEADER_BYTES = 5;

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

/** Frame a record: type(1) + version(2) + uint16 length + fragment. @throws RangeError when too long. */
export function encodeRecord(type: number, version: number, fragment: Buffer): Buffer {
  if (fragment.length > 2 ** 14 + 2048) throw new RangeError(`record fragment of ${fragment.length} bytes is too long`);
  const head = Buffer.alloc(RECORD_HEADER_BYTES);
  head[0] = type;
  head.writeUInt16BE(version, 1);
  head.writeUInt16BE(fragment.length, 3);
  return Buffer.concat([head, fragment]);
}

/** Highest minor version a record header may carry (TLS 1.3 records say 3; 4 leaves room). */
const MAX_RECORD_MINOR = 4;

/**
 * Offset of the first TLS handshake record in a recorded stream whose first handshake message is
 * `handshakeType` (ClientHello for the client, ServerHello for the server), or -1.
 *
 * Over STARTTLS, TLS follows JSON Lines, so a record can only start at the stream's start or right
 * after a "\n" — which is what makes a stray 0x16 byte inside a line impossible to mistake for one
 * (JSON escapes control characters anyway). Record header: RFC 5246 §6.2.1.
 */
export function tlsStart(stream: Buffer, handshakeType: number): number {
  for (let i = 0; i + 6 <= stream.length; i++) {
    if (i > 0 && stream[i - 1] !== 0x0a) continue;
    if (stream[i] === CONTENT_TYPE.handshake && stream[i + 1] === 0x03 && stream[i + 2]! <= MAX_RECORD_MINOR && stream[i + 5] === handshakeType) return i;
  }
  return -1;
}
