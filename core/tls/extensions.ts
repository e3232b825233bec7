/**
 * The extensions block of a hello (RFC 8446 §4.2, RFC 5246 §7.4.1.4): a 2-byte-length vector of
 * (type, opaque data) entries, each type at most once. The hello parsers decode the data of the
 * extensions they care about through {@link readExtensions}; this file splits the block and walks it.
 */
import { ProtocolError } from '../errors.ts';
import type { Cursor } from './byte-cursor.ts';
import { extensionName } from './registry.ts';

/** One extension as sent: its wire type, name (or hex), and undecoded data. */
export interface TlsExtension {
  type: number;
  name: string;
  data: Buffer;
}

/**
 * Read the extensions block at the cursor (absent means none, RFC 5246 §7.4.1.2).
 * @throws ProtocolError on truncation or a duplicate extension type (RFC 8446 §4.2).
 */
export function parseExtensions(c: Cursor, what: string): TlsExtension[] {
  // Extensions are optional in TLS 1.2 hellos (RFC 5246 §7.4.1.2): absent means none.
  if (c.remaining === 0) return [];
  const block = c.child(c.vec(2, 'extensions'), `${what}.extensions`);
  const out: TlsExtension[] = [];
  const seen = new Set<number>();
  while (block.remaining > 0) {
    const type = block.u16('type', (t) => `${extensionName(t)} (${t})`);
    const data = block.vec(2, 'data');
    // RFC 8446 §4.2: "There MUST NOT be more than one extension of the same type".
    if (seen.has(type)) throw new ProtocolError(`${what}: duplicate extension ${type}`, { field: `${what}.extensions`, value: type });
    seen.add(type);
    out.push({ type, name: extensionName(type), data });
  }
  return out;
}

/**
 * Decodes one extension's data for a hello parser and records what it found.
 * @param e a cursor over the extension's data (its fields logged one level below the block)
 * @param ext the extension as sent
 * @param what the extension's place in errors ('ClientHello.server_name')
 * @throws ProtocolError on malformed data
 */
export type ExtensionDecoder = (e: Cursor, ext: TlsExtension, what: string) => void;

/**
 * Reads a hello's extensions block, which ends the message (RFC 8446 §4.1.2–4.1.3), then hands
 * each extension that `decoders` knows, in wire order, to its decoder; others are kept undecoded.
 * The checks come in this order: the block ({@link parseExtensions}), no trailing bytes after it,
 * then each decoded extension's data.
 * @param c the message's cursor, at the extensions block
 * @param what the message's name ('ClientHello')
 * @param decoders extension type (wire value) → decoder
 * @returns every extension as sent
 * @throws ProtocolError on truncation, a duplicate type, trailing bytes, or what a decoder throws
 */
export function readExtensions(c: Cursor, what: string, decoders: Partial<Record<number, ExtensionDecoder>>): TlsExtension[] {
  const extensions = parseExtensions(c, what);
  c.end();
  for (const ext of extensions) {
    const decode = decoders[ext.type];
    if (!decode) continue;
    const where = `${what}.${ext.name}`;
    decode(c.child(ext.data, where, 2), ext, where);
  }
  return extensions;
}
