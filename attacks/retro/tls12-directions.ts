/**
 * One direction of a recorded TLS 1.0–1.2 connection, for retro-decrypt: the handshake messages
 * sent in the clear before ChangeCipherSpec (RFC 5246 §7.1, §7.3), the protected records after it
 * opened with the derived keys (core/tls/record-protection.ts), and the Finished check (§7.4.9).
 * Pure; what goes wrong is written to `notes`, never thrown.
 * @module
 */
import { alertName } from '../../core/tls/alerts.ts';
import { HandshakeReassembler, type HandshakeMessage } from '../../core/tls/handshake-reassembly.ts';
import { finishedVerifyData, handshakeHash, type PrfKind } from '../../core/tls/prf.ts';
import { readAllRecords, type TlsRecord } from '../../core/tls/record-layer.ts';
import { CONTENT_TYPE, HANDSHAKE_TYPE } from '../../core/tls/registry.ts';
import type { RecordDecryptor } from '../../core/tls/record-protection.ts';

/** The handshake of one direction in the clear, and what followed its ChangeCipherSpec. */
export interface DirectionScan {
  /** Plaintext handshake messages before ChangeCipherSpec. */
  handshake: HandshakeMessage[];
  sawChangeCipherSpec: boolean;
  /** Records after ChangeCipherSpec (protected), in order. */
  protectedRecords: TlsRecord[];
  /** Plaintext alerts seen before ChangeCipherSpec. */
  alerts: string[];
}

/** Reads one direction's recorded bytes into records: the clear handshake, then what is protected. */
export function scanDirection(stream: Buffer, who: 'client' | 'server', notes: string[]): DirectionScan {
  const { records, trailing } = readAllRecords(stream);
  if (trailing.length > 0) notes.push(`${who} stream ends with ${trailing.length} bytes of an incomplete record (recording truncated)`);
  const scan: DirectionScan = { handshake: [], sawChangeCipherSpec: false, protectedRecords: [], alerts: [] };
  const hs = new HandshakeReassembler();
  for (const rec of records) {
    if (scan.sawChangeCipherSpec) {
      scan.protectedRecords.push(rec);
      continue;
    }
    switch (rec.type) {
      case CONTENT_TYPE.handshake:
        hs.push(rec.fragment);
        for (let m = hs.next(); m; m = hs.next()) scan.handshake.push(m);
        break;
      case CONTENT_TYPE.change_cipher_spec:
        scan.sawChangeCipherSpec = true;
        break;
      case CONTENT_TYPE.alert:
        scan.alerts.push(rec.fragment.length === 2 ? alertName(rec.fragment[1]!) : 'malformed alert');
        break;
      default:
        // TLS 1.3 protects everything after ServerHello as application_data; the caller stops
        // at the ServerHello for 1.3, so this only matters for a garbled 1.2 stream.
        scan.protectedRecords.push(rec);
    }
  }
  return scan;
}

/** One direction's protected records, opened. */
export interface OpenedDirection {
  finished?: HandshakeMessage;
  plaintext: Buffer;
  recordsOpened: number;
  error?: string;
}

/** Decrypt one direction's protected records: Finished first, then application data and alerts. */
export function openDirection(who: 'client' | 'server', scan: DirectionScan, dec: RecordDecryptor, notes: string[]): OpenedDirection {
  const out: OpenedDirection = { plaintext: Buffer.alloc(0), recordsOpened: 0 };
  if (!scan.sawChangeCipherSpec) {
    notes.push(`${who} never sent ChangeCipherSpec: nothing encrypted to open`);
    return out;
  }
  const data: Buffer[] = [];
  const hs = new HandshakeReassembler();
  let appRecords = 0;
  for (const rec of scan.protectedRecords) {
    const r = dec.unprotect(rec.type, rec.version, rec.fragment);
    if (!r.ok) {
      out.error = r.reason;
      notes.push(`${who} record at offset ${rec.offset} (type ${rec.type}) did not decrypt: ${r.reason}; stopping this direction`);
      break;
    }
    out.recordsOpened++;
    if (rec.type === CONTENT_TYPE.application_data) {
      data.push(r.plaintext);
      appRecords++;
    } else if (rec.type === CONTENT_TYPE.handshake) {
      hs.push(r.plaintext);
      for (let m = hs.next(); m; m = hs.next()) {
        if (!out.finished && m.msgType === HANDSHAKE_TYPE.finished) out.finished = m;
        else notes.push(`${who} sent an encrypted handshake message of type ${m.msgType} after Finished (renegotiation is not followed)`);
      }
    } else if (rec.type === CONTENT_TYPE.alert) {
      notes.push(`${who} sent encrypted alert ${r.plaintext.length === 2 ? alertName(r.plaintext[1]!) : '(malformed)'}`);
    }
  }
  out.plaintext = Buffer.concat(data);
  notes.push(`${who}: ${appRecords} application_data records, ${out.plaintext.length} bytes`);
  return out;
}

/** Whether a Finished message carries the verify_data the master secret and transcript give (RFC 5246 §7.4.9). */
export function checkFinished(
  who: 'client' | 'server',
  finished: HandshakeMessage | undefined,
  kind: PrfKind,
  master: Buffer,
  transcript: Buffer,
  notes: string[],
): boolean {
  if (!finished) return false;
  const want = finishedVerifyData(kind, master, who, handshakeHash(kind, transcript));
  const ok = finished.body.equals(want);
  notes.push(`${who} Finished verify_data ${ok ? 'matches' : 'does NOT match'}`);
  return ok;
}
