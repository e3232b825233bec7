/**
 * The extensions block of a hello (RFC 8446 §4.2, RFC 5246 §7.4.1.4): a 2-byte-length vector of
 * (type, opaque data) entries, each type at most once. The hello parsers decode the data of the
 * extensions they care about; this file only splits the block.
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
