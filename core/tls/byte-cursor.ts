/**
 * A bounds-checked cursor over one whole message, for the one-shot parsers of this folder. It reads
 * the TLS presentation language's integers and length-prefixed vectors (RFC 8446 §3, RFC 5246 §4.3)
 * and throws a {@link ProtocolError} naming the field on truncation or trailing bytes.
 *
 * Given a {@link FieldLog}, the cursor also records every field it reads — offset, length, name,
 * raw bytes and, where the parser supplies one, the decoded value — so the same parser that decodes
 * a ClientHello can print it as annotated bytes (the idea of jawj/subtls and "The Illustrated TLS
 * Connection"). Without a log nothing is recorded and no decoded strings are built.
 */
import { ProtocolError } from '../errors.ts';

/** One field of a parsed message, as `secchat explain` prints it. */
export interface AnnotatedField {
  /** Byte offset from the start of the log's origin buffer (plus its base offset). */
  offset: number;
  /** Bytes the field spans, a vector's length prefix included. */
  length: number;
  /** The field's name in the RFC's presentation language ('legacy_version', 'cipher_suites'). */
  name: string;
  /** Nesting: 0 for the message's own fields, one more inside each vector or extension. */
  depth: number;
  /** The field's bytes (a view into the parsed buffer, not a copy). */
  raw: Buffer;
  /** The decoded value when the parser knows one ('TLSv1.2', 'X25519', a host name, '32 bytes'). */
  value?: string;
}

/**
 * Where a cursor records fields. Every buffer a logged cursor reads must be `origin` or a view into
 * it (the parsers only ever hand sub-cursors `subarray`s), so offsets can be computed from
 * `byteOffset`.
 */
export class FieldLog {
  readonly fields: AnnotatedField[] = [];
  /**
   * @param origin     the buffer offsets are counted from (e.g. a handshake message body)
   * @param baseOffset added to every offset (e.g. 4 to count from the handshake header instead)
   */
  constructor(
    readonly origin: Buffer,
    readonly baseOffset = 0,
  ) {}

  /** The fields in wire order: by offset, an enclosing field before what it contains. */
  sorted(): AnnotatedField[] {
    return this.fields
      .map((f, i) => ({ f, i }))
      .sort((a, b) => a.f.offset - b.f.offset || a.f.depth - b.f.depth || a.i - b.i)
      .map(({ f }) => f);
  }
}

/** Reads fields from `buf` in order; `what` names the message in errors ('ClientHello'). */
export class Cursor {
  pos = 0;
  /**
   * @param log   records each field read, when given
   * @param depth nesting of this cursor's fields in the log
   */
  constructor(
    readonly buf: Buffer,
    private readonly what: string,
    private readonly log?: FieldLog,
    readonly depth = 0,
  ) {}
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  /** Whether fields are being recorded (so a parser can skip building decoded strings). */
  get logging(): boolean {
    return this.log !== undefined;
  }
  /**
   * A cursor over `buf` — a view into this cursor's buffer — logging `extraDepth` levels deeper.
   * @param what names the message in errors, as for the constructor
   */
  child(buf: Buffer, what: string, extraDepth = 1): Cursor {
    return new Cursor(buf, what, this.log, this.depth + extraDepth);
  }
  private need(n: number, field: string): void {
    if (this.remaining < n) {
      throw new ProtocolError(`${this.what}: truncated at ${field}`, { field: `${this.what}.${field}`, offset: this.pos });
    }
  }
  private record(start: number, name: string, value: (() => string | undefined) | undefined, depth = this.depth): void {
    if (!this.log) return;
    const offset = this.buf.byteOffset - this.log.origin.byteOffset + this.log.baseOffset + start;
    this.log.fields.push({ offset, length: this.pos - start, name, depth, raw: this.buf.subarray(start, this.pos), value: value?.() });
  }
  u8(field: string, show?: (v: number) => string): number {
    this.need(1, field);
    const v = this.buf[this.pos++]!;
    this.record(this.pos - 1, field, () => (show ? show(v) : String(v)));
    return v;
  }
  u16(field: string, show?: (v: number) => string): number {
    this.need(2, field);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    this.record(this.pos - 2, field, () => (show ? show(v) : String(v)));
    return v;
  }
  bytes(n: number, field: string, show?: (b: Buffer) => string): Buffer {
    this.need(n, field);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.record(this.pos - n, field, () => (show ? show(out) : undefined));
    return out;
  }
  /**
   * A length-prefixed vector (RFC 5246 §4.3) with a 1-, 2- or 3-byte length. Logged as one field
   * spanning prefix and content, its value `show(content)` or "N bytes".
   */
  vec(lenBytes: 1 | 2 | 3, field: string, show?: (b: Buffer) => string): Buffer {
    const start = this.pos;
    this.need(lenBytes, field);
    const n = this.buf.readUIntBE(this.pos, lenBytes);
    this.pos += lenBytes;
    this.need(n, field);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.record(start, field, () => (show ? show(out) : `${n} bytes`));
    return out;
  }
  /**
   * A vector of big-endian uint16 values (cipher suites, groups, versions, signature schemes).
   * Logged as the vector, then each value one level deeper as `item` with `show(value)`.
   * @param label names the vector in the odd-length error ('ClientHello.cipher_suites')
   * @throws ProtocolError on truncation or an odd length
   */
  u16Vec(lenBytes: 1 | 2, field: string, label: string, item: string, show: (v: number) => string): number[] {
    const body = this.vec(lenBytes, field, (b) => `${b.length} bytes, ${Math.floor(b.length / 2)} values`);
    const values = u16List(body, label);
    if (this.log) {
      const items = this.child(body, label);
      for (let i = 0; i < values.length; i++) items.u16(item, show);
    }
    return values;
  }
  end(): void {
    if (this.remaining !== 0) {
      throw new ProtocolError(`${this.what}: ${this.remaining} trailing bytes`, { field: this.what, offset: this.pos });
    }
  }
}

/** Split a vector body into big-endian uint16 values. @throws ProtocolError on an odd length. */
export function u16List(buf: Buffer, what: string): number[] {
  if (buf.length % 2 !== 0) throw new ProtocolError(`${what}: odd length ${buf.length}`, { field: what });
  const out: number[] = [];
  for (let i = 0; i < buf.length; i += 2) out.push(buf.readUInt16BE(i));
  return out;
}
