/**
 * Control characters and escape sequences other users send never reach our terminal raw: the
 * client's renderer (client/terminal.ts) shows them as visible escapes, its --json output keeps
 * them escaped, and a hostile sender going through the real server changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LineScreen, describeFrame, jsonForTerminal, sanitizeForTerminal } from '../client/terminal.ts';
import { makeTestPki, profileOf, startTestServer, loggedIn } from './helpers/lab-env.ts';
import type { PkiMaterial } from '../core/pki.ts';

/** Characters a terminal may act on: C0, DEL, C1, bidi controls, line/paragraph separators. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u2028\u2029]/;

const ATTACKS = [
  '\u001b[2J\u001b[H', // clear screen, cursor home
  '\u001b]0;owned\u0007', // OSC: set the window title
  '\u001b]52;c;cm0gLXJmIH4=\u0007', // OSC 52: write the clipboard
  '\u001bP+q544e\u001b\\', // DCS request
  '\u009b31m', // 8-bit CSI
  'line one\r\n[room] admin: fake line', // forged line
  'abc\u202Egnp.exe', // Trojan Source / RLO filename trick
  '\u0008\u0008\u0008', // backspaces over earlier text
];

describe('sanitizeForTerminal', () => {
  it.each(ATTACKS)('neutralizes %j', (payload) => {
    const out = sanitizeForTerminal(payload);
    expect(out).not.toMatch(UNSAFE);
    expect(out).toContain('\\u{');
  });

  it('says when a direct message stored while we were offline was sent', () => {
    const line = describeFrame({ type: 'dm', from: 'alice', to: 'bob', text: 'hi', ts: Date.UTC(2026, 0, 2, 3, 4, 5), offline: true });
    expect(line).toBe('[dm] alice → bob: hi (sent 2026-01-02T03:04:05.000Z while you were offline)');
    expect(describeFrame({ type: 'dm', from: 'alice', to: 'bob', text: 'hi', ts: 1 })).toBe('[dm] alice → bob: hi');
  });

  it('keeps ordinary text, accents and emoji (including joiner sequences) unchanged', () => {
    const text = 'héllo wörld — 日本語 👩‍💻 ok';
    expect(sanitizeForTerminal(text)).toBe(text);
  });

  it('property: nothing unsafe survives, whatever the input', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
      expect(sanitizeForTerminal(s)).not.toMatch(UNSAFE);
    }), { numRuns: 3000 });
  });

  it('describeFrame escapes every field a peer controls', () => {
    for (const payload of ATTACKS) {
      for (const f of [
        { type: 'msg', from: payload, text: payload },
        { type: 'dm', from: payload, to: payload, text: payload },
        { type: 'joined', username: payload },
        { type: 'users', users: [payload, 'bob'] },
        { type: 'error', code: payload, message: payload },
      ]) {
        expect(describeFrame(f)).not.toMatch(UNSAFE);
      }
    }
  });
});

describe('jsonForTerminal', () => {
  it('property: same JSON value, nothing unsafe raw', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (v, s) => {
        for (const value of [v, { type: 'msg', text: s }]) {
          const line = jsonForTerminal(value);
          expect(line).not.toMatch(UNSAFE);
          expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(value)));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('through the real server', () => {
  let pki: PkiMaterial;
  let cleanup: () => void;
  beforeAll(async () => {
    ({ pki, cleanup } = await makeTestPki());
  });
  afterAll(() => cleanup());

  it('a hostile sender\'s escape sequences arrive intact as data and are shown escaped', async () => {
    const profile = profileOf({ transport: 'tls', auth: { storage: 'sha256' } });
    const { server, stop } = await startTestServer(profile, pki);
    try {
      const mallory = await loggedIn(profile, pki, server.port, 'mallory');
      const victim = await loggedIn(profile, pki, server.port, 'victim');
      for (const payload of ATTACKS) {
        await mallory.send(payload);
        await mallory.dm('victim', payload);
      }
      await victim.waitFor(() => victim.received.filter((f) => f.type === 'dm').length === ATTACKS.length);
      const shown = victim.received.filter((f) => f.type === 'msg' || f.type === 'dm');
      expect(shown.map((f) => f.text)).toEqual(ATTACKS.flatMap((p) => [p, p])); // data is not altered on the wire
      for (const f of shown) {
        const line = describeFrame(f)!;
        expect(line).not.toMatch(UNSAFE);
        expect(line.startsWith(f.type === 'dm' ? '[dm] mallory → victim: ' : '[room] mallory: ')).toBe(true);
        expect(jsonForTerminal(f)).not.toMatch(UNSAFE);
      }
      await Promise.all([mallory.quit(), victim.quit()]);
    } finally {
      await stop();
    }
  });
});

describe('LineScreen: no output glued onto the prompt', () => {
  /** A fake terminal: what was written, and a readline stand-in that draws its prompt there. */
  function fakeTerminal(): { screen: LineScreen; written: () => string } {
    let text = '';
    const out = { write: (t: string) => ((text += t), true) } as unknown as NodeJS.WriteStream;
    const screen = new LineScreen(out, { prompt: () => void (text += 'alice> ') });
    return { screen, written: () => text };
  }

  it('ends the prompt line when readline closes with the prompt drawn (Ctrl-D, server hang-up)', () => {
    const { screen, written } = fakeTerminal();
    screen.print('* online: bob', () => {});
    screen.end(true);
    expect(written()).toBe('\r\u001b[2K* online: bob\nalice> \n');
    // After the end, lines are plain and never redraw a prompt.
    const plain: string[] = [];
    screen.print('the server closed the connection', (t) => plain.push(t));
    expect(written().endsWith('\n')).toBe(true);
    expect(written()).not.toContain('the server closed');
    expect(plain).toEqual(['the server closed the connection\n']);
  });

  it('writes nothing extra after /quit + Enter (the line is already ended)', () => {
    const { screen, written } = fakeTerminal();
    screen.end(false);
    expect(written()).toBe('');
  });
});
