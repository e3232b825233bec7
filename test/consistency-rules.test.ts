/**
 * The matrix consistency checker's rules (attacks/consistency.ts), cell by cell with crafted
 * results: which cells count as showing the attacker through TLS, the channel or STARTTLS; which
 * "blocked" reasons name TLS or the channel as the stopper; the position disagreement; rows kept
 * apart by profile. test/consistency.test.ts holds the property over real runs.
 */
import { describe, expect, it } from 'vitest';
import { CONSISTENCY_ATTACKS, checkMatrix, checkRow } from '../attacks/consistency.ts';
import { getAttack } from '../attacks/registry.ts';
import type { CellResult } from '../reports/results.ts';

const cell = (attack: string, outcome: CellResult['outcome'], reason: string, evidence: CellResult['evidence'] = [], profile = 'p'): CellResult => ({
  schemaVersion: 1,
  profile,
  attack,
  outcome,
  impact: [],
  reason,
  summary: '',
  canary: 'canary-x',
  evidence,
  negotiated: null,
  durationMs: 1,
});
const position = (detail: string) => ({ kind: 'position', detail });
const TLS_CHAIN = position('on the path → terminated TLS with the wrong-host certificate (…)');
const CHANNEL_CHAIN = position('on the path → took over the secure channel by swapping the key shares');
const STRIP_CHAIN = position('on the path → stripped the STARTTLS offer (the client carried on in plaintext)');
const TLS_MAC = 'the attacker flipped one bit; the TLS record MAC check failed (X)';
const CHANNEL_MAC = 'the secure channel refused it (bad_record_mac)';
const read = { kind: 'canary-recovered', detail: 'canary read' };
const terminated = { kind: 'proxy-tls', detail: 'connection 1: attacker terminated TLS — victim hop TLSv1.3 X, server hop TLSv1.3 Y' };
const answered = { kind: 'proxy-note', detail: "connection 1: channel MITM: answered the victim's ch_hello (ecdhe)" };

describe('CONSISTENCY_ATTACKS', () => {
  it('names registered attacks: the positioned ones and the active MITMs they are compared with', () => {
    for (const id of CONSISTENCY_ATTACKS) expect(() => getAttack(id), id).not.toThrow();
    expect([...CONSISTENCY_ATTACKS].sort()).toEqual(['downgrade-cipher', 'downgrade-starttls', 'mitm-self-signed', 'mitm-wrong-host', 'replay', 'replay-login', 'tamper']);
  });
});

describe('what shows the attacker through', () => {
  it.each(['replay', 'replay-login', 'tamper', 'downgrade-cipher', 'downgrade-starttls', 'downgrade-suite', 'mitm-self-signed', 'mitm-wrong-host'])('%s: a chain that terminated TLS, whatever its outcome', (by) => {
    const w = checkRow([cell(by, 'blocked', 'something else', [TLS_CHAIN]), cell('replay-login', 'blocked', TLS_MAC)]);
    expect(w).toEqual([{ profile: 'p', attacks: ['replay-login', by], message: `replay-login is "blocked" by TLS, but ${by} shows the attacker terminating TLS with a certificate the client accepts: ${TLS_MAC}` }]);
  });
  it.each(['mitm-rogue-ca', 'mitm-passive', 'password-crack', 'retro-decrypt'])('%s (a premise or another attacker) shows nothing', (by) => {
    expect(checkRow([cell(by, 'succeeded', 'x', [TLS_CHAIN, CHANNEL_CHAIN, STRIP_CHAIN, read, terminated, answered]), cell('tamper', 'blocked', TLS_MAC), cell('replay', 'blocked', CHANNEL_MAC)])).toEqual([]);
  });
  it('a channel taken over, by chain', () => {
    const w = checkRow([cell('replay', 'succeeded', 'x', [CHANNEL_CHAIN]), cell('tamper', 'blocked', CHANNEL_MAC)]);
    expect(w).toEqual([{ profile: 'p', attacks: ['tamper', 'replay'], message: `tamper is "blocked" by the secure channel, but replay shows the attacker taking the channel over: ${CHANNEL_MAC}` }]);
  });
  it('STARTTLS stripped, by chain, names the strip', () => {
    const w = checkRow([cell('replay', 'blocked', 'x', [STRIP_CHAIN]), cell('tamper', 'blocked', TLS_MAC)]);
    expect(w).toEqual([{ profile: 'p', attacks: ['tamper', 'replay'], message: `tamper is "blocked" by TLS, but replay shows the attacker stripping STARTTLS: ${TLS_MAC}` }]);
  });
  it("downgrade-starttls's own chain is not a strip; its success is", () => {
    expect(checkRow([cell('downgrade-starttls', 'blocked', 'refused', [STRIP_CHAIN]), cell('tamper', 'blocked', TLS_MAC)])).toEqual([]);
    const w = checkRow([cell('downgrade-starttls', 'succeeded', 'read'), cell('tamper', 'blocked', TLS_MAC)]);
    expect(w.map((x) => x.attacks)).toEqual([['tamper', 'downgrade-starttls']]);
    expect(w[0].message).toContain('shows the attacker stripping STARTTLS');
  });
  it('a successful active MITM that read the canary through terminated TLS, or through the channel it answered', () => {
    for (const mitm of ['mitm-self-signed', 'mitm-wrong-host']) {
      expect(checkRow([cell(mitm, 'succeeded', 'read', [read, terminated]), cell('tamper', 'blocked', TLS_MAC)]).map((x) => x.attacks), mitm).toEqual([['tamper', mitm]]);
      expect(checkRow([cell(mitm, 'succeeded', 'read', [read, answered]), cell('tamper', 'blocked', CHANNEL_MAC)]).map((x) => x.attacks), mitm).toEqual([['tamper', mitm]]);
    }
  });
  it('an active MITM shows nothing when it did not succeed, did not read the canary, or its victim hop never completed', () => {
    const blockedTamper = [cell('tamper', 'blocked', TLS_MAC), cell('replay', 'blocked', CHANNEL_MAC)];
    expect(checkRow([cell('mitm-wrong-host', 'blocked', 'refused', [read, terminated, answered]), ...blockedTamper])).toEqual([]);
    expect(checkRow([cell('mitm-wrong-host', 'succeeded', 'x', [terminated, answered]), ...blockedTamper])).toEqual([]);
    const incomplete = { kind: 'proxy-tls', detail: 'connection 1: attacker terminated TLS — victim hop did not complete, server hop TLSv1.3 Y' };
    expect(checkRow([cell('mitm-wrong-host', 'succeeded', 'x', [read, incomplete, { kind: 'proxy-note', detail: 'connection 1: relayed' }]), ...blockedTamper])).toEqual([]);
    // only the proxy's own note counts, not the same words in another line
    expect(checkRow([cell('mitm-wrong-host', 'succeeded', 'x', [read, { kind: 'client-alice', detail: "alice stopped: channel MITM: answered the victim's ch_hello" }]), ...blockedTamper])).toEqual([]);
    expect(checkRow([cell('mitm-wrong-host', 'succeeded', 'x', [read, { kind: 'delivery', detail: 'attacker terminated TLS — victim hop TLSv1.3' }]), ...blockedTamper])).toEqual([]);
    // the same evidence on a cell that is not a MITM is not read this way either
    expect(checkRow([cell('replay', 'succeeded', 'x', [read, terminated, answered]), cell('tamper', 'blocked', TLS_MAC)])).toEqual([]);
  });
  it('names the first cell that shows it', () => {
    const w = checkRow([cell('replay', 'blocked', 'x', [TLS_CHAIN, CHANNEL_CHAIN]), cell('mitm-wrong-host', 'succeeded', 'read', [read, terminated, answered]), cell('mitm-self-signed', 'succeeded', 'read', [read, terminated, answered]), cell('downgrade-cipher', 'blocked', 'x', [STRIP_CHAIN]), cell('replay-login', 'blocked', TLS_MAC), cell('tamper', 'blocked', CHANNEL_MAC)]);
    expect(w.map((x) => x.attacks)).toEqual([
      ['replay-login', 'replay'],
      // a cell's chain is its first position line: replay's names TLS only
      ['tamper', 'mitm-wrong-host'],
      ['replay', 'downgrade-cipher'],
    ]);
    expect(w[0].message).toContain('shows the attacker terminating TLS');
  });
});

describe('which "blocked" names TLS or the channel as its stopper', () => {
  it.each([
    'the TLS record MAC check failed (X)',
    'alice\'s dm stayed inside TLS the attacker could not open',
    'the canary was hidden by TLS',
    'the TLS handshake failed (ERR_SSL_NO_SHARED_CIPHER: x)',
    'the proxy could not terminate the victim\'s TLS',
  ])('TLS: %s', (reason) => {
    expect(checkRow([cell('replay', 'succeeded', 'x', [TLS_CHAIN]), cell('tamper', 'blocked', reason)]).map((x) => x.attacks)).toEqual([['tamper', 'replay']]);
  });
  it.each(['the secure channel refused it (bad_sequence): seen', 'the channel kept the canary sealed'])('channel: %s', (reason) => {
    expect(checkRow([cell('replay', 'succeeded', 'x', [CHANNEL_CHAIN]), cell('tamper', 'blocked', reason)]).map((x) => x.attacks)).toEqual([['tamper', 'replay']]);
  });
  it('a channel refusal of the handshake itself (transcript mismatch, no common cipher) is not the record protection the takeover gets past', () => {
    for (const reason of ['the secure channel refused it (transcript_mismatch): rewritten offer', 'the secure channel refused it (no_common_cipher): none']) {
      expect(checkRow([cell('replay', 'succeeded', 'x', [CHANNEL_CHAIN]), cell('tamper', 'blocked', reason)]), reason).toEqual([]);
    }
  });
  it('only a blocked cell has a stopper, and only of the layer another cell got through', () => {
    expect(checkRow([cell('replay', 'succeeded', 'x', [TLS_CHAIN]), cell('tamper', 'succeeded', TLS_MAC), cell('replay-login', 'error', TLS_MAC), cell('downgrade-cipher', 'not-applicable', TLS_MAC)])).toEqual([]);
    expect(checkRow([cell('replay', 'succeeded', 'x', [TLS_CHAIN]), cell('tamper', 'blocked', CHANNEL_MAC)])).toEqual([]);
    expect(checkRow([cell('replay', 'succeeded', 'x', [CHANNEL_CHAIN]), cell('tamper', 'blocked', TLS_MAC)])).toEqual([]);
    expect(checkRow([cell('replay', 'succeeded', 'x', [TLS_CHAIN]), cell('tamper', 'blocked', 'the server refused the replay (bad_sequence)')])).toEqual([]);
  });
  it('a blocked cell of an attacker with a premise is not checked', () => {
    expect(checkRow([cell('replay', 'succeeded', 'x', [TLS_CHAIN, CHANNEL_CHAIN]), cell('mitm-rogue-ca', 'blocked', TLS_MAC), cell('retro-decrypt', 'blocked', CHANNEL_MAC)])).toEqual([]);
  });
});

describe('one position per row', () => {
  it.each([
    ['replay', 'tamper'],
    ['replay-login', 'downgrade-cipher'],
    ['tamper', 'replay-login'],
    ['downgrade-cipher', 'replay'],
  ])('%s and %s disagreeing are flagged, naming both chains', (a, b) => {
    const w = checkRow([cell(a, 'blocked', 'x', [position('A')]), cell(b, 'blocked', 'y', [position('B')])]);
    expect(w).toEqual([{ profile: 'p', attacks: [a, b], message: 'the cells disagree on the attacker\'s position: "A" vs "B"' }]);
  });
  it('cells without a position, and attacks that do not take the probed position, are left out', () => {
    expect(checkRow([cell('replay', 'blocked', 'x', [position('A')]), cell('tamper', 'blocked', 'y'), cell('mitm-self-signed', 'blocked', 'z', [position('B')]), cell('downgrade-starttls', 'blocked', 'z', [position('C')])])).toEqual([]);
    expect(checkRow([cell('replay', 'blocked', 'x', [position('A')]), cell('tamper', 'succeeded', 'y', [position('A')])])).toEqual([]);
    const three = checkRow([cell('replay', 'blocked', 'x', [position('A')]), cell('tamper', 'blocked', 'y', [position('B')]), cell('replay-login', 'blocked', 'y', [position('A')])]);
    expect(three).toEqual([{ profile: 'p', attacks: ['replay', 'tamper', 'replay-login'], message: 'the cells disagree on the attacker\'s position: "A" vs "B"' }]);
  });
});

describe('checkRow and checkMatrix', () => {
  it('an empty row has nothing to contradict', () => {
    expect(checkRow([])).toEqual([]);
    expect(checkMatrix([])).toEqual([]);
  });
  it('names the row\'s profile, and checks each profile\'s row apart, in profile order', () => {
    const cells = [
      cell('replay', 'succeeded', 'x', [TLS_CHAIN], 'q'),
      cell('tamper', 'blocked', TLS_MAC, [], 'p'),
      cell('tamper', 'blocked', TLS_MAC, [], 'q'),
      cell('replay', 'succeeded', 'x', [CHANNEL_CHAIN], 'r'),
      cell('tamper', 'blocked', CHANNEL_MAC, [], 'r'),
    ];
    expect(checkMatrix(cells).map((w) => [w.profile, ...w.attacks])).toEqual([
      ['q', 'tamper', 'replay'],
      ['r', 'tamper', 'replay'],
    ]);
  });
});
