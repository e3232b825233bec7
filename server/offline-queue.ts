/**
 * Direct messages to users who are offline: stored in the accounts database (SQLite, the same
 * file as the users table, so one backup holds both) and handed over, oldest first, at the
 * recipient's next login. See docs/protocol.md "Delivery guarantees".
 *
 * A stored message is deleted only after the connection reports its bytes written (the socket's
 * write callback); if that connection breaks first, the message stays stored and is delivered
 * at the following login. So the server never drops a stored DM, and in a rare crash window may
 * deliver one twice. Messages handed to a connection and not yet confirmed are held "in flight"
 * so a second login cannot be sent the same rows at the same time.
 */
import type Database from 'better-sqlite3';

/** One stored direct message. */
export interface StoredDm {
  /** Row id: increases with storage order, so it is also the delivery order. */
  id: number;
  recipient: string;
  sender: string;
  text: string;
  /** When the sender sent it, ms since the epoch. */
  ts: number;
}

/**
 * The offline mailbox table.
 * @param db an open better-sqlite3 database (the UserStore's); the table is created if missing
 * @param maxPerRecipient most messages stored for one recipient (integer >= 1); past it, `store` refuses
 * @throws RangeError for a bad `maxPerRecipient`
 */
export class OfflineQueue {
  private readonly db: Database.Database;
  readonly maxPerRecipient: number;
  private readonly inFlight = new Set<number>();
  private readonly insert: Database.Statement;
  private readonly countFor: Database.Statement;
  private readonly pendingFor: Database.Statement;
  private readonly remove: Database.Statement;

  constructor(db: Database.Database, maxPerRecipient: number) {
    if (!Number.isInteger(maxPerRecipient) || maxPerRecipient < 1) throw new RangeError(`OfflineQueue: maxPerRecipient must be an integer >= 1 (got ${maxPerRecipient})`);
    this.db = db;
    this.maxPerRecipient = maxPerRecipient;
    // AUTOINCREMENT: ids never reused, so "ORDER BY id" is storage order even after deletions.
    db.exec(`CREATE TABLE IF NOT EXISTS offline_messages (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      recipient TEXT NOT NULL,
      sender TEXT NOT NULL,
      text TEXT NOT NULL,
      ts INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS offline_messages_by_recipient ON offline_messages (recipient, id);`);
    this.insert = db.prepare('INSERT INTO offline_messages (recipient, sender, text, ts) VALUES (?, ?, ?, ?)');
    this.countFor = db.prepare('SELECT COUNT(*) AS n FROM offline_messages WHERE recipient = ?');
    this.pendingFor = db.prepare('SELECT id, recipient, sender, text, ts FROM offline_messages WHERE recipient = ? ORDER BY id');
    this.remove = db.prepare('DELETE FROM offline_messages WHERE id = ?');
  }

  /**
   * Stores a message for an offline recipient (one transaction: the count check and the insert).
   * @returns false when the recipient's mailbox already holds `maxPerRecipient` messages
   */
  store(recipient: string, sender: string, text: string, ts: number): boolean {
    return this.db.transaction(() => {
      if ((this.countFor.get(recipient) as { n: number }).n >= this.maxPerRecipient) return false;
      this.insert.run(recipient, sender, text, ts);
      return true;
    })();
  }

  /** Messages waiting for `recipient`, oldest first (including those in flight). */
  pending(recipient: string): StoredDm[] {
    return this.pendingFor.all(recipient) as StoredDm[];
  }

  /** Messages stored for `recipient`. */
  count(recipient: string): number {
    return (this.countFor.get(recipient) as { n: number }).n;
  }

  /**
   * Takes the recipient's messages for delivery, oldest first, skipping any already in flight.
   * For each one the caller sends it and calls `done(id, written)` once the connection says
   * whether its bytes were written; written messages are deleted, the others returned to the queue.
   */
  take(recipient: string): StoredDm[] {
    const rows = this.pending(recipient).filter((r) => !this.inFlight.has(r.id));
    for (const r of rows) this.inFlight.add(r.id);
    return rows;
  }

  /** Settles one message from {@link take}. Safe after the database closed (then it stays stored). */
  done(id: number, written: boolean): void {
    this.inFlight.delete(id);
    if (written && this.db.open) this.remove.run(id);
  }
}
