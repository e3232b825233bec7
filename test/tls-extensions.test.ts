/**
 * core/tls/extensions.ts: the one walk over a hello's extensions block (RFC 8446 §4.2) that both
 * hello parsers use — split, duplicate check, end of message, then each known extension decoded
 * in wire order — fed whole, truncated at every offset, and with trailing bytes.
 */
import { describe, expect, it } from 'vitest';
import { Cursor, FieldLog } from '../core/tls/byte-cursor.ts';
import { readExtensions, type ExtensionDecoder } from '../core/tls/extensions.ts';
import { ProtocolError } from '../core/errors.ts';

const ext = (type: number, data: Buffer) => Buffer.concat([Buffer.from([type >> 8, type & 0xff, data.length >> 8, data.length & 0xff]), data]);
const block = (...exts: Buffer[]) => {
  const body = Buffer.concat(exts);
  return Buffer.concat([Buffer.from([body.length >> 8, body.length & 0xff]), body]);
};
// supported_versions (43) with one version, an unknown type 0x4a4a (GREASE), extended_master_secret (23)
const WIRE = block(ext(43, Buffer.from([2, 0x03, 0x04])), ext(0x4a4a, Buffer.from([0xaa])), ext(23, Buffer.alloc(0)));

function walk(wire: Buffer, log?: FieldLog, seen: string[] = []) {
  const decoders: Record<number, ExtensionDecoder> = {
    43: (e, x, what) => {
      seen.push(`${what}:${e.vec(1, 'versions').toString('hex')}`);
      e.end();
    },
    23: (e, x, what) => void seen.push(`${what}:${x.data.length}`),
  };
  const extensions = readExtensions(new Cursor(wire, 'ClientHello', log), 'ClientHello', decoders);
  return { extensions, seen };
}

describe('readExtensions', () => {
  it('returns every extension and decodes the known ones in wire order', () => {
    const { extensions, seen } = walk(WIRE);
    expect(extensions.map((x) => [x.type, x.data.toString('hex')])).toEqual([
      [43, '020304'],
      [0x4a4a, 'aa'],
      [23, ''],
    ]);
    expect(seen).toEqual(['ClientHello.supported_versions:0304', 'ClientHello.extended_master_secret:0']);
  });

  it('logs the decoded fields one level below the block, at their offsets', () => {
    const log = new FieldLog(WIRE);
    walk(WIRE, log);
    const versions = log.fields.find((f) => f.name === 'versions')!;
    expect(versions.offset).toBe(6); // 2 (block length) + 4 (type, length)
    expect(versions.depth).toBe(2);
  });

  it('an absent block is no extensions; every truncation is a ProtocolError before any decoding', () => {
    expect(walk(Buffer.alloc(0)).extensions).toEqual([]);
    for (let cut = 1; cut < WIRE.length; cut++) {
      const seen: string[] = [];
      expect(() => walk(WIRE.subarray(0, cut), undefined, seen), `cut at ${cut}`).toThrow(ProtocolError);
      expect(seen, `cut at ${cut}`).toEqual([]);
    }
  });

  it('checks trailing bytes after the block before decoding, and passes a decoder error on', () => {
    const seen: string[] = [];
    expect(() => walk(Buffer.concat([WIRE, Buffer.from([0])]), undefined, seen)).toThrow(/ClientHello: 1 trailing bytes/);
    expect(seen).toEqual([]);
    const bad = block(ext(43, Buffer.from([2, 0x03, 0x04, 0x99])));
    expect(() => walk(bad)).toThrow(/ClientHello.supported_versions: 1 trailing bytes/);
  });

  it('refuses a duplicate extension type (RFC 8446 §4.2)', () => {
    expect(() => walk(block(ext(23, Buffer.alloc(0)), ext(23, Buffer.alloc(0))))).toThrow(/duplicate extension 23/);
  });
});
