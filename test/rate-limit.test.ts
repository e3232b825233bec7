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
