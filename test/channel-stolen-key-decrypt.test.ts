/** No forward secrecy in rsa mode: a recording plus the server key later gives everything away. */
import { describe, expect, it } from 'vitest';
import { channelCodeOf } from '../core/channel/errors.ts';
import { openRecordedFrame, unwrapRecordedRsaKey } from '../core/channel/stolen-key-decrypt.ts';
import { CHANNEL_CIPHERS } from '../core/profile.ts';
import { makePair } from './helpers/channel-fixtures.ts';
import { testPki } from './helpers/channel-pki.ts';
import { manualClock, pump, type WireEntry } from './helpers/channel-pump.ts';

function recordSession(keyExchange: 'rsa' | 'ecdhe' | 'ecdhe-signed', cipher: (typeof CHANNEL_CIPHERS)[number], replay: 'none' | 'sequence' | 'window') {
  const clock = manualClock();
  const { client, server } = makePair({ both: { keyExchange, ciphers: [cipher], replayProtection: replay }, now: clock.now });
  const hs = pump(client, server);
  const sent = { client: [{ type: 'login', user: 'alice', password: 'hunter2' }, { type: 'msg', text: 'PAY 100' }], server: [{ type: 'welcome', motd: 'hi alice' }] };
  const initial: WireEntry[] = [...sent.client.map((f) => ({ from: 'client' as const, frame: client.seal(f) })), ...sent.server.map((f) => ({ from: 'server' as const, frame: server.seal(f) }))];
  const app = pump(client, server, { start: false, initial });
  expect(app.errors).toEqual({});
  return { client, server, sent, recording: [...hs.wire, ...app.wire] };
}

describe('unwrapRecordedRsaKey', () => {
  it.each(CHANNEL_CIPHERS.flatMap((c) => (['none', 'sequence', 'window'] as const).map((r) => [c, r] as const)))('rsa / %s / %s: the server key recovers the session keys and opens every recorded frame', (cipher, replay) => {
    const { client, sent, recording } = recordSession('rsa', cipher, replay);
    const session = unwrapRecordedRsaKey(recording.map((e) => e.frame), testPki().server.keyPem);
    expect(session.keys).toEqual(client.exportSessionKeys());
    const opened = recording.filter((e) => e.frame.type === 'sealed').map((e) => ({ from: e.from, frame: openRecordedFrame(session, e.frame, e.from === 'client' ? 'client_to_server' : 'server_to_client') }));
    expect(opened.filter((o) => o.from === 'client').map((o) => o.frame)).toEqual(sent.client);
    expect(opened.filter((o) => o.from === 'server').map((o) => o.frame)).toEqual(sent.server);
  });

  it('another key unwraps nothing', () => {
    const { recording } = recordSession('rsa', 'aes-256-gcm', 'sequence');
    expect(channelCodeOf(catchErr(() => unwrapRecordedRsaKey(recording.map((e) => e.frame), testPki().attacker.keyPem)))).toBe('nothing_to_unwrap');
  });

  it.each(['ecdhe', 'ecdhe-signed'] as const)('%s: there is nothing to unwrap, even with the server key', (kx) => {
    const { recording } = recordSession(kx, 'aes-256-gcm', 'sequence');
    const err = catchErr(() => unwrapRecordedRsaKey(recording.map((e) => e.frame), testPki().server.keyPem));
    expect(channelCodeOf(err)).toBe('nothing_to_unwrap');
    expect(recording.some((e) => e.frame.type === 'ch_key')).toBe(false);
  });

  it('opening in the wrong direction fails (per-direction keys)', () => {
    const { recording } = recordSession('rsa', 'aes-128-gcm', 'none');
    const session = unwrapRecordedRsaKey(recording.map((e) => e.frame), testPki().server.keyPem);
    const fromClient = recording.find((e) => e.frame.type === 'sealed' && e.from === 'client')!.frame;
    expect(channelCodeOf(catchErr(() => openRecordedFrame(session, fromClient, 'server_to_client')))).toBe('bad_record_mac');
  });
});

function catchErr(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
