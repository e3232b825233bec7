/**
 * The login throttle and the per-address connection counter, with an injected clock: exact
 * windows, lockouts that lift, bounded memory, and IPv6 /64 grouping.
 */
import { describe, expect, it } from 'vitest';
import { LoginThrottle, SlidingWindowLimiter, LOGIN_WINDOW_MS } from '../server/rate-limit.ts';
import { ConnectionCounter, addressKey } from '../server/connection-limits.ts';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('SlidingWindowLimiter', () => {
  it('allows `limit` attempts per window, then refuses until the oldest leaves it', () => {
    const c = clock();
    const l = new SlidingWindowLimiter({ limit: 3, windowMs: 1000, now: c.now });
    for (let i = 0; i < 3; i++) {
      expect(l.check('k')).toEqual({ allowed: true });
      l.record('k');
      c.advance(100);
    }
    // attempts at 0, 100, 200 ms; now 300 ms: the first frees up at 1000 ms
    expect(l.check('k')).toEqual({ allowed: false, retryAfterMs: 700 });
    c.advance(699);
    expect(l.check('k').allowed).toBe(false);
    c.advance(1);
    expect(l.check('k')).toEqual({ allowed: true });
    expect(l.check('other')).toEqual({ allowed: true }); // keys are independent
  });

  it('forgets expired keys and never holds more than maxKeys', () => {
    const c = clock();
    const l = new SlidingWindowLimiter({ limit: 2, windowMs: 1000, maxKeys: 100, now: c.now });
    for (let i = 0; i < 1000; i++) l.record(`user${i}`);
    expect(l.size).toBeLessThanOrEqual(100);
    c.advance(1001);
    l.record('fresh');
    expect(l.size).toBeLessThanOrEqual(100);
    expect(l.check('user999')).toEqual({ allowed: true });
  });

  it('rejects impossible settings at construction, naming them', () => {
    expect(() => new SlidingWindowLimiter({ limit: 0, windowMs: 1000 })).toThrow(/limit must be an integer >= 1/);
    expect(() => new SlidingWindowLimiter({ limit: 1, windowMs: 1.5 })).toThrow(/windowMs/);
  });
});

describe('LoginThrottle', () => {
  const limits = { maxLoginAttemptsPerAccountPerMinute: 3, maxLoginAttemptsPerIpPerMinute: 5 };

  it('locks an account after its failed logins, from any address, for the rest of the minute', () => {
    const c = clock();
    const t = new LoginThrottle(limits, { now: c.now });
    for (let i = 0; i < 3; i++) {
      expect(t.admit(`10.0.0.${i}`, 'alice')).toBeNull();
      t.failed('alice');
    }
    expect(t.admit('10.0.0.9', 'alice')).toEqual({ scope: 'account', retryAfterMs: LOGIN_WINDOW_MS });
    expect(t.admit('10.0.0.9', 'bob')).toBeNull(); // other accounts are not affected
    c.advance(LOGIN_WINDOW_MS);
    expect(t.admit('10.0.0.9', 'alice')).toBeNull();
  });

  it('limits every password-hashing request per address, registrations included; refusals are not counted', () => {
    const c = clock();
    const t = new LoginThrottle(limits, { now: c.now });
    for (let i = 0; i < 5; i++) expect(t.admit('10.0.0.1', i % 2 ? `u${i}` : null)).toBeNull();
    const refused = t.admit('10.0.0.1', 'u9');
    expect(refused).toMatchObject({ scope: 'address' });
    for (let i = 0; i < 10; i++) t.admit('10.0.0.1', null); // hammering while refused
    c.advance(LOGIN_WINDOW_MS);
    expect(t.admit('10.0.0.1', 'u9')).toBeNull(); // the window slid: the hammering did not extend it
    expect(t.admit('10.0.0.2', 'u9')).toBeNull();
  });
});

describe('connection counting per address', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['::1', '0000:0000:0000:0000::/64'],
    ['2001:db8:1:2:aaaa::1', '2001:0db8:0001:0002::/64'],
    ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002::/64'],
    ['fe80::1%eth0', 'fe80:0000:0000:0000::/64'],
    [undefined, 'unknown'],
    ['not an address', 'unknown'],
  ])('addressKey(%s) = %s', (input, key) => {
    expect(addressKey(input)).toBe(key);
  });

  it('caps connections per key and frees a slot on remove', () => {
    const c = new ConnectionCounter(2);
    expect([c.tryAdd('a'), c.tryAdd('a'), c.tryAdd('a'), c.tryAdd('b')]).toEqual([true, true, false, true]);
    c.remove('a');
    expect(c.tryAdd('a')).toBe(true);
    expect(c.count('a')).toBe(2);
    expect(() => new ConnectionCounter(0)).toThrow(RangeError);
  });
});

describe('LoginThrottle counts a login against its account when admitted', () => {
  it('refuses the sixth concurrent login before any password check came back', () => {
    const t = new LoginThrottle({ maxLoginAttemptsPerAccountPerMinute: 5, maxLoginAttemptsPerIpPerMinute: 1000 }, { now: () => 1_000 });
    // Six guessers from six addresses, all admitted before any hash finished.
    const verdicts = Array.from({ length: 6 }, (_, i) => t.admit(`127.0.7.${i + 1}`, 'gina'));
    expect(verdicts.slice(0, 5)).toEqual([null, null, null, null, null]);
    expect(verdicts[5]).toMatchObject({ scope: 'account' });
  });
  it('takes the reservation back when the login succeeds', () => {
    const t = new LoginThrottle({ maxLoginAttemptsPerAccountPerMinute: 2, maxLoginAttemptsPerIpPerMinute: 1000 }, { now: () => 1_000 });
    for (let i = 0; i < 5; i++) {
      expect(t.admit('127.0.0.1', 'alice')).toBeNull();
      t.succeeded('alice');
    }
    expect(t.admit('127.0.0.1', 'alice')).toBeNull();
    expect(t.admit('127.0.0.1', 'alice')).toBeNull();
    expect(t.admit('127.0.0.1', 'alice')).toMatchObject({ scope: 'account' });
  });
});

describe('SlidingWindowLimiter edges (mutation testing: docs/testing.md)', () => {
  it('keeps only the newest `limit` attempts: the retry wait runs from the limit-th newest, not the oldest', () => {
    const c = clock(0);
    const l = new SlidingWindowLimiter({ limit: 2, windowMs: 1000, now: c.now });
    for (const t of [0, 100, 200]) {
      c.advance(t - c.now());
      l.record('k');
    }
    c.advance(100); // now 300; attempts kept: 100, 200
    expect(l.check('k')).toEqual({ allowed: false, retryAfterMs: 800 });
  });

  it('answers for a key it never saw without creating it, even with a limit of one', () => {
    const l = new SlidingWindowLimiter({ limit: 1, windowMs: 1000, now: () => 5 });
    expect(l.check('never')).toEqual({ allowed: true });
    expect(l.size).toBe(0);
  });

  it('drops a key whose attempts all left the window when it is next checked', () => {
    const c = clock(0);
    const l = new SlidingWindowLimiter({ limit: 1, windowMs: 1000, now: c.now });
    l.record('k');
    expect(l.check('k').allowed).toBe(false);
    c.advance(1000);
    expect(l.check('k')).toEqual({ allowed: true });
    expect(l.size).toBe(0);
  });

  it('does not sweep expired keys while the table has room', () => {
    const c = clock(0);
    const l = new SlidingWindowLimiter({ limit: 1, windowMs: 1000, maxKeys: 10, now: c.now });
    l.record('a');
    c.advance(2000);
    l.record('b');
    expect(l.size).toBe(2); // sweeping costs a pass over the table: only when full
  });

  it('when full, sweeps expired keys first and keeps every live one', () => {
    const c = clock(0);
    const l = new SlidingWindowLimiter({ limit: 1, windowMs: 1000, maxKeys: 2, now: c.now });
    l.record('a'); // t=0, first in the table
    c.advance(100);
    l.record('b'); // t=100
    c.advance(800);
    l.record('a'); // t=900: 'a' stays first in insertion order but is now the newer key
    c.advance(250); // t=1150: 'b' expired, 'a' live until 1900
    l.record('c');
    expect(l.size).toBe(2);
    expect(l.check('a')).toEqual({ allowed: false, retryAfterMs: 750 });
    expect(l.check('c').allowed).toBe(false);
  });

  it('when full of live keys, forgets the oldest inserted first', () => {
    const l = new SlidingWindowLimiter({ limit: 1, windowMs: 1000, maxKeys: 2, now: () => 0 });
    l.record('a');
    l.record('b');
    l.record('c');
    expect(l.size).toBe(2);
    expect(l.check('a')).toEqual({ allowed: true });
    expect(l.check('b').allowed).toBe(false);
    expect(l.check('c').allowed).toBe(false);
  });

  it('release() takes back only the newest attempt and forgets a key left empty', () => {
    const l = new SlidingWindowLimiter({ limit: 2, windowMs: 1000, now: () => 0 });
    l.record('k');
    l.record('k');
    l.release('k');
    expect(l.size).toBe(1);
    expect(l.check('k')).toEqual({ allowed: true });
    l.record('k');
    expect(l.check('k').allowed).toBe(false);
    l.release('k');
    l.release('k');
    expect(l.size).toBe(0);
    l.record('fresh'); // a reservation taken back at once leaves no trace
    l.release('fresh');
    expect(l.size).toBe(0);
  });

  it('release() of a key it no longer holds (evicted, expired or never seen) is a no-op', () => {
    const l = new SlidingWindowLimiter({ limit: 1, windowMs: 1000, maxKeys: 1, now: () => 0 });
    l.record('a');
    l.record('b'); // evicts 'a'
    expect(() => l.release('a')).not.toThrow();
    expect(() => l.release('never')).not.toThrow();
    expect(l.size).toBe(1);
    expect(l.check('b').allowed).toBe(false); // b's attempt untouched
  });
});

describe('LoginThrottle: registrations never count against an account', () => {
  it('admits more registrations from one address than the per-account limit', () => {
    const t = new LoginThrottle({ maxLoginAttemptsPerAccountPerMinute: 2, maxLoginAttemptsPerIpPerMinute: 100 }, { now: () => 0 });
    for (let i = 0; i < 5; i++) expect(t.admit('10.0.0.1', null)).toBeNull();
  });
});
