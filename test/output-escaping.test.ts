/**
 * Untrusted text in logs and CLI errors (issue 12 item 4): the rules of core/escape.ts, and the
 * server CLI's log when a peer sends a hostile `ch_error` before any login (over a real loopback
 * socket, the server in its own process).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLine, logValue, markdownCode, markdownLink, terminalLines, terminalText } from '../core/escape.ts';
import { main } from '../cli/main.ts';
import { ensurePki } from '../core/pki.ts';

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;
const EVIL = 'boom\x1b[2J\x1b]0;owned\x07\nFORGED event=login user=admin\u202e\x9b1m';

describe('the escaping rules', () => {
  it('terminal text has no control, escape, bidi or line-separator character left', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      expect(terminalText(s)).not.toMatch(CONTROL);
    }));
    expect(terminalText(EVIL)).toBe('boom\\u{1b}[2J\\u{1b}]0;owned\\u{7}\\u{a}FORGED event=login user=admin\\u{202e}\\u{9b}1m');
  });

  it('terminal lines keep our line feeds and nothing else', () => {
    expect(terminalLines('a\nb\x1b[0m\r')).toBe('a\nb\\u{1b}[0m\\u{d}');
  });

  it('a log value is one field of one line: a plain token as is, anything else quoted', () => {
    expect(logValue('127.0.0.1:5555')).toBe('127.0.0.1:5555');
    expect(logValue(3)).toBe('3');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const v = logValue(s);
        expect(v).not.toMatch(CONTROL);
        expect(v).not.toMatch(/\s/u);
        if (/[ =]/.test(s)) expect(v.startsWith('"')).toBe(true);
      }),
    );
  });

  it('a JSON log line parses back to the same value and has no control character', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.string({ unit: 'binary' })), (o) => {
        const line = jsonLine(o);
        expect(line).not.toMatch(CONTROL);
        expect(JSON.parse(line)).toEqual(o);
      }),
    );
  });

  it('Markdown: a code span no backtick run closes, links only to local paths', () => {
    expect(markdownCode('a`b``c')).toBe('```a`b``c```');
    expect(markdownCode('`x')).toBe('`` `x ``');
    expect(markdownCode('client.verify')).toBe('`client.verify`');
    expect(markdownLink('x', 'javascript:alert(1)')).not.toMatch(/\]\(/);
    expect(markdownLink('x', '//evil.example/x')).not.toMatch(/\]\(/);
    expect(markdownLink('cap', 'artifacts/a b/c (1).pcap')).toBe('[cap](artifacts/a%20b/c%20%281%29.pcap)');
  });
});

describe('CLI errors quote untrusted text through the terminal rule', () => {
  it('an error message with escape sequences is printed escaped, exit code kept', async () => {
    let err = '';
    // The profile reference is echoed in the error: a hostile one stands for any quoted peer text.
    const code = await main(['node', 'secchat', 'profiles', 'check', `/nonexistent/${EVIL}.yaml`], { out: () => {}, err: (t) => (err += t), interactive: false });
    expect(code).toBe(2);
    expect(err).toContain('\\u{1b}[2J');
    expect(err.replace(/\n/g, '')).not.toMatch(CONTROL);
  });
});

describe('server log with a hostile ch_error before login', () => {
  const BIN = path.resolve(import.meta.dirname, '../bin/secchat.mjs');
  let dir: string;
  // The PKI is made once here (key generation is slow on a loaded machine), not by each server.
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-logesc-'));
    await ensurePki(path.join(dir, 'pki'));
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const json of [false, true]) {
    it(`${json ? 'JSON Lines' : 'text'} log: one line per event, no control character, the message still readable`, async () => {
      const server = spawn(process.execPath, [BIN, 'server', '-p', 'channel-ecdhe-signed', '--port', '0', '--pki', path.join(dir, 'pki'), '--db', path.join(dir, `u${json}.db`), ...(json ? ['--json'] : [])], { cwd: dir });
      let stdout = '';
      let stderr = '';
      server.stdout.on('data', (d) => (stdout += d));
      server.stderr.on('data', (d) => (stderr += d));
      try {
        const port = await new Promise<number>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 40_000);
          server.stdout.on('data', () => {
            const m = /listening on [^:]+:(\d+)/.exec(stdout);
            if (m) {
              clearTimeout(t);
              resolve(Number(m[1]));
            }
          });
        });
        const sock = net.connect(port, '127.0.0.1');
        await new Promise((r) => sock.once('connect', r));
        sock.write(JSON.stringify({ type: 'ch_error', code: 'bad\x1b[31m', message: EVIL }) + '\n');
        // Bounded wait for the log line of the refusal.
        for (let i = 0; i < 100 && !/channel_error/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
        sock.destroy();
      } finally {
        server.kill('SIGTERM');
        await new Promise((r) => server.once('close', r));
      }
      const lines = stderr.split('\n').filter((l) => /channel_error/.test(l));
      expect(lines, stderr).toHaveLength(1);
      expect(stderr).not.toMatch(/^FORGED/m);
      for (const l of stderr.split('\n')) expect(l).not.toMatch(CONTROL);
      if (json) expect(JSON.parse(lines[0]!).message).toContain('FORGED event=login');
      else expect(lines[0]).toContain('message="the peer reported bad\\u001b[31m: boom\\u001b[2J');
    }, 60_000);
  }
});
