/** One table of channel error codes, each documented once (like undici's errors table test). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHANNEL_CIPHER_SPECS } from '../core/channel/ciphers.ts';
import { CHANNEL_ERROR_CODES, channelError, channelErrorFrame, type ChannelErrorCode } from '../core/channel/errors.ts';
import { ERROR_CODES, SecchatError } from '../core/errors.ts';
import { CHANNEL_CIPHERS } from '../core/profile.ts';

const doc = readFileSync(new URL('../docs/channel.md', import.meta.url), 'utf8');
const codes = Object.keys(CHANNEL_ERROR_CODES) as ChannelErrorCode[];

describe('channel error codes', () => {
  it.each(codes)('%s: a SecchatError(CHANNEL) carrying the code, documented in docs/channel.md', (code) => {
    const err = channelError(code, 'test');
    expect(err).toBeInstanceOf(SecchatError);
    expect(err.code).toBe(ERROR_CODES.CHANNEL);
    expect(err.details.channelCode).toBe(code);
    expect(doc).toMatch(new RegExp('^- `' + code + '`: ', 'm'));
    const frame = channelErrorFrame(err);
    if (code === 'peer_error' || code === 'not_established' || code === 'closed') expect(frame).toBeNull();
    else expect(frame).toEqual({ type: 'ch_error', code, message: CHANNEL_ERROR_CODES[code] });
  });

  it('the docs list no code the table lacks', () => {
    const section = doc.slice(doc.indexOf('## Error codes'), doc.indexOf('## Things worth knowing'));
    const documented = [...section.matchAll(/^- `([a-z_]+)`: /gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...codes].sort());
  });

  it.each(CHANNEL_CIPHERS)('cipher %s is in the docs table with its weakness status', (cipher) => {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${cipher}\` |`));
    expect(row).toBeDefined();
    expect(row!.trim().endsWith('| — |')).toBe(CHANNEL_CIPHER_SPECS[cipher].weakness === null);
  });
});
