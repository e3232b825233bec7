/**
 * Handshake message framing and reassembly across records (RFC 5246 §7.4 and §6.2.1, RFC 8446 §4):
 * one message may span several records, one record may carry several messages. Pure: no sockets.
 */
import { ProtocolError } from '../errors.ts';

/** Default cap on one reassembled handshake message; a certificate chain fits well inside. */
export const DEFAULT_MAX_HANDSHAKE_MESSAGE_BYTES = 256 * 1024;

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
