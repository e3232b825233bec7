/**
 * The chat protocol, server side, apart from network I/O: a {@link ChatHub} holds who is online
 * and routes messages; a {@link ChatSession} reacts to one connection's frames. The network
 * adapter (server/chat-server.ts) feeds decoded frames in and delivers what sessions send out.
 */
import type { Frame } from '../core/frames.ts';
import { PROTOCOL_ERRORS, errorFrame, stringField } from '../core/protocol.ts';
import { normalizeUsername } from '../core/usernames.ts';
import { UnusableRecordError, type UserStore } from './user-store.ts';
import type { ChallengeAuth } from './challenge-auth.ts';
import type { OfflineQueue, StoredDm } from './offline-queue.ts';
import { AccountDbBusyError, AccountStore } from './account-store.ts';
import { LoginThrottle, type ThrottleRefusal } from './rate-limit.ts';

/** What a session needs from its connection. */
export interface ConnectionPort {
  /**
   * Queues a frame to the peer. `onWritten`, when given, is called exactly once: true when the
   * frame's bytes were written to the network, false when they never will be (connection gone).
   * The same frame object may be passed to many ports (a broadcast) and must not be mutated.
   */
  send(frame: Frame, onWritten?: (written: boolean) => void): void;
  /** Sends nothing more and closes (after flushing what was queued). */
  close(reason: string): void;
  /** "address:port" of the peer, for logs. */
  readonly peer: string;
  /** The key per-address limits count under (server/connection-limits.ts addressKey); default `peer`. */
  readonly address?: string;
}

/** Server limits relevant to the protocol logic (see server/chat-server.ts for the network ones). */
export interface SessionLimits {
  /** Longest chat message, in UTF-16 code units. */
  maxMessageChars: number;
  /** Shortest password accepted at registration, in characters. */
  minPasswordChars: number;
  /** Longest username after normalization, in characters (core/usernames.ts). */
  maxUsernameChars: number;
  /** Direct messages stored for one offline user before further ones are refused (mailbox_full). */
  maxOfflineMessagesPerUser: number;
  /** Failed logins per account per minute before it is refused with rate_limited. */
  maxLoginAttemptsPerAccountPerMinute: number;
  /** Login and register attempts per client address per minute before rate_limited. */
  maxLoginAttemptsPerIpPerMinute: number;
  /** How long one account-database operation waits for another process's lock before accounts_busy, in ms (default 5,000). */
  accountDbLockWaitMs?: number;
}

/**
 * Who is online and how to reach them. One login per username at a time.
 */
export class ChatHub {
  private readonly online = new Map<string, ChatSession>();
  readonly users: UserStore;
  readonly limits: SessionLimits;
  /** Challenge–response login (auth.method: challenge), or null when logins carry the password. */
  readonly challenges: ChallengeAuth | null;
  /** Direct messages waiting for offline users (in the accounts database). */
  readonly offline: OfflineQueue;
  /** Asynchronous access to accounts and offline messages; never blocks on the database lock. */
  readonly accounts: AccountStore;
  /** Login attempt limits per account and per address. */
  readonly throttle: LoginThrottle;
  private shuttingDown = false;
  /** Called for notable events (login, logout); the adapter logs them. */
  onEvent: (event: string, detail: Record<string, unknown>) => void = () => {};

  constructor(users: UserStore, limits: SessionLimits, challenges: ChallengeAuth | null = null) {
    this.users = users;
    this.limits = limits;
    this.challenges = challenges;
    this.accounts = new AccountStore(users, { maxOfflineMessagesPerUser: limits.maxOfflineMessagesPerUser, lockWaitMs: limits.accountDbLockWaitMs });
    this.accounts.onBackgroundError = (op, err) => this.onEvent('accounts_busy', { op, waitedMs: (err as AccountDbBusyError).waitedMs ?? null });
    this.offline = this.accounts.offline;
    this.throttle = new LoginThrottle(limits);
  }

  /** Usernames online now, sorted. */
  onlineUsers(): string[] {
    return [...this.online.keys()].sort();
  }

  isOnline(username: string): boolean {
    return this.online.has(username);
  }

  /** Registers a logged-in session; false when the name is already online. */
  join(session: ChatSession): boolean {
    const name = session.username!;
    if (this.online.has(name)) return false;
    this.online.set(name, session);
    this.broadcast({ type: 'joined', username: name }, session);
    this.onEvent('login', { username: name, peer: session.port.peer });
    return true;
  }

  leave(session: ChatSession): void {
    const name = session.username;
    if (!name || this.online.get(name) !== session) return;
    this.online.delete(name);
    // At shutdown everyone is leaving: n "left" frames to each of n users would only delay the notice.
    if (!this.shuttingDown) this.broadcast({ type: 'left', username: name }, session);
    this.onEvent('logout', { username: name, peer: session.port.peer });
  }

  /** Sends a frame to every online session except `except`. */
  broadcast(frame: Frame, except?: ChatSession): void {
    for (const s of this.online.values()) if (s !== except) s.port.send(frame);
  }

  /**
   * Hands `username` any stored messages not yet in flight, if they are online (a dm stored while
   * their login was reading the mailbox). A locked database leaves them for the next login.
   */
  redeliverStored(username: string): void {
    if (!this.online.has(username)) return;
    this.accounts.takeOffline(username).then(
      (rows) => {
        const s = this.online.get(username);
        if (s) s.sendStored(rows);
        else for (const m of rows) this.accounts.doneOffline(m.id, false);
      },
      (err) => this.onEvent('accounts_busy', { op: 'offline take', waitedMs: (err as AccountDbBusyError).waitedMs ?? null }),
    );
  }

  /** Delivers a frame to one user; false when they are not online. */
  deliver(username: string, frame: Frame): boolean {
    const s = this.online.get(username);
    if (!s) return false;
    s.port.send(frame);
    return true;
  }

  /** Sends `frame` to everyone online and closes them (server shutdown). */
  closeAll(frame: Frame, reason: string): void {
    this.shuttingDown = true;
    for (const s of [...this.online.values()]) {
      s.port.send(frame);
      s.port.close(reason);
    }
  }
}

/**
 * One connection's protocol state: logged out → logged in → closed.
 * Requests may carry an `id`; replies echo it as `re`.
 */
export class ChatSession {
  username: string | null = null;
  readonly port: ConnectionPort;
  private readonly hub: ChatHub;
  private closed = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(hub: ChatHub, port: ConnectionPort) {
    this.hub = hub;
    this.port = port;
  }

  /**
   * Handles one decoded frame. Frames are processed strictly in order (login hashing is async,
   * and a message sent right after `login` must not overtake it).
   * @returns a promise that settles when this frame (and those before it) were handled; never rejects
   */
  handle(frame: Frame): Promise<void> {
    this.queue = this.queue.then(() => this.dispatch(frame)).catch((err) => {
      if (err instanceof AccountDbBusyError) {
        // Another process holds the database lock: a clear, retryable answer, never internal_error.
        this.port.send({ ...errorFrame(PROTOCOL_ERRORS.accountsBusy, `the account database is busy (locked by another process for over ${err.waitedMs} ms); nothing was changed, try again`, frame.id), retryAfterMs: 1000 });
        this.hub.onEvent('accounts_busy', { peer: this.port.peer, op: err.op, waitedMs: err.waitedMs });
        return;
      }
      this.port.send(errorFrame(PROTOCOL_ERRORS.internal, 'internal error', frame.id));
      this.hub.onEvent('internal_error', { peer: this.port.peer, error: String((err as Error)?.stack ?? err) });
    });
    return this.queue;
  }

  /** The connection ended: leave the room. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.leave(this);
  }

  private async dispatch(frame: Frame): Promise<void> {
    if (this.closed) return;
    const id = frame.id;
    switch (frame.type) {
      case 'register':
        return this.register(frame, id);
      case 'login':
        return this.login(frame, id);
      case 'auth_challenge':
        return this.authChallenge(frame, id);
      case 'quit':
        this.port.send({ type: 'bye', re: id });
        this.end();
        this.port.close('quit');
        return;
      case 'ping': // keepalive: resets the server's idle timer (see client/keepalive.ts)
        this.port.send({ type: 'pong', re: id });
        return;
    }
    if (!['msg', 'dm', 'users'].includes(frame.type)) {
      this.port.send(errorFrame(PROTOCOL_ERRORS.unknownType, `unknown frame type "${frame.type}"`, id));
      return;
    }
    if (!this.username) {
      this.port.send(errorFrame(PROTOCOL_ERRORS.notLoggedIn, `log in before "${frame.type}"`, id));
      return;
    }
    switch (frame.type) {
      case 'users':
        this.port.send({ type: 'users', users: this.hub.onlineUsers(), re: id });
        return;
      case 'msg': {
        const text = this.checkText(frame, id);
        if (text === null) return;
        this.hub.broadcast({ type: 'msg', from: this.username, text, ts: Date.now() }, this);
        this.port.send({ type: 'ok', re: id });
        return;
      }
      case 'dm': {
        const text = this.checkText(frame, id);
        if (text === null) return;
        const to = normalizeUsername(stringField(frame, 'to') ?? '', { maxChars: this.hub.limits.maxUsernameChars });
        if (!to.ok) {
          this.port.send(errorFrame(PROTOCOL_ERRORS.badRequest, `dm needs a valid "to": ${to.error}`, id));
          return;
        }
        const ts = Date.now();
        const live = { type: 'dm', from: this.username, to: to.username, text, ts };
        if (this.hub.deliver(to.username, live)) return void this.port.send({ type: 'ok', re: id });
        // Offline: keep it for their next login (server/offline-queue.ts).
        const stored = await this.hub.accounts.storeOffline(to.username, this.username, text, ts);
        if (stored === 'unknown_user') this.port.send(errorFrame(PROTOCOL_ERRORS.unknownUser, `there is no user ${to.username}`, id));
        else if (stored === 'mailbox_full') this.port.send(errorFrame(PROTOCOL_ERRORS.mailboxFull, `${to.username} is offline and has ${this.hub.limits.maxOfflineMessagesPerUser} messages waiting`, id));
        else {
          this.port.send({ type: 'ok', re: id, stored: true });
          // They logged in while it was being stored (after their login took the mailbox): hand it over now.
          this.hub.redeliverStored(to.username);
        }
        return;
      }
    }
  }

  private checkText(frame: Frame, id: unknown): string | null {
    const text = stringField(frame, 'text');
    if (text === null) {
      this.port.send(errorFrame(PROTOCOL_ERRORS.badRequest, `"${frame.type}" needs a string "text"`, id));
      return null;
    }
    if (text.length > this.hub.limits.maxMessageChars) {
      this.port.send(errorFrame(PROTOCOL_ERRORS.messageTooLong, `message of ${text.length} characters exceeds ${this.hub.limits.maxMessageChars}`, id));
      return null;
    }
    return text;
  }

  private credentials(frame: Frame, id: unknown): { username: string; password: string } | null {
    const name = normalizeUsername(stringField(frame, 'username') ?? '', { maxChars: this.hub.limits.maxUsernameChars });
    const password = stringField(frame, 'password');
    if (!name.ok) {
      this.port.send(errorFrame(PROTOCOL_ERRORS.invalidUsername, name.error, id));
      return null;
    }
    if (password === null || password.length === 0) {
      this.port.send(errorFrame(PROTOCOL_ERRORS.badRequest, `"${frame.type}" needs a string "password"`, id));
      return null;
    }
    return { username: name.username, password };
  }

  private async register(frame: Frame, id: unknown): Promise<void> {
    const c = this.credentials(frame, id);
    if (!c) return;
    if (c.password.length < this.hub.limits.minPasswordChars) {
      this.hub.onEvent('register_refused', { username: c.username, peer: this.port.peer, reason: `password shorter than ${this.hub.limits.minPasswordChars} characters` });
      this.port.send(errorFrame(PROTOCOL_ERRORS.invalidPassword, `password must have at least ${this.hub.limits.minPasswordChars} characters`, id));
      return;
    }
    const refusal = this.hub.users.passwordRefusal(c.password);
    if (refusal) {
      this.hub.onEvent('register_refused', { username: c.username, peer: this.port.peer, reason: refusal });
      this.port.send(errorFrame(PROTOCOL_ERRORS.invalidPassword, refusal, id));
      return;
    }
    if (this.throttled(null, id, c.username)) return;
    const created = await this.hub.accounts.create(c.username, c.password);
    if (!created) this.hub.onEvent('register_refused', { username: c.username, peer: this.port.peer, reason: 'username taken' });
    this.port.send(created ? { type: 'ok', re: id, username: c.username } : errorFrame(PROTOCOL_ERRORS.usernameTaken, `username ${c.username} is taken`, id));
  }

  private async login(frame: Frame, id: unknown): Promise<void> {
    if (this.username) {
      this.port.send(errorFrame(PROTOCOL_ERRORS.alreadyLoggedIn, `already logged in as ${this.username}`, id));
      return;
    }
    // auth.method decides what a login carries: a challenge proof (server/challenge-auth.ts) or the
    // password. Each method refuses the other's login, so a client cannot pick the weaker one.
    // Both pass the login throttle before any hashing.
    let c: { username: string };
    if (this.hub.challenges) {
      const claimed = normalizeUsername(stringField(frame, 'username') ?? '');
      if (this.throttled(claimed.ok ? claimed.username : null, id)) return;
      const r = await this.hub.challenges.login(this, frame);
      if (!r.ok) {
        if (r.code === PROTOCOL_ERRORS.badCredentials && claimed.ok) {
          this.hub.throttle.failed(claimed.username);
          this.loginFailed(claimed.username, 'wrong proof');
        }
        this.port.send(errorFrame(r.code, r.message, id));
        return;
      }
      c = r;
    } else {
      if (frame.proof !== undefined) {
        this.port.send(errorFrame(PROTOCOL_ERRORS.badRequest, 'this server takes password logins (auth: password), not challenge proofs', id));
        return;
      }
      const pw = this.credentials(frame, id);
      if (!pw) return;
      if (this.throttled(pw.username, id)) return;
      let ok: boolean;
      try {
        ok = await this.hub.accounts.check(pw.username, pw.password);
      } catch (err) {
        // A stored row this server cannot check (e.g. scrypt parameters over its memory bound): say so.
        if (!(err instanceof UnusableRecordError)) throw err;
        this.port.send(errorFrame(PROTOCOL_ERRORS.internal, err.message, id));
        return;
      }
      if (!ok) {
        this.hub.throttle.failed(pw.username);
        this.loginFailed(pw.username, 'wrong username or password');
        this.port.send(errorFrame(PROTOCOL_ERRORS.badCredentials, 'wrong username or password', id));
        return;
      }
      c = pw;
    }
    this.hub.throttle.succeeded(c.username);
    if (this.closed) return;
    if (this.hub.isOnline(c.username)) {
      this.port.send(errorFrame(PROTOCOL_ERRORS.alreadyLoggedIn, `${c.username} is already logged in elsewhere`, id));
      return;
    }
    // The mailbox is read before joining (it may wait on the database lock), then join, the ok
    // and the stored messages leave in one tick: no live dm can overtake the stored ones.
    const stored = await this.hub.accounts.takeOffline(c.username);
    this.username = c.username;
    if (this.closed || !this.hub.join(this)) {
      this.username = null;
      for (const m of stored) this.hub.accounts.doneOffline(m.id, false);
      if (!this.closed) this.port.send(errorFrame(PROTOCOL_ERRORS.alreadyLoggedIn, `${c.username} is already logged in elsewhere`, id));
      return;
    }
    this.port.send({ type: 'ok', re: id, username: c.username, users: this.hub.onlineUsers() });
    this.sendStored(stored);
  }

  /** Sends stored direct messages, oldest first; each is deleted once written. */
  sendStored(stored: readonly StoredDm[]): void {
    const { accounts } = this.hub;
    for (const m of stored) {
      this.port.send({ type: 'dm', from: m.sender, to: m.recipient, text: m.text, ts: m.ts, offline: true }, (written) => accounts.doneOffline(m.id, written));
    }
  }

  /**
   * Audit log of a failed login (never the password): `login_failed`, and `lockout` when this
   * failure fills the account's window (later attempts get rate_limited until it slides).
   */
  private loginFailed(username: string, reason: string): void {
    this.hub.onEvent('login_failed', { username, peer: this.port.peer, reason });
    const lockedForMs = this.hub.throttle.lockedForMs(username);
    if (lockedForMs > 0) {
      this.hub.onEvent('lockout', { username, peer: this.port.peer, failures: this.hub.limits.maxLoginAttemptsPerAccountPerMinute, retryAfterMs: lockedForMs });
    }
  }

  /**
   * Applies the login throttle before a password is hashed; sends rate_limited when refused.
   * @param account the canonical username of a login, or null for a registration
   * @param registering the username a registration asks for, for the log
   * @returns true when the attempt was refused
   */
  private throttled(account: string | null, id: unknown, registering?: string): boolean {
    const refusal: ThrottleRefusal | null = this.hub.throttle.admit(this.port.address ?? this.port.peer, account);
    if (!refusal) return false;
    const what = refusal.scope === 'account' ? `failed logins for ${account}` : 'login attempts from your address';
    const secs = Math.ceil(refusal.retryAfterMs / 1000);
    this.port.send({ ...errorFrame(PROTOCOL_ERRORS.rateLimited, `too many ${what}; try again in ${secs} s`, id), scope: refusal.scope, retryAfterMs: refusal.retryAfterMs });
    this.hub.onEvent('rate_limited', { username: account ?? registering ?? null, peer: this.port.peer, scope: refusal.scope, account, attempt: account === null ? 'register' : 'login', retryAfterMs: refusal.retryAfterMs });
    return true;
  }

  /** `auth_challenge`: the first step of a challenge–response login (server/challenge-auth.ts). */
  private async authChallenge(frame: Frame, id: unknown): Promise<void> {
    if (!this.hub.challenges) {
      this.port.send(errorFrame(PROTOCOL_ERRORS.badRequest, 'this server takes password logins (auth: password); it issues no challenges', id));
      return;
    }
    if (this.username) {
      this.port.send(errorFrame(PROTOCOL_ERRORS.alreadyLoggedIn, `already logged in as ${this.username}`, id));
      return;
    }
    const r = await this.hub.challenges.issue(this, frame);
    this.port.send(r.ok ? { ...r.frame, re: id } : errorFrame(r.code, r.message, id));
  }
}
