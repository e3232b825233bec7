/**
 * downgrade-suite end to end over loopback, one case per rung of the attacker's position and per
 * outcome: a client that accepts the attacker's certificate gets the weakest suite it offers
 * (static-RSA key exchange) from the attacker's own hop; a verifying client's relayed ClientHello is
 * rewritten and the handshake transcript catches it (TLS 1.2 Finished with and without the extended
 * master secret, TLS 1.3 key schedule); an offer with nothing weaker is relayed untouched; a
 * stripped STARTTLS leaves no TLS at all; plaintext is n/a. Plus the suite ranking, as a table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, profileOf } from './helpers/lab-env.ts';
import { getAttack } from '../attacks/registry.ts';
import { runAttack } from '../attacks/scenario.ts';
import { suiteOffer, weakestSuites } from '../attacks/plugins/downgrade-suite.ts';
import { CIPHER_SUITES, compareSuiteStrength, suiteStrength } from '../core/tls/cipher-suites.ts';
import { peekClientHello } from '../core/tls/peek-client-hello.ts';
import type { PkiMaterial } from '../core/pki.ts';
import type { CellResult } from '../reports/results.ts';
import { captureClientHello } from './helpers/capture-client-hello.ts';

let pki: PkiMaterial;
let cleanup: () => void;
beforeAll(async () => {
  ({ pki, cleanup } = await makeTestPki());
});
afterAll(() => cleanup());

const run = (partial: Record<string, unknown>): Promise<CellResult> => runAttack(getAttack('downgrade-suite'), profileOf({ name: 'suite-ladder', ...partial }), pki);
const detail = (r: CellResult, kind: string) => r.evidence.find((e) => e.kind === kind)?.detail ?? '';
const BOTH = 'ECDHE+AESGCM:AES128-GCM-SHA256';

describe('downgrade-suite from the attacker\'s position', () => {
  it('rung 3, a client that verifies nothing and offers ECDHE and RSA-kx suites: alice negotiates static-RSA key exchange with the attacker', async () => {
    const r = await run({ transport: 'tls', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: BOTH }, client: { verify: 'none' } });
    expect(r.outcome, r.reason).toBe('succeeded');
    expect(r.negotiated?.cipher).toBe('TLS_RSA_WITH_AES_128_GCM_SHA256');
    expect(r.negotiated?.protocol).toBe('TLSv1.2');
    expect(r.reason).toMatch(/terminated TLS with the self-signed certificate .* → picked the weakest suite alice offers: her session ran on TLSv1\.2 TLS_RSA_WITH_AES_128_GCM_SHA256 \(static-RSA key exchange/);
    // the control: the server's own choice for the same untouched offer is forward secret
    expect(detail(r, 'suite-before')).toMatch(/untouched ClientHello .*: TLS_AES_256_GCM_SHA384 \(forward secret, AEAD/);
    expect(detail(r, 'suites-offered')).toMatch(/TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.*TLS_RSA_WITH_AES_128_GCM_SHA256/);
    expect(detail(r, 'position')).toMatch(/terminated TLS with the self-signed certificate/);
  });

  it('rung 3 with nothing weaker in the offer (TLS 1.3, two 256-bit AEAD suites): blocked "no weaker suite", though the attacker terminated TLS', async () => {
    const r = await run({ transport: 'tls', tls: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphersuites: 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256' }, client: { verify: 'none' } });
    expect(r.outcome, r.reason).toBe('blocked');
    expect(r.summary).toBe('no weaker suite in the offer');
    expect(r.reason).toMatch(/terminated TLS with the self-signed certificate .* → the victim offers no weaker suite: alice's offer \(TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256\) has nothing below TLS_AES_256_GCM_SHA384/);
  });

  it('rung 3 with an offer already weak at its best (static-RSA key exchange only): n/a "nothing to downgrade", as on the relayed path — not "blocked"', async () => {
    const r = await run({ transport: 'tls', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256:AES256-GCM-SHA384' }, client: { verify: 'none' } });
    expect(r.outcome, r.reason).toBe('not-applicable');
    expect(r.summary).toBe('offer already weak');
    expect(r.reason).toMatch(/terminated TLS with the self-signed certificate .* → nothing to downgrade: alice's offer \(TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_256_GCM_SHA384\) is already weak at its best — TLS_RSA_WITH_AES_128_GCM_SHA256 \(static-RSA key exchange, no forward secrecy.*the attacker's hop could only take what she offers \(it got TLS_RSA_WITH_AES_128_GCM_SHA256\); what that suite costs is shown by retro-decrypt and server-scan/);
    expect(detail(r, 'accepted-certificate')).toMatch(/accepted the attacker's self-signed certificate/);
    expect(r.data).toMatchObject({ via: 'tls-termination' });
  });

  it('rung 1, a verified TLS 1.2 profile offering ECDHE and RSA-kx suites, no extended master secret: the rewrite is caught by the Finished check (decrypt_error)', async () => {
    const r = await run({ transport: 'tls', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: BOTH, extendedMasterSecret: false }, client: { verify: 'ca', checkHostname: true } });
    expect(r.outcome, r.reason).toBe('blocked');
    expect(r.summary).toBe('caught: Finished (transcript)');
    expect(r.reason).toMatch(/rewrote alice's cipher offer to TLS_RSA_WITH_AES_128_GCM_SHA256; the server took TLS_RSA_WITH_AES_128_GCM_SHA256 .*Finished messages cover the whole handshake transcript \(RFC 5246 §7\.4\.9\)/);
    // what stopped it, as OpenSSL said it: the server's Finished check failed and it sent decrypt_error
    expect(r.reason).toMatch(/the server's alert fatal decrypt_error/);
    expect(r.reason).toMatch(/ERR_SSL_DIGEST_CHECK_FAILED/);
    expect(detail(r, 'suites-rewritten')).toBe('the attacker forwarded a ClientHello offering only TLS_RSA_WITH_AES_128_GCM_SHA256');
    expect(detail(r, 'suite-before')).toMatch(/TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384/);
  });

  it('rung 1, the same with the extended master secret: the transcript feeds the keys and the Finished record fails to decrypt (bad_record_mac)', async () => {
    const r = await run({ transport: 'tls', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: BOTH }, client: { verify: 'ca', checkHostname: true } });
    expect(r.outcome, r.reason).toBe('blocked');
    expect(r.summary).toBe('caught: Finished (EMS keys)');
    expect(r.reason).toMatch(/extended master secret \(RFC 7627 §4\)/);
    expect(r.reason).toMatch(/bad_record_mac|BAD_RECORD_MAC|CIPHER_OPERATION_FAILED/);
  });

  it('rung 1, TLS 1.2–1.3 offering RSA-kx suites for 1.2: the attacker also takes TLS 1.3 out of supported_versions, and the TLS 1.3 downgrade sentinel is what catches it', async () => {
    const r = await run({ transport: 'tls', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: BOTH }, client: { verify: 'ca', checkHostname: true } });
    expect(r.outcome, r.reason).toBe('blocked');
    expect(r.summary).toBe('caught: downgrade sentinel');
    expect(r.reason).toMatch(/rewrote alice's cipher offer to TLS_RSA_WITH_AES_128_GCM_SHA256 \(and took TLS 1\.3 out of supported_versions\); the server took TLS_RSA_WITH_AES_128_GCM_SHA256 .*downgrade sentinel \(RFC 8446 §4\.1\.3\)/);
    expect(r.reason).toMatch(/inappropriate fallback|ILLEGAL_PARAMETER/);
    expect(detail(r, 'suites-rewritten')).toMatch(/with TLS 1\.3 taken out of supported_versions/);
  });

  it('rung 1, a verifying client that falls back: the rewritten handshakes fail, it retries lower versions, and its session ends on a CBC suite where its untouched offer gets AEAD', async () => {
    const r = await run({ transport: 'tls', tls: { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.3', ciphers: 'ECDHE+AESGCM:ECDHE-RSA-AES128-SHA' }, client: { verify: 'ca', checkHostname: true, fallback: true } });
    expect(r.outcome, r.reason).toBe('succeeded');
    expect(r.negotiated?.cipher).toBe('TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA');
    expect(r.reason).toMatch(/made her client fall back \(client\.fallback\)/);
    // The control is the first, untouched offer at the highest version, not the poorer retry's.
    expect(detail(r, 'suite-before')).toMatch(/AEAD/);
    expect(detail(r, 'client-fallback')).toMatch(/retried \d time\(s\)/);
  });

  it('the same client without fallback: the rewritten handshake fails and stays failed (blocked)', async () => {
    const r = await run({ transport: 'tls', tls: { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.3', ciphers: 'ECDHE+AESGCM:ECDHE-RSA-AES128-SHA' }, client: { verify: 'ca', checkHostname: true, fallback: false } });
    expect(r.outcome, r.reason).toBe('blocked');
    expect(r.evidence.some((e) => e.kind === 'client-fallback')).toBe(false);
  });

  it('rung 1, an offer that is static-RSA key exchange only: nothing weaker to force and no defence either — n/a naming the weak suite, not "blocked"', async () => {
    const r = await run({ transport: 'tls', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256:AES256-GCM-SHA384' }, client: { verify: 'ca', checkHostname: true } });
    expect(r.outcome, r.reason).toBe('not-applicable');
    expect(r.reason).toMatch(/already weak at its best — TLS_RSA_WITH_AES_128_GCM_SHA256 \(static-RSA key exchange, no forward secrecy/);
    expect(r.evidence.some((e) => e.kind === 'suites-rewritten')).toBe(false);
  });

  it('rung 1, TLS 1.3 offering AES-256 and AES-128: AES-128 is not weaker (128-bit security is adequate), so nothing is rewritten and it is blocked "no weaker suite"', async () => {
    const r = await run({ transport: 'tls', tls: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphersuites: 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256' }, client: { verify: 'ca', checkHostname: true } });
    expect(r.outcome, r.reason).toBe('blocked');
    expect(r.summary).toBe('no weaker suite in the offer');
    expect(r.evidence.some((e) => e.kind === 'suites-rewritten')).toBe(false);
  });

  it('rung 1, TLS 1.3 only with nothing weaker in the offer: blocked "no weaker suite", naming the offer, nothing rewritten', async () => {
    const r = await run({ transport: 'tls', tls: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphersuites: 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256' }, client: { verify: 'ca', checkHostname: true } });
    expect(r.outcome, r.reason).toBe('blocked');
    expect(r.summary).toBe('no weaker suite in the offer');
    expect(r.reason).toMatch(/no weaker suite in the victim's offer: every suite alice offers \(TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256\)/);
    expect(r.evidence.some((e) => e.kind === 'proxy-note' && /rewrote/.test(e.detail))).toBe(false);
    expect(r.negotiated?.cipher).toBe('TLS_AES_256_GCM_SHA384');
  });

  it('rung 2, opportunistic STARTTLS: no TLS left at all, the canary read in plaintext', async () => {
    const r = await run({ transport: 'starttls', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: BOTH } });
    expect(r.outcome, r.reason).toBe('succeeded');
    expect(r.reason).toMatch(/stripped the STARTTLS offer .* → alice's session ran with no TLS at all/);
    expect(r.negotiated).toBeNull();
    expect(detail(r, 'canary-recovered')).toMatch(/client-wire/);
  });

  it('plaintext: n/a with the reason', async () => {
    const r = await run({ transport: 'plain' });
    expect(r.outcome).toBe('not-applicable');
    expect(r.reason).toMatch(/uses no TLS/);
  });
});

describe('suite strength and the victim\'s offer', () => {
  const byName = (n: string) => [...CIPHER_SUITES.values()].find((s) => s.name === n)!;
  it('ranks no forward secrecy (static RSA) first, then CBC before AEAD; 128- and 256-bit keys alike', () => {
    const order = ['TLS_RSA_WITH_AES_128_CBC_SHA', 'TLS_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'TLS_AES_128_GCM_SHA256'].map(byName);
    for (let i = 0; i + 1 < order.length; i++) expect(compareSuiteStrength(order[i]!, order[i + 1]!), `${order[i]!.name} < ${order[i + 1]!.name}`).toBeLessThan(0);
    for (let i = 0; i + 1 < order.length; i++) expect(compareSuiteStrength(order[i + 1]!, order[i]!), `${order[i + 1]!.name} > ${order[i]!.name}`).toBeGreaterThan(0);
    expect(compareSuiteStrength(byName('TLS_AES_128_GCM_SHA256'), byName('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'))).toBe(0);
    // Forcing AES-128 onto a victim that prefers AES-256 is no break (128-bit security is adequate).
    for (const [a, b] of [['TLS_RSA_WITH_AES_128_CBC_SHA', 'TLS_RSA_WITH_AES_256_CBC_SHA'], ['TLS_RSA_WITH_AES_128_GCM_SHA256', 'TLS_RSA_WITH_AES_256_GCM_SHA384'], ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384'], ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384'], ['TLS_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256']]) {
      expect(compareSuiteStrength(byName(a!), byName(b!)), `${a} = ${b}`).toBe(0);
    }
    expect(compareSuiteStrength(byName('TLS_RSA_WITH_AES_256_CBC_SHA'), byName('TLS_RSA_WITH_AES_128_GCM_SHA256'))).toBeLessThan(0);
    expect(suiteStrength(byName('TLS_RSA_WITH_AES_128_GCM_SHA256'))).toEqual({ forwardSecret: false, aead: true, keyBits: 128 });
    expect(suiteStrength(byName('TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA'))).toEqual({ forwardSecret: true, aead: false, keyBits: 256 });
  });
  it('reads a real node ClientHello: TLS 1.2 suites only count when a TLS 1.2 version is offered; the weakest ties are kept in the victim\'s order', async () => {
    const both = suiteOffer(peekClientHello(await captureClientHello({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: `TLS_AES_256_GCM_SHA384:${BOTH}:AES128-SHA` })).hello!);
    expect(both.tls13 && both.legacy).toBe(true);
    expect(weakestSuites(both.suites).map((s) => s.name)).toEqual(['TLS_RSA_WITH_AES_128_CBC_SHA']);
    const only13 = suiteOffer(peekClientHello(await captureClientHello({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: `TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:${BOTH}` })).hello!);
    expect(only13.legacy).toBe(false);
    expect(only13.suites.map((s) => s.name)).toEqual(['TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256']);
    expect(weakestSuites(only13.suites).map((s) => s.name)).toEqual(['TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256']);
  });
});
