/**
 * The replay verdicts (attacks/kit/replay-verdict.ts) from crafted observations: `replay`
 * succeeds only when bob received the canary again, is blocked only when the server refused the
 * copy on the very connections it was replayed on (naming the most telling refusal), and is
 * inconclusive otherwise; `replay-login` succeeds only when the server took the attacker as alice.
 * The attacks themselves run end to end in test/attacks-channel-replay-downgrade.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { replayLoginVerdict, replayRefusal, replayVerdict, type ReplayLoginRun, type ReplayRun } from '../attacks/kit/replay-verdict.ts';
import type { Position } from '../attacks/kit/position.ts';
import type { NewConnectionResult } from '../attacks/proxy.ts';
import type { ClientObservation, Evidence, Observations } from '../attacks/types.ts';

const CANARY = 'c-42';
const CANARY_MSG = 'the secret is c-42';
const ALICE_UP = '127.0.0.1:40001';
const NEW_UP = '127.0.0.1:40002';
const OTHER = '127.0.0.1:40009';
const negotiated = { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', group: 'X25519' };

function position(o: Partial<Position> = {}): Position {
  return { strippedStarttls: false, tls: null, framesReadable: true, channel: null, weakCipher: null, steps: ['on-path'], probes: [], probeMs: 0, ...o };
}
const terminated = position({ tls: { cert: 'self-signed' }, steps: ['on-path', 'terminated TLS with the self-signed certificate'] });

function client(o: Partial<ClientObservation> = {}): ClientObservation {
  return { connected: true, loggedIn: true, negotiated: null, channel: null, fallbackAttempts: [], localAddress: null, error: null, received: [], ...o };
}
function observations(o: { copies?: number; log?: Array<Record<string, unknown>> } = {}): Observations {
  return {
    canary: CANARY,
    canaryMessage: CANARY_MSG,
    proxy: null,
    clients: { alice: client({ negotiated }), bob: client() },
    server: { log: (o.log ?? []) as Observations['server']['log'], port: 1 },
    bobReceived: CANARY_MSG,
    bobCanaryCopies: o.copies ?? 1,
    aliceReceived: 'reply',
    durationMs: 10,
  };
}
const before = (): Evidence[] => [{ kind: 'position', detail: 'p' }];
const frames = (...fs: Array<Record<string, unknown>>) => Buffer.from(fs.map((f) => JSON.stringify(f) + '\n').join(''));
function newConn(o: Partial<NewConnectionResult> = {}): NewConnectionResult {
  return { peer: NEW_UP, response: Buffer.alloc(0), chunks: 3, settled: true, ...o };
}
function run(o: { copies?: number; how?: string; peer?: string | null; newConnection?: Partial<NewConnectionResult> } = {}): ReplayRun {
  return {
    sameConnection: { how: o.how ?? "sent alice's readable dm twice", peer: o.peer === undefined ? ALICE_UP : o.peer, copies: o.copies ?? 0 },
    newConnection: newConn(o.newConnection),
    timeoutMs: 4000,
  };
}
const channelRefusal = (peer: string, code = 'bad_sequence') => ({ event: 'channel_error', peer, code, message: `refused ${code}` });
const macRefusal = (peer: string) => ({ event: 'tls_error', peer, code: 'ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC', message: 'bad record mac' });

describe('replayRefusal', () => {
  it('names the most telling refusal logged on that connection: channel, then TLS MAC, then TLS handshake, then anything else', () => {
    const sock = { event: 'socket_error', peer: ALICE_UP, code: 'ECONNRESET', message: 'reset' };
    const hs = { event: 'tls_error', peer: ALICE_UP, code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'wrong version number' };
    expect(replayRefusal(observations({ log: [sock, hs, macRefusal(ALICE_UP), channelRefusal(ALICE_UP)] }), ALICE_UP)).toEqual({
      sentence: 'the secure channel refused it (bad_sequence): refused bad_sequence',
      summary: 'refused: bad_sequence',
      codes: ['bad_sequence'],
    });
    expect(replayRefusal(observations({ log: [sock, hs, macRefusal(ALICE_UP)] }), ALICE_UP)).toEqual({
      sentence: 'the TLS record MAC check failed (ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC)',
      summary: 'refused: TLS record MAC',
      codes: ['ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC'],
    });
    expect(replayRefusal(observations({ log: [sock, hs] }), ALICE_UP)).toEqual({
      sentence: 'the TLS handshake failed (ERR_SSL_WRONG_VERSION_NUMBER: wrong version number)',
      summary: 'refused: TLS handshake',
      codes: ['ERR_SSL_WRONG_VERSION_NUMBER'],
    });
    expect(replayRefusal(observations({ log: [sock] }), ALICE_UP)).toEqual({ sentence: 'socket_error ECONNRESET: reset', summary: 'replay not accepted', codes: ['ECONNRESET'] });
  });

  it('a MAC failure logged as a socket error is still summarised as the TLS record MAC', () => {
    const r = replayRefusal(observations({ log: [{ event: 'socket_error', peer: ALICE_UP, code: 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC', message: 'x' }] }), ALICE_UP);
    expect(r?.summary).toBe('refused: TLS record MAC');
  });

  it('a protocol error is no TLS handshake failure', () => {
    expect(replayRefusal(observations({ log: [{ event: 'protocol_error', peer: ALICE_UP, code: 'bad_json', message: 'm' }] }), ALICE_UP)?.summary).toBe('replay not accepted');
  });

  it('cuts a long channel code to 40 characters in the summary', () => {
    expect(replayRefusal(observations({ log: [channelRefusal(ALICE_UP, 'a_very_long_channel_refusal_code_indeed_x')] }), ALICE_UP)?.summary).toBe('refused: a_very_long_channel_refusal_cod');
  });

  it('a refusal on another connection, or a log event that is no refusal, explains nothing', () => {
    expect(replayRefusal(observations({ log: [channelRefusal(OTHER), { event: 'login', peer: ALICE_UP, username: 'alice' }] }), ALICE_UP)).toBeNull();
  });

  it('an unknown connection (null) reads no refusal, not every refusal', () => {
    expect(replayRefusal(observations({ log: [channelRefusal(OTHER), { event: 'channel_error', code: 'bad_sequence', message: 'no peer' }] }), null)).toBeNull();
  });

  it('without a logged refusal: the error frames the server answered, every one in the sentence, the first in the summary', () => {
    const answer = frames({ type: 'welcome', v: 1 }, { type: 'error', code: 'stale_challenge', message: 'challenge already used' }, { type: 'error', code: 'bad_credentials', message: 'wrong' });
    expect(replayRefusal(observations(), NEW_UP, answer)).toEqual({
      sentence: 'the server answered stale_challenge: challenge already used; bad_credentials: wrong',
      summary: 'refused: stale_challenge',
      codes: ['stale_challenge', 'bad_credentials'],
    });
  });

  it('cuts a long answered code to 40 characters', () => {
    expect(replayRefusal(observations(), NEW_UP, frames({ type: 'error', code: 'an_error_code_far_longer_than_any_table_cell', message: 'm' }))?.summary).toBe('refused: an_error_code_far_longer_than_a');
  });

  it('a logged refusal comes before the answered errors', () => {
    const r = replayRefusal(observations({ log: [channelRefusal(NEW_UP, 'transcript_mismatch')] }), NEW_UP, frames({ type: 'error', code: 'bad_json', message: 'm' }));
    expect(r?.sentence).toBe('the secure channel refused it (transcript_mismatch): refused transcript_mismatch');
  });

  it('an answer with no error frame (readable dms, or ciphertext) is no refusal', () => {
    expect(replayRefusal(observations(), NEW_UP, frames({ type: 'dm', from: 'alice', text: CANARY_MSG }))).toBeNull();
    expect(replayRefusal(observations(), NEW_UP, Buffer.from([0x17, 0x03, 0x03, 0x00, 0x20, 1, 2, 3]))).toBeNull();
    expect(replayRefusal(observations(), NEW_UP)).toBeNull();
  });
});

describe('replayVerdict', () => {
  it('the attacker never found alice\'s message: error, nothing replayed', () => {
    expect(replayVerdict(position(), null, observations({ copies: 2 }), before())).toEqual({
      outcome: 'error',
      reason: "no verdict: the attacker never found alice's message to replay (the conversation did not get that far)",
      summary: 'message not seen',
      impact: [],
      evidence: before(),
      negotiated,
    });
  });

  it('bob received the copy sent in alice\'s own connection: succeeded, the new connection\'s refusal still in the evidence', () => {
    const obs = observations({ copies: 2, log: [channelRefusal(NEW_UP, 'transcript_mismatch')] });
    expect(replayVerdict(position(), run({ copies: 1 }), obs, before())).toEqual({
      outcome: 'succeeded',
      reason: "bob received the canary 2 times: the replayed message was accepted in the same connection (sent alice's readable dm twice)",
      summary: 'replay accepted (2 copies)',
      impact: ['integrity'],
      evidence: [
        { kind: 'replay-same-connection', detail: "sent alice's readable dm twice: accepted: bob received the canary again (1 more)" },
        { kind: 'replay-new-connection', detail: `replayed 3 recorded chunks from ${NEW_UP}: refused: the secure channel refused it (transcript_mismatch): refused transcript_mismatch` },
        ...before(),
      ],
      negotiated,
    });
  });

  it('bob received the copy replayed on a new connection only: succeeded there, the same connection\'s refusal named', () => {
    const obs = observations({ copies: 2, log: [channelRefusal(ALICE_UP)] });
    const v = replayVerdict(terminated, run({ copies: 0, how: 're-sent the recorded bytes' }), obs, before());
    expect(v.outcome).toBe('succeeded');
    expect(v.reason).toBe('bob received the canary 2 times: the replayed message was accepted on a new connection');
    expect(v.evidence.slice(0, 2)).toEqual([
      { kind: 'replay-same-connection', detail: 'terminated TLS with the self-signed certificate → re-sent the recorded bytes: refused: the secure channel refused it (bad_sequence): refused bad_sequence' },
      { kind: 'replay-new-connection', detail: `replayed 3 recorded chunks from ${NEW_UP}: accepted: bob received the canary again` },
    ]);
  });

  it('accepted in both: both named, with the chain', () => {
    const v = replayVerdict(terminated, run({ copies: 1 }), observations({ copies: 3 }), before());
    expect(v.reason).toBe("bob received the canary 3 times: the replayed message was accepted in the same connection (terminated TLS with the self-signed certificate → sent alice's readable dm twice) and on a new connection");
    expect(v.summary).toBe('replay accepted (3 copies)');
  });

  it('refused in both connections: blocked, naming both refusals, the summary from the same connection', () => {
    const log = [
      { event: 'socket_error', peer: ALICE_UP, code: 'ECONNRESET', message: 'reset' },
      channelRefusal(ALICE_UP, 'replayed_nonce'),
      channelRefusal(OTHER, 'bad_record_mac'),
      macRefusal(NEW_UP),
    ];
    expect(replayVerdict(terminated, run({ how: 're-sent the sealed frame as recorded' }), observations({ log }), before())).toEqual({
      outcome: 'blocked',
      reason:
        'bob received the canary once: same connection — terminated TLS with the self-signed certificate → re-sent the sealed frame as recorded; the secure channel refused it (replayed_nonce): refused replayed_nonce; new connection — the TLS record MAC check failed (ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC)',
      summary: 'refused: replayed_nonce',
      impact: [],
      evidence: [
        { kind: 'replay-same-connection', detail: 'terminated TLS with the self-signed certificate → re-sent the sealed frame as recorded: refused: the secure channel refused it (replayed_nonce): refused replayed_nonce' },
        { kind: 'replay-new-connection', detail: `replayed 3 recorded chunks from ${NEW_UP}: refused: the TLS record MAC check failed (ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC)` },
        ...before(),
      ],
      negotiated,
    });
  });

  it('the new connection refused by an error frame the server answered counts as refused', () => {
    const v = replayVerdict(position(), run({ newConnection: { response: frames({ type: 'error', code: 'already_logged_in', message: 'one session per user' }) } }), observations({ log: [macRefusal(ALICE_UP)] }), before());
    expect(v.outcome).toBe('blocked');
    expect(v.reason).toMatch(/new connection — the server answered already_logged_in: one session per user$/);
    expect(v.summary).toBe('refused: TLS record MAC');
  });

  it('the same connection neither delivered nor refused: inconclusive, never blocked', () => {
    const v = replayVerdict(position(), run(), observations({ log: [channelRefusal(OTHER), macRefusal(NEW_UP)] }), before());
    expect(v).toEqual({
      outcome: 'error',
      reason: 'inconclusive: within 4000 ms the server neither delivered the replayed canary nor refused it (same connection); no verdict',
      summary: 'inconclusive',
      impact: [],
      evidence: [
        { kind: 'replay-same-connection', detail: "sent alice's readable dm twice: refused: no copy reached bob" },
        { kind: 'replay-new-connection', detail: `replayed 3 recorded chunks from ${NEW_UP}: refused: the TLS record MAC check failed (ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC)` },
        ...before(),
      ],
      negotiated,
    });
  });

  it('the new connection neither delivered nor refused: inconclusive, naming it', () => {
    const v = replayVerdict(position(), { ...run(), timeoutMs: 1234 }, observations({ log: [channelRefusal(ALICE_UP)] }), before());
    expect(v.outcome).toBe('error');
    expect(v.reason).toBe('inconclusive: within 1234 ms the server neither delivered the replayed canary nor refused it (new connection); no verdict');
    expect(v.evidence[1]).toEqual({ kind: 'replay-new-connection', detail: `replayed 3 recorded chunks from ${NEW_UP}: refused: no copy reached bob` });
  });

  it('an unknown upstream for alice\'s connection reads no refusal at all', () => {
    const v = replayVerdict(position(), run({ peer: null }), observations({ log: [{ event: 'channel_error', code: 'bad_sequence', message: 'x' }, macRefusal(NEW_UP)] }), before());
    expect(v.outcome).toBe('error');
  });

  it('looks like success but is not: the canary readable in the server\'s answer to the replay, bob still got it once', () => {
    const answer = frames({ type: 'dm', from: 'alice', to: 'bob', text: CANARY_MSG });
    const v = replayVerdict(position(), run({ newConnection: { response: answer } }), observations({ copies: 1 }), before());
    expect(v.outcome).not.toBe('succeeded');
    expect(v.outcome).toBe('error');
  });

  it('a copy bob received counts once: one copy is the original, not a replay', () => {
    const v = replayVerdict(position(), run({ copies: 0 }), observations({ copies: 1, log: [channelRefusal(ALICE_UP), channelRefusal(NEW_UP)] }), before());
    expect(v.outcome).toBe('blocked');
  });
});

describe('replayLoginVerdict', () => {
  const loginRun = (o: Partial<ReplayLoginRun> = {}): ReplayLoginRun => ({ loginSeen: true, guess: null, recovered: null, replayed: newConn(), timeoutMs: 4000, ...o });
  const login = (peer: string, username = 'alice') => ({ event: 'login', peer, username });

  it('the password read in her login frame logs the attacker in: succeeded, the accepted login and the password first', () => {
    const r = loginRun({ recovered: { password: 'hunter2', how: "read alice's password in her login frame (read on the stream)", login: { ok: true, peer: OTHER } }, replayed: null });
    expect(replayLoginVerdict(terminated, r, observations({ log: [login(ALICE_UP), login(OTHER)] }), before())).toEqual({
      outcome: 'succeeded',
      reason: "terminated TLS with the self-signed certificate → the attacker read alice's password in her login frame (read on the stream), then logged in as alice with it",
      summary: 'logged in as alice (TLS terminated)',
      impact: ['authentication', 'confidentiality'],
      evidence: [
        { kind: 'attacker-login-accepted', detail: `the server logged in alice for the attacker's connection ${OTHER}, using the recovered password` },
        { kind: 'password-recovered', detail: "terminated TLS with the self-signed certificate → read alice's password in her login frame (read on the stream): \"hunter2\"" },
        ...before(),
      ],
      negotiated,
    });
  });

  it('names the user the server logged in for the attacker\'s connection (alice when the log does not say)', () => {
    const r = loginRun({ guess: 'guessed it', recovered: { password: 'pw', how: 'guessed', login: { ok: true, peer: OTHER } } });
    const v = replayLoginVerdict(position(), r, observations({ log: [login(ALICE_UP, 'someone-else'), login(OTHER, 'Alice')] }), before());
    expect(v.evidence[0]!.detail).toBe(`the server logged in Alice for the attacker's connection ${OTHER}, using the recovered password`);
    expect(v.evidence[2]).toEqual({ kind: 'offline-guess', detail: 'guessed it' });
    const v1 = replayLoginVerdict(position(), r, observations({ log: [{ event: 'channel_open', peer: OTHER, username: 'mallory' }, login(OTHER, 'Alice')] }), before());
    expect(v1.evidence[0]!.detail).toBe(`the server logged in Alice for the attacker's connection ${OTHER}, using the recovered password`);
    const v2 = replayLoginVerdict(position(), r, observations({ log: [login(ALICE_UP, 'someone-else')] }), before());
    expect(v2.evidence[0]!.detail).toBe(`the server logged in alice for the attacker's connection ${OTHER}, using the recovered password`);
  });

  it('the summary is cut to 40 characters', () => {
    const r = loginRun({ recovered: { password: 'pw', how: 'x', login: { ok: true, peer: OTHER } } });
    expect(replayLoginVerdict(position({ weakCipher: { cipher: 'aes-128-cbc' } }), r, observations(), before()).summary).toBe('logged in as alice (weak cipher aes-128-');
  });

  it('the replayed login logged in on the replaying connection: succeeded without the password', () => {
    const v = replayLoginVerdict(position(), loginRun(), observations({ log: [login(ALICE_UP), login(NEW_UP)] }), before());
    expect(v).toEqual({
      outcome: 'succeeded',
      reason: 'the server accepted the replayed login: the attacker is logged in as alice without knowing the password',
      summary: 'replayed login accepted',
      impact: ['authentication'],
      evidence: [{ kind: 'replayed-login-accepted', detail: `the server logged in alice for the replaying connection ${NEW_UP} (3 recorded chunks replayed)` }, ...before()],
      negotiated,
    });
  });

  it('looks like success but is not: alice\'s own login and bob\'s are no login of the replaying connection', () => {
    const v = replayLoginVerdict(position(), loginRun(), observations({ log: [login(ALICE_UP), login(OTHER, 'bob'), { event: 'logout', peer: NEW_UP, username: 'alice' }] }), before());
    expect(v.outcome).not.toBe('succeeded');
    expect(v.outcome).toBe('error');
    expect(v).toEqual({
      outcome: 'error',
      reason: 'inconclusive: within 4000 ms the server neither logged the replayed connection in nor refused it; no verdict',
      summary: 'inconclusive',
      impact: [],
      evidence: before(),
      negotiated,
    });
  });

  it('nothing replayed (not attempted, or no chunk recorded): error', () => {
    for (const replayed of [null, newConn({ chunks: 0 })]) {
      expect(replayLoginVerdict(position(), loginRun({ replayed }), observations({ log: [login(NEW_UP)] }), before())).toEqual({
        outcome: 'error',
        reason: "no verdict: the attacker never recorded alice's login, so nothing was replayed",
        summary: 'login not seen',
        impact: [],
        evidence: before(),
        negotiated,
      });
    }
  });

  it('refused by the single-use challenge: blocked, naming it, the offline guess in the evidence', () => {
    const answer = frames({ type: 'error', code: 'stale_challenge', message: 'no challenge pending' });
    const v = replayLoginVerdict(terminated, loginRun({ guess: 'guessed offline through all 10 candidates: not found', replayed: newConn({ response: answer }) }), observations(), before());
    expect(v).toEqual({
      outcome: 'blocked',
      reason:
        "terminated TLS with the self-signed certificate → the attacker read alice's challenge proof but guessed offline through all 10 candidates: not found; the replayed login was refused: the single-use challenge (the server answered stale_challenge: no challenge pending)",
      summary: 'refused: stale_challenge',
      impact: [],
      evidence: [
        { kind: 'replayed-login-refused', detail: `3 recorded chunks replayed from ${NEW_UP}: the server answered stale_challenge: no challenge pending` },
        { kind: 'offline-guess', detail: 'guessed offline through all 10 candidates: not found' },
        ...before(),
      ],
      negotiated,
    });
  });

  it('bad_credentials anywhere among the answered errors is the challenge too', () => {
    const answer = frames({ type: 'error', code: 'rate_limited', message: 'slow down' }, { type: 'error', code: 'bad_credentials', message: 'no' });
    const v = replayLoginVerdict(position(), loginRun({ replayed: newConn({ response: answer }) }), observations(), before());
    expect(v.reason).toBe("the attacker read alice's login frame, which carries no password; the replayed login was refused: the single-use challenge (the server answered rate_limited: slow down; bad_credentials: no)");
  });

  it('refused by TLS or the channel: blocked, naming that refusal and not the challenge', () => {
    const v = replayLoginVerdict(position(), loginRun({ loginSeen: false }), observations({ log: [macRefusal(ALICE_UP), { event: 'tls_error', peer: NEW_UP, code: 'ERR_SSL_X', message: 'stale_challenge mentioned in a message' }] }), before());
    expect(v.outcome).toBe('blocked');
    expect(v.reason).toBe("the attacker could not read alice's login; the replayed login was refused: the TLS handshake failed (ERR_SSL_X: stale_challenge mentioned in a message)");
    expect(v.summary).toBe('refused: TLS handshake');
  });

  it('a recovered password that did not log in is said, in the reason and the evidence', () => {
    const r = loginRun({
      guess: 'found it after 3 guesses',
      recovered: { password: 'pw', how: 'recorded alice\'s challenge and proof and found it', login: { ok: false, why: 'SECCHAT_ERR_AUTH: bad_credentials' } },
    });
    const v = replayLoginVerdict(position(), r, observations({ log: [channelRefusal(NEW_UP, 'transcript_mismatch')] }), before());
    expect(v.outcome).toBe('blocked');
    expect(v.reason).toBe(
      "the attacker recorded alice's challenge and proof and found it, but that password did not log in (SECCHAT_ERR_AUTH: bad_credentials); the replayed login was refused: the secure channel refused it (transcript_mismatch): refused transcript_mismatch",
    );
    expect(v.summary).toBe('refused: transcript_mismatch');
    expect(v.evidence.slice(0, 3)).toEqual([
      { kind: 'replayed-login-refused', detail: `3 recorded chunks replayed from ${NEW_UP}: the secure channel refused it (transcript_mismatch): refused transcript_mismatch` },
      { kind: 'attacker-login-refused', detail: 'the recovered password did not log in: SECCHAT_ERR_AUTH: bad_credentials' },
      { kind: 'offline-guess', detail: 'found it after 3 guesses' },
    ]);
  });
});
