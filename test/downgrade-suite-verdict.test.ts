/**
 * The downgrade-suite verdict (attacks/kit/downgrade-suite-verdict.ts) from crafted observations:
 * succeeded only on a session observed on a weaker suite than the server's own choice for the
 * untouched offer (with the canary through on the relayed path); n/a when the offer is already
 * weak at its best, on both paths; blocked naming the offer or the rule of TLS that caught the
 * rewrite; no verdict otherwise. The attack runs end to end in test/downgrade-suite.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { alreadyWeakAtBest, CATCH_SUMMARY, caughtBy, offerText, rewriteStopper, rewriteVerdict, strongestSuite, suiteNamed, suiteNames, terminationVerdict, type RewriteRun, type TerminationRun } from '../attacks/kit/downgrade-suite-verdict.ts';
import type { SuiteOffer } from '../attacks/kit/suite-offer.ts';
import { CIPHER_SUITES, describeSuite, type CipherSuiteInfo } from '../core/tls/cipher-suites.ts';
import type { ServerHello } from '../core/tls/server-hello.ts';
import type { Evidence } from '../attacks/types.ts';

const S = (name: string): Readonly<CipherSuiteInfo> => {
  const s = [...CIPHER_SUITES.values()].find((x) => x.name === name);
  if (!s) throw new Error(`no suite ${name}`);
  return s;
};
const RSA128 = S('TLS_RSA_WITH_AES_128_GCM_SHA256');
const RSA256 = S('TLS_RSA_WITH_AES_256_GCM_SHA384');
const RSACBC = S('TLS_RSA_WITH_AES_128_CBC_SHA');
const ECBC = S('TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA');
const EGCM = S('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
const EGCM256 = S('TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384');
const T13 = S('TLS_AES_256_GCM_SHA384');
const T13B = S('TLS_CHACHA20_POLY1305_SHA256');

const offer = (suites: Array<Readonly<CipherSuiteInfo>>, unranked: string[] = []): SuiteOffer => ({ suites, unranked, tls13: suites.some((s) => s.keyExchange === 'TLS13'), legacy: true });
const ctx = (): Evidence[] => [{ kind: 'position', detail: 'p' }];
const neg = (cipher: string, protocol = 'TLSv1.2') => ({ protocol, cipher, group: null });
const CHAIN = 'terminated TLS with the self-signed certificate → ';
const SENTINEL = Buffer.from('444f574e47524401', 'hex');

function sh(o: Partial<ServerHello> = {}): ServerHello {
  return { legacyVersion: 0x0303, random: Buffer.alloc(32, 1), sessionId: Buffer.alloc(0), cipherSuite: { id: RSA128.id, name: RSA128.name }, compressionMethod: 0, extensions: [], selectedVersion: 0x0303, extendedMasterSecret: false, encryptThenMac: false, preSharedKey: false, sessionTicket: false, helloRetryRequest: false, ...o };
}

describe('alreadyWeakAtBest: the one rule for "nothing to downgrade"', () => {
  it('static-RSA key exchange only: the best (first of equals) is returned', () => {
    expect(alreadyWeakAtBest([RSA128, RSA256])).toBe(RSA128);
    expect(alreadyWeakAtBest([RSA256, RSA128])).toBe(RSA256);
  });
  it('CBC only, forward secret: weak at its best', () => {
    expect(alreadyWeakAtBest([ECBC])).toBe(ECBC);
  });
  it('something weaker below a weak best: there is something to downgrade', () => {
    expect(alreadyWeakAtBest([ECBC, RSACBC])).toBeNull();
    expect(alreadyWeakAtBest([RSA128, RSACBC])).toBeNull();
  });
  it('a forward-secret AEAD best: never "already weak", whatever sits below it', () => {
    expect(alreadyWeakAtBest([EGCM])).toBeNull();
    expect(alreadyWeakAtBest([T13, T13B])).toBeNull();
    expect(alreadyWeakAtBest([EGCM, RSA128])).toBeNull();
  });
  it('an empty offer: null', () => {
    expect(alreadyWeakAtBest([])).toBeNull();
  });
});

describe('small readers', () => {
  it('strongestSuite: the strongest, the first of equals', () => {
    expect(strongestSuite([RSA128, EGCM, ECBC])).toBe(EGCM);
    expect(strongestSuite([EGCM, EGCM256])).toBe(EGCM);
    expect(strongestSuite([RSACBC, RSA128])).toBe(RSA128);
  });
  it('suiteNamed: ranked suites by name, else null', () => {
    expect(suiteNamed('TLS_RSA_WITH_AES_128_GCM_SHA256')).toBe(RSA128);
    expect(suiteNamed('NOT_A_SUITE')).toBeNull();
    expect(suiteNamed(null)).toBeNull();
    expect(suiteNamed(undefined)).toBeNull();
  });
  it('offerText and suiteNames', () => {
    expect(suiteNames([RSA128, EGCM])).toBe('TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    expect(offerText(offer([RSA128]))).toBe('TLS_RSA_WITH_AES_128_GCM_SHA256');
    expect(offerText(offer([RSA128], ['X_ONE', 'X_TWO']))).toBe('TLS_RSA_WITH_AES_128_GCM_SHA256 (not ranked: X_ONE, X_TWO)');
  });
});

function term(o: Partial<TerminationRun> = {}): TerminationRun {
  return {
    chain: CHAIN,
    offer: offer([EGCM, RSA128]),
    control: { suite: EGCM, detail: 'control: ECDHE' },
    negotiated: neg(RSA128.name),
    error: null,
    cert: 'self-signed',
    acceptedStep: 'terminated TLS with the self-signed certificate',
    context: ctx(),
    ...o,
  };
}

describe('terminationVerdict', () => {
  it('alice on a weaker suite than the control: succeeded, with every observation in the evidence', () => {
    expect(terminationVerdict(term())).toEqual({
      outcome: 'succeeded',
      reason: `${CHAIN}picked the weakest suite alice offers: her session ran on TLSv1.2 ${describeSuite(RSA128)} where the same offer gets ${describeSuite(EGCM)} from the server`,
      summary: 'forced RSA kx: TLS terminated',
      impact: ['integrity'],
      evidence: [
        { kind: 'suites-offered', detail: `alice's ClientHello offers ${EGCM.name}, ${RSA128.name}` },
        { kind: 'suite-before', detail: 'control: ECDHE' },
        { kind: 'suite-after', detail: `alice's client negotiated TLSv1.2 ${RSA128.name} — ${describeSuite(RSA128)} with the attacker` },
        { kind: 'accepted-certificate', detail: "alice's client accepted the attacker's self-signed certificate (terminated TLS with the self-signed certificate)" },
        ...ctx(),
      ],
      negotiated: neg(RSA128.name),
      data: { via: 'tls-termination', cert: 'self-signed', offered: [EGCM.name, RSA128.name], before: EGCM.name, after: RSA128.name },
    });
  });

  it('the summary names what was lost: CBC', () => {
    expect(terminationVerdict(term({ offer: offer([EGCM, ECBC]), negotiated: neg(ECBC.name) })).summary).toBe('forced CBC: TLS terminated');
  });

  it('a suite the victim negotiated no weaker than the control: not a success; blocked "no weaker suite" for a strong offer', () => {
    const v = terminationVerdict(term({ offer: offer([T13, T13B]), control: { suite: T13, detail: 'c' }, negotiated: neg(T13B.name, 'TLSv1.3') }));
    expect(v).toMatchObject({
      outcome: 'blocked',
      reason: `${CHAIN}the victim offers no weaker suite: alice's offer (${T13.name}, ${T13B.name}) has nothing below ${describeSuite(T13)}, the server's own choice — the attacker's hop got ${T13B.name}`,
      summary: 'no weaker suite in the offer',
      impact: [],
    });
    expect(v.data).toMatchObject({ via: 'tls-termination' });
  });

  it('an offer already weak at its best: n/a "nothing to downgrade", not "blocked" (the case the relayed path already had)', () => {
    const v = terminationVerdict(term({ offer: offer([RSA128, RSA256], ['X']), control: { suite: RSA256, detail: 'c' }, negotiated: neg(RSA128.name) }));
    expect(v).toEqual({
      outcome: 'not-applicable',
      reason: `${CHAIN}nothing to downgrade: alice's offer (${RSA128.name}, ${RSA256.name} (not ranked: X)) is already weak at its best — ${describeSuite(RSA128)} — so the attacker's hop could only take what she offers (it got ${RSA128.name}); what that suite costs is shown by retro-decrypt and server-scan (no forward secrecy)`,
      summary: 'offer already weak',
      impact: [],
      evidence: terminationVerdict(term({ offer: offer([RSA128, RSA256], ['X']), control: { suite: RSA256, detail: 'c' }, negotiated: neg(RSA128.name) })).evidence,
      negotiated: neg(RSA128.name),
      data: { via: 'tls-termination', cert: 'self-signed', offered: [RSA128.name, RSA256.name], before: RSA256.name, after: RSA128.name },
    });
    expect(v.evidence[3]!.kind).toBe('accepted-certificate');
  });

  it('CBC only: n/a naming server-scan; with nothing negotiated the hop clause says so', () => {
    const v = terminationVerdict(term({ offer: offer([ECBC]), control: { suite: null, detail: 'no ServerHello' }, negotiated: null }));
    expect(v.outcome).toBe('not-applicable');
    expect(v.reason).toBe(`${CHAIN}nothing to downgrade: alice's offer (${ECBC.name}) is already weak at its best — ${describeSuite(ECBC)} — so the attacker's hop could only take what she offers; what that suite costs is shown by server-scan (CBC, MAC-then-encrypt)`);
    expect(v.negotiated).toBeNull();
  });

  it('a weak best with a weaker suite below it and no downgrade observed: not n/a', () => {
    const v = terminationVerdict(term({ offer: offer([ECBC, RSACBC]), control: { suite: ECBC, detail: 'c' }, negotiated: neg(ECBC.name) }));
    expect(v.outcome).toBe('blocked');
  });

  it('no control measured: no verdict, however weak the suite alice got', () => {
    const v = terminationVerdict(term({ control: { suite: null, detail: 'the server sent no ServerHello' } }));
    expect(v).toMatchObject({ outcome: 'error', reason: `no verdict: alice negotiated ${RSA128.name}; the server sent no ServerHello`, summary: 'inconclusive', impact: [] });
  });

  it('alice negotiated nothing: no verdict naming her error, or none', () => {
    const v = terminationVerdict(term({ negotiated: null, error: { code: 'ECONNRESET', message: 'reset' } }));
    expect(v.reason).toBe('no verdict: alice negotiated no TLS (ECONNRESET: reset); control: ECDHE');
    expect(v.negotiated).toBeNull();
    expect(v.evidence[2]).toEqual({ kind: 'suite-after', detail: 'alice negotiated no TLS' });
    expect(terminationVerdict(term({ negotiated: null })).reason).toBe('no verdict: alice negotiated no TLS; control: ECDHE');
  });

  it('a cipher secchat does not rank: no success, no verdict', () => {
    const v = terminationVerdict(term({ negotiated: neg('SOME_UNKNOWN_SUITE') }));
    expect(v.outcome).toBe('error');
    expect(v.evidence[2]!.detail).toBe("alice's client negotiated TLSv1.2 SOME_UNKNOWN_SUITE with the attacker");
  });

  it('no ClientHello seen (so no control): no verdict, and the evidence says so', () => {
    const v = terminationVerdict(term({ offer: null, control: { suite: null, detail: 'alice sent no ClientHello through the attacker' } }));
    expect(v.outcome).toBe('error');
    expect(v.evidence[0]).toEqual({ kind: 'suites-offered', detail: 'no ClientHello seen' });
    expect(v.data).toMatchObject({ offered: [], before: null, after: RSA128.name });
    // with a control but no offer read, a session no weaker than the control is no verdict either
    expect(terminationVerdict(term({ offer: null, negotiated: neg(EGCM.name) })).outcome).toBe('error');
    expect(terminationVerdict(term({ offer: null, control: { suite: null, detail: 'x' }, negotiated: null })).data).toMatchObject({ before: null, after: null });
  });
});

function rw(o: Partial<RewriteRun> = {}): RewriteRun {
  return {
    chain: '',
    offer: offer([EGCM, RSA128]),
    kept: [RSA128],
    strippedTls13: false,
    control: { suite: EGCM, detail: 'control: ECDHE' },
    negotiated: null,
    error: null,
    fallbackAttempts: [],
    canaryThrough: false,
    flight: { serverHello: null, alerts: [] },
    clientAlerts: [],
    refusals: [],
    context: ctx(),
    ...o,
  };
}

describe('rewriteVerdict', () => {
  it('no ClientHello crossed the path: no verdict', () => {
    expect(rewriteVerdict(rw({ offer: null, negotiated: neg('X') }))).toEqual({ outcome: 'error', reason: "no verdict: no ClientHello crossed the attacker's path", summary: 'no ClientHello seen', impact: [], evidence: ctx(), negotiated: neg('X') });
  });

  it('nothing rewritten, an offer already weak at its best: n/a, naming the weak suite', () => {
    expect(rewriteVerdict(rw({ offer: offer([RSA128, RSA256]), kept: [], negotiated: neg(RSA128.name) }))).toEqual({
      outcome: 'not-applicable',
      reason: `nothing to downgrade: alice's offer (${RSA128.name}, ${RSA256.name}) is already weak at its best — ${describeSuite(RSA128)} — so the attacker relayed it untouched; what that suite costs is shown by retro-decrypt and server-scan (no forward secrecy)`,
      summary: 'offer already weak',
      impact: [],
      evidence: [{ kind: 'suites-offered', detail: `alice's ClientHello offers ${RSA128.name}, ${RSA256.name}` }, ...ctx()],
      negotiated: neg(RSA128.name),
      data: { via: 'rewrite', offered: [RSA128.name, RSA256.name], rewritten: false },
    });
  });

  it('nothing rewritten, a strong offer: blocked "no weaker suite"', () => {
    expect(rewriteVerdict(rw({ chain: 'x → ', offer: offer([T13, T13B]), kept: [], negotiated: neg(T13.name, 'TLSv1.3') }))).toEqual({
      outcome: 'blocked',
      reason: `x → no weaker suite in the victim's offer: every suite alice offers (${T13.name}, ${T13B.name}) is as strong as her best, so stripping the offer could force nothing weaker — the attacker relayed it untouched`,
      summary: 'no weaker suite in the offer',
      impact: [],
      evidence: [{ kind: 'suites-offered', detail: `alice's ClientHello offers ${T13.name}, ${T13B.name}` }, ...ctx()],
      negotiated: neg(T13.name, 'TLSv1.3'),
      data: { via: 'rewrite', offered: [T13.name, T13B.name], rewritten: false },
    });
  });

  it('a weaker session and the canary through: succeeded, "nothing caught it"', () => {
    const v = rewriteVerdict(rw({ negotiated: neg(RSA128.name), canaryThrough: true, flight: { serverHello: sh(), alerts: [] } }));
    expect(v).toMatchObject({
      outcome: 'succeeded',
      reason: `rewrote alice's cipher offer to ${RSA128.name} and nothing caught it: her session completed on TLSv1.2 ${describeSuite(RSA128)} (untouched: ${describeSuite(EGCM)}) and the canary went through — the Finished check did not cover the rewritten ClientHello`,
      summary: 'forced RSA_WITH_AES_128_GCM_SHA256',
      impact: ['integrity'],
      negotiated: neg(RSA128.name),
      data: { via: 'rewrite', offered: [EGCM.name, RSA128.name], kept: [RSA128.name], before: EGCM.name, serverChose: RSA128.name, after: RSA128.name },
    });
    expect(v.evidence).toEqual([
      { kind: 'suites-offered', detail: `alice's ClientHello offers ${EGCM.name}, ${RSA128.name}` },
      { kind: 'suite-before', detail: 'control: ECDHE' },
      { kind: 'suites-rewritten', detail: `the attacker forwarded a ClientHello offering only ${RSA128.name}` },
      { kind: 'suite-after', detail: `the server answered the rewritten offer with ${RSA128.name} — ${describeSuite(RSA128)}` },
      ...ctx(),
    ]);
  });

  it('a weaker session the canary did not cross: not a success', () => {
    const v = rewriteVerdict(rw({ negotiated: neg(RSA128.name), canaryThrough: false }));
    expect(v.outcome).toBe('error');
    expect(v.reason).toBe(`no verdict: the attacker rewrote the offer to ${RSA128.name}, and alice negotiated TLSv1.2 ${RSA128.name} (untouched: ${EGCM.name}) — neither a weaker session with the canary through nor a named refusal`);
    expect(v.summary).toBe('inconclusive');
    expect(v.impact).toEqual([]);
  });

  it('a session no weaker than the control, the canary through: not a success', () => {
    expect(rewriteVerdict(rw({ negotiated: neg(EGCM256.name), canaryThrough: true })).outcome).toBe('error');
    expect(rewriteVerdict(rw({ negotiated: neg(RSA128.name), canaryThrough: true, control: { suite: null, detail: 'none' } })).outcome).toBe('error');
  });

  it('a summary cuts a long suite name to 30 characters', () => {
    const long = S('TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384');
    const v = rewriteVerdict(rw({ kept: [long], offer: offer([EGCM, long]), negotiated: neg(long.name), canaryThrough: true }));
    expect(v.summary).toBe('forced ECDHE_ECDSA_WITH_AES_256_CBC_S');
  });

  it('several alerts from each end: all named, in order', () => {
    const v = rewriteVerdict(rw({ flight: { serverHello: null, alerts: ['warning close_notify', 'fatal handshake_failure'] }, clientAlerts: ['fatal a', 'fatal b'] }));
    expect(v.evidence.filter((e) => e.kind === 'tls-alert' || e.kind === 'suite-after').map((e) => e.detail)).toEqual([
      'the server sent no ServerHello to the rewritten offer (alert: warning close_notify, fatal handshake_failure)',
      'the server sent alice warning close_notify, fatal handshake_failure',
      "alice's client sent fatal a, fatal b",
    ]);
  });

  it('after fallback retries: succeeded, the retries first in the evidence', () => {
    const fb = [{ maxVersion: 'TLSv1.3', error: 'x'.repeat(300) }, { maxVersion: 'TLSv1.2', error: 'decrypt error' }];
    const v = rewriteVerdict(rw({ kept: [ECBC], offer: offer([EGCM, ECBC]), negotiated: neg(ECBC.name, 'TLSv1.1'), canaryThrough: true, fallbackAttempts: fb }));
    expect(v.outcome).toBe('succeeded');
    expect(v.reason).toBe(`rewrote alice's cipher offer to ${ECBC.name}; the handshakes it broke made her client fall back (client.fallback) until TLSv1.1, whose offer has nothing better, and her session ran on ${describeSuite(ECBC)} instead of ${describeSuite(EGCM)} for her untouched offer — the canary went through on the weaker suite`);
    expect(v.summary).toBe('fell back to ECDHE_RSA_WITH_AES_128_CBC'); // the name cut to 26 characters
    expect(v.evidence[0]).toEqual({ kind: 'client-fallback', detail: `alice's client retried 2 time(s) after failed handshakes (${`max TLSv1.3: ${'x'.repeat(300)}`.slice(0, 160)}; max TLSv1.2: decrypt error)` });
    expect(v.data).toMatchObject({ fallbackAttempts: 2 });
    expect(v.impact).toEqual(['integrity']);
    expect(rewriteVerdict(rw({ kept: [S('TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384')], offer: offer([EGCM]), negotiated: neg('TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384'), canaryThrough: true, fallbackAttempts: fb })).summary).toBe('fell back to ECDHE_ECDSA_WITH_AES_256_C');
  });

  it('fallback retries without a weaker session: not a success', () => {
    expect(rewriteVerdict(rw({ negotiated: neg(EGCM.name), canaryThrough: true, fallbackAttempts: [{ maxVersion: 'TLSv1.3', error: 'e' }] })).outcome).toBe('error');
  });

  it('the Finished check caught it: blocked, naming the rule and every observation once', () => {
    const v = rewriteVerdict(
      rw({
        strippedTls13: true,
        flight: { serverHello: sh(), alerts: ['fatal decrypt_error'] },
        clientAlerts: ['fatal handshake_failure'],
        refusals: [{ event: 'tls_error', code: 'ERR_SSL_DIGEST_CHECK_FAILED', message: 'digest check failed' }, { event: 'tls_error', code: 'ERR_SSL_DIGEST_CHECK_FAILED', message: 'digest check failed' }],
        error: { code: 'ECONNRESET', message: 'C0:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert decrypt error' },
      }),
    );
    expect(v).toMatchObject({
      outcome: 'blocked',
      reason: `rewrote alice's cipher offer to ${RSA128.name} (and took TLS 1.3 out of supported_versions); the server took ${describeSuite(RSA128)} from the rewritten offer, but the Finished messages cover the whole handshake transcript (RFC 5246 §7.4.9), which differs from what alice sent: the Finished check failed (the server's alert fatal decrypt_error; alice's client's alert fatal handshake_failure; the server's ERR_SSL_DIGEST_CHECK_FAILED; alice's client's ECONNRESET: ssl3_read_bytes:sslv3 alert decrypt error)`,
      summary: 'caught: Finished (transcript)',
      impact: [],
      negotiated: null,
    });
    expect(v.data).toMatchObject({ caughtBy: 'finished', serverChose: RSA128.name });
    expect(v.evidence.filter((e) => e.kind === 'tls-alert')).toEqual([
      { kind: 'tls-alert', detail: 'the server sent alice fatal decrypt_error' },
      { kind: 'tls-alert', detail: "alice's client sent fatal handshake_failure" },
    ]);
    expect(v.evidence.filter((e) => e.kind === 'server-refusal')).toEqual([{ kind: 'server-refusal', detail: 'tls_error ERR_SSL_DIGEST_CHECK_FAILED: digest check failed' }]);
    expect(v.evidence.find((e) => e.kind === 'suites-rewritten')!.detail).toBe(`the attacker forwarded a ClientHello offering only ${RSA128.name}, with TLS 1.3 taken out of supported_versions`);
  });

  it('a refusal with no code or message is named by its event; a long one is cut to 300 characters', () => {
    const v = rewriteVerdict(rw({ refusals: [{ event: 'socket_error' }, { event: 'tls_error', code: 'E', message: 'm'.repeat(400) }] }));
    expect(v.outcome).toBe('blocked');
    expect(v.summary).toBe('refused: no shared cipher');
    expect(v.evidence.filter((e) => e.kind === 'server-refusal').map((e) => e.detail)).toEqual(['socket_error : ', `tls_error E: ${'m'.repeat(400)}`.slice(0, 300)]);
    expect(v.reason).toMatch(/\(the server's socket_error; the server's E\)$/);
  });

  it('the server refused before a ServerHello: "no shared cipher", and the evidence says no ServerHello came', () => {
    const v = rewriteVerdict(rw({ flight: { serverHello: null, alerts: ['fatal handshake_failure'] } }));
    expect(v.reason).toBe(`rewrote alice's cipher offer to ${RSA128.name}; the server refused the rewritten offer before any ServerHello: none of the kept suites is one it accepts (the server's alert fatal handshake_failure)`);
    expect(v.evidence.find((e) => e.kind === 'suite-after')!.detail).toBe('the server sent no ServerHello to the rewritten offer (alert: fatal handshake_failure)');
    expect(rewriteVerdict(rw({ error: { code: 'E', message: 'x' } })).evidence.find((e) => e.kind === 'suite-after')!.detail).toBe('the server sent no ServerHello to the rewritten offer');
  });

  it('a ServerHello for a suite secchat does not rank: named by its wire name', () => {
    const v = rewriteVerdict(rw({ flight: { serverHello: sh({ cipherSuite: { id: 0xfefe, name: 'UNKNOWN_FEFE' } }), alerts: ['fatal decrypt_error'] } }));
    expect(v.evidence.find((e) => e.kind === 'suite-after')!.detail).toBe('the server answered the rewritten offer with UNKNOWN_FEFE');
    expect(v.reason).toMatch(/the server took UNKNOWN_FEFE from the rewritten offer, but the Finished messages/);
  });

  it('alice negotiated, nothing weaker: no stopper is looked for, no verdict', () => {
    const v = rewriteVerdict(rw({ negotiated: neg(EGCM.name), flight: { serverHello: sh(), alerts: ['fatal decrypt_error'] } }));
    expect(v.outcome).toBe('error');
    expect(v.negotiated).toEqual(neg(EGCM.name));
  });

  it('alice stopped, nothing observed: no verdict naming her error or its absence', () => {
    expect(rewriteVerdict(rw({ control: { suite: null, detail: 'd' } })).reason).toBe(`no verdict: the attacker rewrote the offer to ${RSA128.name}, and alice stopped with no error — neither a weaker session with the canary through nor a named refusal`);
  });
});

describe('caughtBy: which rule of TLS caught the rewrite', () => {
  it('no ServerHello: no shared cipher; TLS 1.3 selected: the key schedule', () => {
    expect(caughtBy(null, 'anything')).toBe('no-shared-cipher');
    expect(caughtBy(sh({ selectedVersion: 0x0304 }), 'decrypt_error')).toBe('tls13-key-schedule');
  });
  it('the downgrade sentinel only with the sentinel in the random and the client\'s refusal', () => {
    const random = Buffer.concat([Buffer.alloc(24, 7), SENTINEL]);
    expect(caughtBy(sh({ random }), 'SSL routines::inappropriate fallback')).toBe('downgrade-sentinel');
    expect(caughtBy(sh({ random }), 'alert illegal_parameter')).toBe('downgrade-sentinel');
    expect(caughtBy(sh({ random }), 'decrypt_error')).toBe('finished');
    expect(caughtBy(sh(), 'illegal_parameter')).toBe('handshake');
    // the sentinel must be the last 8 bytes
    expect(caughtBy(sh({ random: Buffer.concat([Buffer.alloc(23, 7), SENTINEL, Buffer.alloc(1)]) }), 'illegal_parameter')).toBe('handshake');
  });
  it('the Finished check: decrypt_error or a digest check; a MAC failure with and without EMS', () => {
    expect(caughtBy(sh(), 'fatal decrypt_error')).toBe('finished');
    expect(caughtBy(sh(), 'ERR_SSL_DIGEST_CHECK_FAILED')).toBe('finished');
    expect(caughtBy(sh(), 'bad_record_mac')).toBe('finished');
    expect(caughtBy(sh({ extendedMasterSecret: true }), 'BAD_RECORD_MAC')).toBe('finished-ems');
    expect(caughtBy(sh({ extendedMasterSecret: true }), 'DECRYPTION_FAILED')).toBe('finished-ems');
    expect(caughtBy(sh({ extendedMasterSecret: true }), 'CIPHER_OPERATION_FAILED')).toBe('finished-ems');
    expect(caughtBy(sh({ extendedMasterSecret: true }), 'ECONNRESET')).toBe('handshake');
  });
});

describe('rewriteStopper: what stopped it, alice\'s own error first', () => {
  it('nothing seen: null', () => {
    expect(rewriteStopper({ serverHello: sh(), alerts: [] }, [], null, [], RSA128)).toBeNull();
  });
  it('alice\'s error names the rule when it can, before the others\' observations', () => {
    const s = rewriteStopper({ serverHello: sh({ extendedMasterSecret: true }), alerts: ['fatal decrypt_error'] }, [], { code: 'ERR_SSL_BAD_RECORD_MAC', message: 'bad record mac' }, [], RSA128);
    expect(s!.caught).toBe('finished-ems');
  });
  it('alice\'s error names none: the others decide, the refusal messages included', () => {
    const s = rewriteStopper({ serverHello: sh(), alerts: [] }, [], { code: 'ECONNRESET', message: 'socket hang up' }, [{ event: 'tls_error', code: 'X', message: 'digest check failed DIGEST_CHECK_FAILED' }], null);
    expect(s!.caught).toBe('finished');
    expect(s!.text).toBe(`the server took ${RSA128.name} from the rewritten offer, but the Finished messages cover the whole handshake transcript (RFC 5246 §7.4.9), which differs from what alice sent: the Finished check failed (the server's X; alice's client's ECONNRESET: socket hang up)`);
  });
  it('the refusals\' messages are read word-separated: "bad" then "record mac" reads as a MAC failure', () => {
    const s = rewriteStopper({ serverHello: sh(), alerts: [] }, [], null, [{ event: 'tls_error', code: 'A', message: 'bad' }, { event: 'tls_error', code: 'B', message: 'record mac' }], RSA128);
    expect(s!.caught).toBe('finished');
  });
  it('an error message that starts with "SSL routines:" keeps only the reason after it', () => {
    const s = rewriteStopper({ serverHello: null, alerts: [] }, [], { code: 'E', message: 'SSL routines:no shared cipher' }, [], null);
    expect(s!.text).toMatch(/\(alice's client's E: no shared cipher\)$/);
  });
  it('an error message cut to 100 characters after "SSL routines:"', () => {
    const s = rewriteStopper({ serverHello: null, alerts: [] }, [], { code: 'E', message: `abc SSL routines:${'z'.repeat(150)}` }, [], null);
    expect(s!.text).toBe(`the server refused the rewritten offer before any ServerHello: none of the kept suites is one it accepts (alice's client's E: ${'z'.repeat(100)})`);
  });
  it('each rule\'s sentence and summary', () => {
    const random = Buffer.concat([Buffer.alloc(24, 7), SENTINEL]);
    const t13 = rewriteStopper({ serverHello: sh({ selectedVersion: 0x0304 }), alerts: ['fatal bad_record_mac'] }, [], null, [], T13)!;
    expect(t13.text).toBe(`the server took ${describeSuite(T13)} from the rewritten offer, but TLS 1.3 feeds the handshake transcript into its key schedule (RFC 8446 §4.4.1, §7.1): the two ends derived different keys and the handshake failed (the server's alert fatal bad_record_mac)`);
    const sentinel = rewriteStopper({ serverHello: sh({ random }), alerts: [] }, ['fatal illegal_parameter'], null, [], RSA128)!;
    expect(sentinel.text).toBe(`the server took ${describeSuite(RSA128)} from the rewritten offer, but the server, able to speak TLS 1.3, marked its random with the downgrade sentinel (RFC 8446 §4.1.3) and alice's client refused the TLS 1.2 session before the Finished check was even reached (alice's client's alert fatal illegal_parameter)`);
    const ems = rewriteStopper({ serverHello: sh({ extendedMasterSecret: true }), alerts: ['fatal bad_record_mac'] }, [], null, [], RSA128)!;
    expect(ems.text).toBe(`the server took ${describeSuite(RSA128)} from the rewritten offer, but with the extended master secret (RFC 7627 §4) the handshake transcript feeds the keys, so the two ends derived different keys and the Finished record failed to decrypt (RFC 5246 §7.4.9) (the server's alert fatal bad_record_mac)`);
    const hs = rewriteStopper({ serverHello: sh(), alerts: ['fatal internal_error'] }, [], null, [], RSA128)!;
    expect(hs.text).toBe(`the server took ${describeSuite(RSA128)} from the rewritten offer, but the handshake failed after the ServerHello (the server's alert fatal internal_error)`);
    expect(CATCH_SUMMARY).toEqual({
      'no-shared-cipher': 'refused: no shared cipher',
      'tls13-key-schedule': 'caught: TLS 1.3 transcript',
      'downgrade-sentinel': 'caught: downgrade sentinel',
      finished: 'caught: Finished (transcript)',
      'finished-ems': 'caught: Finished (EMS keys)',
      handshake: 'handshake failed',
    });
  });
});
