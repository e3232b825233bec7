/**
 * A bounds-checked cursor over one whole message, for the one-shot parsers of this folder. It reads
 * the TLS presentation language's integers and length-prefixed vectors (RFC 8446 §3, RFC 5246 §4.3)
 * and throws a {@link ProtocolError} naming the field on truncation or trailing bytes.
 */
import { ProtocolError } from '../errors.ts';

/** Reads fields from `buf` in order; `what` names the message in errors ('ClientHello'). */
export class Cursor {
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

/** Split a vector body into big-endian uint16 values. @throws ProtocolError on an odd length. */
export function u16List(buf: Buffer, what: string): number[] {
  if (buf.length % 2 !== 0) throw new ProtocolError(`${what}: odd length ${buf.length}`, { field: what });
  const out: number[] = [];
  for (let i = 0; i < buf.length; i += 2) out.push(buf.readUInt16BE(i));
  return out;
}
