/**
 * What an attacker without keys can do to a chat frame in flight, and nothing more: rewrite it
 * when it is readable, flip bits where it is encrypted. Used by the tamper and downgrade-cipher
 * attacks; each alteration says what was done so the evidence can show it.
 */
import type { Frame } from '../../core/frames.ts';
import { RECORD_HEADER_BYTES } from '../../core/tls/record-layer.ts';
import { CONTENT_TYPE } from '../../core/tls/registry.ts';

/** The text the attacker writes over the start of the canary (same length as "canary-"). */
export const TAMPER_MARK = 'altered';

/** One alteration: the new frame and a sentence on how it was made. */
export interface Alteration {
  frame: Frame;
  how: string;
}

const b64 = (b: Buffer) => b.toString('base64');

/**
 * Alters a readable chat frame carrying `knownPrefix` at the start of its text: a plaintext `dm`
 * or `msg` frame, a sealed frame under the `null` cipher (plaintext inside), or a sealed frame
 * under `aes-128-cbc` without a MAC (CBC malleability: XOR into the IV rewrites the first
 * plaintext block; NIST SP 800-38A §6.2 — the attacker knows that block, because the protocol
 * sends `{"text":"` first and the message starts with `knownPrefix`).
 * Authenticated sealed frames (a `tag` is present) get one ciphertext bit flipped: the best an
 * attacker without the key can do, and what the MAC must catch.
 * @returns the alteration, or null when the frame is not one the attacker targets
 */
export function alterFrame(frame: Frame, knownPrefix: string): Alteration | null {
  if ((frame.type === 'dm' || frame.type === 'msg') && typeof frame.text === 'string' && frame.text.startsWith(knownPrefix)) {
    return { frame: { ...frame, text: TAMPER_MARK + frame.text.slice(TAMPER_MARK.length) }, how: 'rewrote the readable chat frame\'s text' };
  }
  if (frame.type !== 'sealed') return null;
  if (typeof frame.plaintext === 'string') {
    let inner: Frame;
    try {
      inner = JSON.parse(frame.plaintext);
    } catch {
      return null;
    }
    const altered = alterFrame(inner, knownPrefix);
    return altered ? { frame: { ...frame, plaintext: JSON.stringify(altered.frame) }, how: 'rewrote the plaintext inside a null-cipher sealed frame' } : null;
  }
  if (typeof frame.iv !== 'string' || typeof frame.ct !== 'string') return null;
  const ct = Buffer.from(frame.ct, 'base64');
  if (frame.tag === undefined) {
    const iv = Buffer.from(frame.iv, 'base64');
    const known = Buffer.from(`{"text":"${knownPrefix}`, 'utf8').subarray(0, 16);
    const wanted = Buffer.from(`{"text":"${TAMPER_MARK}${knownPrefix.slice(TAMPER_MARK.length)}`, 'utf8').subarray(0, 16);
    if (iv.length !== 16 || known.length !== 16 || wanted.length !== 16) return null;
    const newIv = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) newIv[i] = iv[i] ^ known[i] ^ wanted[i];
    return { frame: { ...frame, iv: b64(newIv) }, how: `XOR-ed (known ⊕ wanted) into the CBC IV so the first block decrypts to ${JSON.stringify(wanted.toString())} (no MAC to notice)` };
  }
  if (ct.length === 0) return null;
  const flipped = Buffer.from(ct);
  flipped[Math.floor(flipped.length / 2)] ^= 0x01;
  return { frame: { ...frame, ct: b64(flipped) }, how: 'flipped one bit of the authenticated ciphertext (without the key nothing better is possible at this layer)' };
}

/**
 * Flips one bit inside the first TLS application_data record of `chunk` (RFC 8446 §5.2 /
 * RFC 5246 §6.2.3: the record is authenticated, so the receiver must reject it).
 * @returns the altered bytes, or null when the chunk holds no application_data record
 */
export function flipTlsApplicationData(chunk: Buffer): Buffer | null {
  let off = 0;
  while (off + RECORD_HEADER_BYTES <= chunk.length) {
    const type = chunk[off];
    const len = chunk.readUInt16BE(off + 3);
    if (type === CONTENT_TYPE.application_data && len > 0 && off + RECORD_HEADER_BYTES + len <= chunk.length) {
      const out = Buffer.from(chunk);
      out[off + RECORD_HEADER_BYTES + Math.floor(len / 2)] ^= 0x01;
      return out;
    }
    off += RECORD_HEADER_BYTES + len;
  }
  return null;
}

/**
 * The chat frame inside a sealed frame that travels readable — the null cipher's `plaintext`
 * field — or the frame itself when it is not sealed; null when it is encrypted or unparsable.
 */
export function readableInner(frame: Frame): Frame | null {
  if (frame.type !== 'sealed') return frame;
  if (typeof frame.plaintext !== 'string') return null;
  try {
    const inner = JSON.parse(frame.plaintext);
    return inner && typeof inner === 'object' && typeof inner.type === 'string' ? (inner as Frame) : null;
  } catch {
    return null;
  }
}
