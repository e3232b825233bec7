/**
 * The one list of weak settings (core/weaknesses.ts): every weak channel cipher of the cipher table
 * is in it with the table's own sentence, the channel's negotiated warnings come from it in order,
 * and no caller assembles warnings itself.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNEL_CIPHER_SPECS, WEAK_CHANNEL_CIPHERS } from '../core/channel/ciphers.ts';
import { channelWarnings, CHANNEL_SETTING_WEAKNESSES } from '../core/channel/policy.ts';
import { listPresets, loadProfile } from '../core/profile.ts';
import { tlsWarnings } from '../core/tls/node-options.ts';
import { adviceFor, profileWarnings, WEAK_SETTINGS, warningsFor, weaknessesOf } from '../core/weaknesses.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('the weak-settings list', () => {
  it('has unique ids, and each entry is detectable in a profile or a negotiated channel', () => {
    expect(new Set(WEAK_SETTINGS.map((w) => w.id)).size).toBe(WEAK_SETTINGS.length);
    for (const w of WEAK_SETTINGS) expect(!!w.inProfile || !!w.inChannel, w.id).toBe(true);
  });

  it('holds every weak channel cipher with the sentence of the cipher table', () => {
    expect(WEAK_CHANNEL_CIPHERS.length).toBeGreaterThan(0);
    for (const c of WEAK_CHANNEL_CIPHERS) {
      const entries = WEAK_SETTINGS.filter((w) => w.inChannel?.({ keyExchange: 'ecdhe-signed', cipher: c, transcriptMac: true, replayProtection: 'sequence' }));
      expect(entries.map((w) => w.weakness), c).toEqual([CHANNEL_CIPHER_SPECS[c].weakness]);
    }
  });

  it('gives a channel its warnings most fundamental first, and only "off" when it is off', () => {
    expect(channelWarnings({ keyExchange: 'none', cipher: 'none', transcriptMac: false, replayProtection: 'none' })).toEqual([CHANNEL_SETTING_WEAKNESSES.keyExchangeNone]);
    const weak = WEAK_CHANNEL_CIPHERS[0]!;
    expect(channelWarnings({ keyExchange: 'ecdhe', cipher: weak, transcriptMac: false, replayProtection: 'none' })).toEqual([
      CHANNEL_SETTING_WEAKNESSES.keyExchangeEcdhe,
      CHANNEL_CIPHER_SPECS[weak].weakness,
      CHANNEL_SETTING_WEAKNESSES.noTranscriptMac,
      CHANNEL_SETTING_WEAKNESSES.noReplayProtection,
    ]);
    expect(channelWarnings({ keyExchange: 'ecdhe-signed', cipher: 'aes-256-gcm', transcriptMac: true, replayProtection: 'sequence' })).toEqual([]);
  });

  it('splits each preset’s weak settings into warnings and advice, nothing lost', () => {
    for (const name of listPresets()) {
      const p = loadProfile(name);
      expect(profileWarnings(p).length + adviceFor(p).length, name).toBe(weaknessesOf(p).length);
      expect(warningsFor(p), name).toEqual([...tlsWarnings(p), ...profileWarnings(p)]);
    }
  });

  it('is the only place warnings are assembled: no other module calls tlsWarnings or profileWarnings', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(path.join(ROOT, dir))) {
        const rel = path.join(dir, name);
        // reports/mutation holds Stryker's sandbox copies of the whole tree while a run is going on.
        if (rel.split(path.sep).join('/') === 'reports/mutation') continue;
        if (statSync(path.join(ROOT, rel)).isDirectory()) walk(rel);
        else if (name.endsWith('.ts') && !['core/weaknesses.ts', 'core/tls/node-options.ts'].includes(rel.split(path.sep).join('/'))) {
          if (/\b(tlsWarnings|profileWarnings)\(/.test(readFileSync(path.join(ROOT, rel), 'utf8'))) offenders.push(rel);
        }
      }
    };
    for (const d of ['cli', 'core', 'server', 'client', 'attacks', 'labs', 'reports', 'bench']) walk(d);
    expect(offenders).toEqual([]);
  });
});
