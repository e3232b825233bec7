/**
 * The secure-channel takeover (attacks/kit/channel-takeover.ts) between two real channel state
 * machines, with no sockets: a victim ChannelClient, the takeover on a stand-in proxied
 * connection, and the real server's ChannelServer. Frames are pumped between them in a bounded
 * loop; each test states what the victim, the server and the attacker ended up with.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelClient, ChannelServer } from '../core/channel/index.ts';
import type { Frame } from '../core/frames.ts';
import type { Profile } from '../core/profile.ts';
import type { Direction, Layer, ProxyConnection } from '../attacks/proxy.ts';
import { ChannelTakeover, UNAUTHENTICATED_CIPHERS, type OpenedFrame } from '../attacks/kit/channel-takeover.ts';
/**
 * Self-signed certificates made by `openssl req` (P-256 for the signed channel, RSA for the rsa
 * key exchange): the takeover's own checks never look at them, the victim's verifier here is a
 * stub, and openssl makes them in milliseconds where the lab PKI takes seconds.
 */
type Cert = { certPem: string; keyPem: string };
const certs = {} as { attacker: Cert; server: Cert; serverRsa: Cert };
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-takeover-'));
  const make = (name: string, newkey: string[]): Cert => {
    const [key, crt] = [path.join(dir, `${name}.key`), path.join(dir, `${name}.crt`)];
    execFileSync('openssl', ['req', '-x509', '-nodes', ...newkey, '-subj', `/CN=${name}`, '-days', '1', '-keyout', key, '-out', crt], { stdio: 'ignore' });
    return { certPem: readFileSync(crt, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  certs.attacker = make('attacker', ec);
  certs.server = make('server', ec);
  certs.serverRsa = make('server-rsa', ['-newkey', 'rsa:2048']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Channel = Profile['channel'];
const channel = (over: Partial<Channel> = {}): Channel => ({ keyExchange: 'ecdhe', ciphers: ['aes-256-gcm'], transcriptMac: true, replayProtection: 'sequence', replayWindowMs: 30_000, ...over }) as Channel;

/** Victim ↔ takeover ↔ server, frames carried by hand. */
class Wire {
  readonly notes: string[] = [];
  readonly captured: Array<[Direction, Layer, string]> = [];
  readonly opened: OpenedFrame[] = [];
  readonly toVictim: Frame[] = [];
  readonly toServer: Frame[] = [];
  readonly victimGot: Frame[] = [];
  readonly serverGot: Frame[] = [];
  readonly conn: ProxyConnection;
  constructor(
    readonly takeover: ChannelTakeover,
    readonly victim: ChannelClient,
    readonly server: ChannelServer,
    readonly onOpened: (o: OpenedFrame) => Frame[] = (o) => [o.frame],
  ) {
    this.conn = {
      note: (t: string) => this.notes.push(t),
      injectFrame: (dir: Direction, f: Frame) => (dir === 's2c' ? this.toVictim : this.toServer).push(f),
      capture: (dir: Direction, layer: Layer, data: Buffer) => this.captured.push([dir, layer, data.toString()]),
    } as unknown as ProxyConnection;
  }
  fromVictim(f: Frame): void {
    this.toServer.push(...this.takeover.handle(this.conn, 'c2s', f, (o) => (this.opened.push(o), this.onOpened(o))));
  }
  fromServer(f: Frame): void {
    this.toVictim.push(...this.takeover.handle(this.conn, 's2c', f, (o) => (this.opened.push(o), this.onOpened(o))));
  }
  /** Delivers queued frames until none are left (bounded). */
  pump(): void {
    for (let i = 0; i < 50 && (this.toServer.length || this.toVictim.length); i++) {
      for (const f of this.toServer.splice(0)) {
        const a = this.server.handle(f);
        this.serverGot.push(...(a.deliver as Frame[]));
        for (const s of a.send) this.fromServer(s as unknown as Frame);
      }
      for (const f of this.toVictim.splice(0)) {
        const a = this.victim.handle(f);
        this.victimGot.push(...(a.deliver as Frame[]));
        for (const s of a.send) this.fromVictim(s as unknown as Frame);
      }
    }
    expect(this.toServer.length + this.toVictim.length, 'pump did not settle').toBe(0);
  }
  start(): void {
    for (const f of this.victim.start()) this.fromVictim(f as unknown as Frame);
    this.pump();
  }
}

function wire(opts: { victim?: Partial<Channel>; server?: Partial<Channel>; identity?: 'attacker' | null; preferWeak?: boolean; accept?: boolean; onOpened?: (o: OpenedFrame) => Frame[] } = {}): Wire {
  const identity = opts.identity === null ? null : certs.attacker;
  const takeover = new ChannelTakeover({ identity, preferWeakCipher: opts.preferWeak });
  const victim = new ChannelClient({ profileChannel: channel(opts.victim), verifyCertificate: () => (opts.accept === false ? { ok: false, code: 'SECCHAT_ERR_CERT_UNTRUSTED', message: 'not the lab CA' } : { ok: true }) });
  const settings = channel({ ...opts.victim, ...opts.server });
  const server = new ChannelServer({ profileChannel: settings, serverCert: settings.keyExchange === 'rsa' ? certs.serverRsa : certs.server });
  return new Wire(takeover, victim, server, opts.onOpened);
}
const dm = (text: string) => ({ type: 'dm', to: 'bob', text }) as Frame;

describe('ChannelTakeover: answering the victim and the server', () => {
  it('unsigned ECDHE: both channels come up, the attacker reads and re-seals every frame both ways', () => {
    const w = wire({ identity: null });
    expect(w.takeover.active(w.conn)).toBe(false);
    w.start();
    expect(w.victim.established && w.server.established).toBe(true);
    expect(w.takeover.active(w.conn)).toBe(true);
    expect(w.takeover.established(w.conn)).toBe(true);
    expect(w.takeover.victimCipher(w.conn)).toBe('aes-256-gcm');
    expect(w.notes).toEqual(["channel MITM: answered the victim's ch_hello (ecdhe) with the attacker's own key share, and opened its own channel to the server"]);
    w.fromVictim(w.victim.seal(dm('secret one') as never) as unknown as Frame);
    w.pump();
    expect(w.serverGot).toEqual([dm('secret one')]);
    w.fromServer(w.server.seal({ type: 'dm', from: 'bob', text: 'reply' } as never) as unknown as Frame);
    w.pump();
    expect(w.victimGot).toEqual([{ type: 'dm', from: 'bob', text: 'reply' }]);
    expect(w.opened).toEqual([
      { dir: 'c2s', frame: dm('secret one') },
      { dir: 's2c', frame: { type: 'dm', from: 'bob', text: 'reply' } },
    ]);
    expect(w.captured).toEqual([
      ['c2s', 'plaintext', JSON.stringify(dm('secret one')) + '\n'],
      ['s2c', 'plaintext', JSON.stringify({ type: 'dm', from: 'bob', text: 'reply' }) + '\n'],
    ]);
  });

  it('what onOpened returns is what the other side receives: altered, doubled or dropped', () => {
    const w = wire({ identity: null, onOpened: (o) => (o.frame.text === 'drop' ? [] : o.frame.text === 'twice' ? [o.frame, o.frame] : [{ ...o.frame, text: 'altered' }]) });
    w.start();
    for (const t of ['hello', 'drop', 'twice']) w.fromVictim(w.victim.seal(dm(t) as never) as unknown as Frame);
    w.pump();
    expect(w.serverGot).toEqual([dm('altered'), dm('twice'), dm('twice')]);
  });

  it('a signed channel: the attacker answers with its certificate, which the victim\'s own check decides', () => {
    const accepted = wire({ victim: { keyExchange: 'ecdhe-signed' } });
    accepted.start();
    expect(accepted.victim.established).toBe(true);
    // the attacker's own side takes whatever certificate the real server shows
    expect(accepted.server.established).toBe(true);
    expect(accepted.takeover.established(accepted.conn)).toBe(true);
    expect(accepted.notes[0]).toBe("channel MITM: answered the victim's ch_hello (ecdhe-signed) with the attacker's own certificate and key share, and opened its own channel to the server");
    const refused = wire({ victim: { keyExchange: 'ecdhe-signed' }, accept: false });
    refused.start();
    expect(refused.victim.established).toBe(false);
    expect(refused.victim.error?.details.channelCode).toBe('certificate_rejected');
  });

  it('a signed channel and no certificate to offer: the ch_hello is left alone and nothing is taken over', () => {
    for (const keyExchange of ['ecdhe-signed', 'rsa'] as const) {
      const w = wire({ victim: { keyExchange }, identity: null });
      w.start();
      expect(w.takeover.active(w.conn), keyExchange).toBe(false);
      expect(w.notes).toEqual([]);
      // the victim and the real server talk to each other through the attacker, which only relays
      expect(w.victim.established && w.server.established, keyExchange).toBe(true);
      expect(w.takeover.victimCipher(w.conn)).toBeNull();
      w.fromVictim(w.victim.seal(dm('sealed end to end') as never) as unknown as Frame);
      w.pump();
      expect(w.serverGot).toEqual([dm('sealed end to end')]);
      expect(w.opened).toEqual([]);
    }
  });

  it('mirrors the victim\'s settings towards the server: transcript MAC on or off, each replay protection', () => {
    for (const victim of [{ transcriptMac: false }, { replayProtection: 'window' as const }, { replayProtection: 'none' as const }, { ciphers: ['chacha20-poly1305' as const] }]) {
      const w = wire({ identity: null, victim });
      w.start();
      expect(w.server.established, JSON.stringify(victim)).toBe(true);
      const { ciphers, ...rest } = victim as Partial<Channel>;
      expect(w.server.negotiated).toMatchObject({ ...rest, ...(ciphers ? { cipher: ciphers[0] } : {}) });
      w.fromVictim(w.victim.seal(dm('x') as never) as unknown as Frame);
      w.pump();
      expect(w.serverGot, JSON.stringify(victim)).toEqual([dm('x')]);
    }
  });

  it('prefers the weakest cipher the victim offers when asked, towards the victim only', () => {
    const offer = { ciphers: ['aes-256-gcm', 'aes-128-cbc', 'null'] as Channel['ciphers'] };
    const weak = wire({ identity: null, preferWeak: true, victim: offer });
    weak.start();
    expect(weak.takeover.victimCipher(weak.conn)).toBe('null');
    expect(weak.server.negotiated?.cipher).toBe('aes-256-gcm');
    const cbcOnly = wire({ identity: null, preferWeak: true, victim: { ciphers: ['aes-256-gcm', 'aes-128-cbc'] } });
    cbcOnly.start();
    expect(cbcOnly.takeover.victimCipher(cbcOnly.conn)).toBe('aes-128-cbc');
    const plain = wire({ identity: null, victim: offer });
    plain.start();
    expect(plain.takeover.victimCipher(plain.conn)).toBe('aes-256-gcm');
    expect(UNAUTHENTICATED_CIPHERS).toEqual(['null', 'aes-128-cbc']);
    // nothing weak offered: the victim's own choice stands
    const strong = wire({ identity: null, preferWeak: true, victim: { ciphers: ['aes-256-gcm', 'chacha20-poly1305'] } });
    strong.start();
    expect(strong.takeover.victimCipher(strong.conn)).toBe('aes-256-gcm');
  });

  it("offers the real server the victim's own cipher list, in its order, even when preferring weak ciphers towards the victim", () => {
    const w = wire({ identity: null, preferWeak: true, victim: { ciphers: ['aes-256-gcm', 'aes-128-cbc', 'null'] } });
    for (const f of w.victim.start()) w.fromVictim(f as unknown as Frame);
    expect(w.takeover.active(w.conn)).toBe(true);
    // the victim side has not finished: no cipher to report yet
    expect(w.takeover.victimCipher(w.conn)).toBeNull();
    expect(w.takeover.established(w.conn)).toBe(false);
    expect(w.toServer.map((f) => [f.type, f.ciphers])).toEqual([['ch_hello', ['aes-256-gcm', 'aes-128-cbc', 'null']]]);
  });

  it('reads a crafted ch_hello leniently: unknown cipher names dropped, one name for a list, defaults for what is missing', () => {
    const crafted = (edit: (h: Record<string, unknown>) => Record<string, unknown>) => {
      const w = wire({ identity: null, victim: { transcriptMac: false } });
      const [hello] = w.victim.start() as unknown as Array<Record<string, unknown>>;
      w.fromVictim(edit({ ...hello }) as Frame);
      const towardsServer = w.toServer.map((f) => ({ ciphers: f.ciphers, replayProtection: f.replayProtection }));
      w.pump();
      return { w, towardsServer };
    };
    const unknown = crafted((h) => ({ ...h, ciphers: ['rot13', ...(h.ciphers as string[])] }));
    expect(unknown.towardsServer).toEqual([{ ciphers: ['aes-256-gcm'], replayProtection: 'sequence' }]);
    expect(unknown.w.server.negotiated?.cipher).toBe('aes-256-gcm');
    const single = crafted((h) => ({ ...h, ciphers: 'chacha20-poly1305' }));
    expect(single.towardsServer[0].ciphers).toEqual(['chacha20-poly1305']);
    const none = crafted((h) => ({ ...h, ciphers: ['rot13'] }));
    expect(none.towardsServer[0].ciphers).toEqual(['aes-256-gcm']);
    expect(none.w.server.negotiated?.cipher).toBe('aes-256-gcm');
    const noReplay = crafted((h) => {
      const { replayProtection: _gone, ...rest } = h;
      return rest;
    });
    expect(noReplay.towardsServer[0].replayProtection).toBe('sequence');
    expect(noReplay.w.server.established).toBe(true);
  });

  it('frames that are not the channel\'s pass unchanged, before and after the takeover', () => {
    const w = wire({ identity: null });
    const hi = { type: 'hello', name: 'alice' } as Frame;
    expect(w.takeover.handle(w.conn, 'c2s', hi, () => [])).toEqual([hi]);
    expect(w.takeover.handle(w.conn, 'c2s', null as unknown as Frame, () => [])).toEqual([null]);
    w.start();
    expect(w.takeover.handle(w.conn, 's2c', hi, () => [])).toEqual([hi]);
    expect(w.opened).toEqual([]);
  });

  it('a channel frame before any ch_hello, or a server-side ch_hello, is relayed untouched', () => {
    const w = wire({ identity: null });
    const stray = { type: 'ch_finished', mac: 'AA' } as Frame;
    expect(w.takeover.handle(w.conn, 'c2s', stray, () => [])).toEqual([stray]);
    const [hello] = w.victim.start();
    expect(w.takeover.handle(w.conn, 's2c', hello as unknown as Frame, () => [])).toEqual([hello]);
    expect(w.takeover.active(w.conn)).toBe(false);
  });

  it('a second ch_hello on a connection already taken over goes to the victim side, which refuses it', () => {
    const w = wire({ identity: null });
    w.start();
    const again = new ChannelClient({ profileChannel: channel() }).start()[0] as unknown as Frame;
    expect(w.takeover.handle(w.conn, 'c2s', again, () => [])).toEqual([]);
    expect(w.notes.at(-1)).toMatch(/^channel MITM: the victim side failed: /);
    expect(w.toVictim.map((f) => f.type)).toEqual(['ch_error']);
  });

  it('a failure on the server side is noted as such, and a ch_error is relayed as it is', () => {
    const w = wire({ identity: null });
    w.start();
    const bogus = { type: 'sealed', seq: 99, iv: 'AAAA', ct: 'AAAA', tag: 'AAAA' } as unknown as Frame;
    expect(w.takeover.handle(w.conn, 's2c', bogus, () => [])).toEqual([]);
    expect(w.notes.at(-1)).toMatch(/^channel MITM: the server side failed: /);
    const chError = { type: 'ch_error', code: 'bad_record_mac', message: 'x' } as Frame;
    expect(w.takeover.handle(w.conn, 'c2s', chError, () => [])).toEqual([chError]);
  });

  it('keeps each connection apart', () => {
    const w = wire({ identity: null });
    w.start();
    const other = { note: () => {}, injectFrame: () => {}, capture: () => {} } as unknown as ProxyConnection;
    // a connection that carried only ordinary frames so far
    const plainConn = { note: () => {}, injectFrame: () => {}, capture: () => {} } as unknown as ProxyConnection;
    w.takeover.handle(plainConn, 'c2s', { type: 'hello' } as Frame, () => []);
    expect(w.takeover.established(plainConn)).toBe(false);
    expect(w.takeover.victimCipher(plainConn)).toBeNull();
    expect(w.takeover.active(other)).toBe(false);
    expect(w.takeover.established(other)).toBe(false);
    expect(w.takeover.victimCipher(other)).toBeNull();
  });

  it('holds frames the victim sends before the server side is up, and releases them once it is', () => {
    const w = wire({ identity: null });
    // The victim's hello reaches the takeover; the server's answer is held back.
    for (const f of w.victim.start()) w.fromVictim(f as unknown as Frame);
    const towardsServer = w.toServer.splice(0);
    // victim ↔ attacker completes first
    for (let i = 0; i < 10 && w.toVictim.length; i++) {
      for (const f of w.toVictim.splice(0)) {
        const a = w.victim.handle(f);
        for (const s of a.send) w.fromVictim(s as unknown as Frame);
      }
    }
    expect(w.victim.established).toBe(true);
    expect(w.takeover.established(w.conn)).toBe(false);
    w.toServer.splice(0);
    w.fromVictim(w.victim.seal(dm('early') as never) as unknown as Frame);
    expect(w.toServer).toEqual([]);
    expect(w.opened).toEqual([{ dir: 'c2s', frame: dm('early') }]);
    // now the server side comes up and the held frame goes out sealed for it
    w.toServer.push(...towardsServer);
    w.pump();
    expect(w.takeover.established(w.conn)).toBe(true);
    expect(w.serverGot).toEqual([dm('early')]);
  });
});
