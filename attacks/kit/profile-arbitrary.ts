/**
 * Random valid profiles covering every transport × verify mode × channel cipher class, for the
 * consistency property (test/consistency.test.ts, bench/consistency-sample.ts). fast-check
 * arbitraries; every value it makes passes core/profile.ts validation.
 */
import fc from 'fast-check';
import { validateProfile, type Profile } from '../../core/profile.ts';

/** A random valid profile named `gen-<n>`. */
export const profileArbitrary: fc.Arbitrary<Profile> = fc
  .record({
    transport: fc.constantFrom('plain', 'tls', 'starttls', 'starttls-required'),
    verify: fc.constantFrom('none', 'ca', 'ca-nohost', 'pin'),
    keyExchange: fc.constantFrom('none', 'rsa', 'ecdhe', 'ecdhe-signed'),
    ciphers: fc.subarray(['aes-256-gcm', 'chacha20-poly1305', 'aes-128-cbc-hmac-sha256', 'aes-128-cbc', 'null'] as const, { minLength: 1 }),
    transcriptMac: fc.boolean(),
    replayProtection: fc.constantFrom('none', 'sequence', 'window'),
    method: fc.constantFrom('password', 'challenge'),
    n: fc.integer({ min: 0, max: 1e6 }),
  })
  .map((g) => {
    const raw: Record<string, unknown> = { name: `gen-${g.n}`, transport: g.transport, auth: { storage: 'sha256', method: g.method } };
    const certs = g.transport !== 'plain' || g.keyExchange !== 'none';
    if (certs) raw.client = g.verify === 'none' ? { verify: 'none' } : g.verify === 'pin' ? { verify: 'pin', pin: 'server', checkHostname: true } : { verify: 'ca', checkHostname: g.verify === 'ca' };
    if (g.keyExchange !== 'none') raw.channel = { keyExchange: g.keyExchange, ciphers: g.ciphers, transcriptMac: g.transcriptMac, replayProtection: g.replayProtection };
    return validateProfile(raw, 'generated profile');
  });
