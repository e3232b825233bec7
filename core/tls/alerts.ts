/**
 * TLS alerts (RFC 5246 §7.2, RFC 8446 §6): the description and level registries, parsing a
 * plaintext alert, and building one (e.g. inappropriate_fallback, RFC 7507 §2).
 */
import { ProtocolError } from '../errors.ts';
import { encodeRecord } from './record-layer.ts';
import { CONTENT_TYPE } from './registry.ts';

/** Alert descriptions (RFC 8446 §6, RFC 5246 §7.2, RFC 7507 for inappropriate_fallback). */
export const ALERT_DESCRIPTION = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  no_renegotiation: 100,
  missing_extension: 109,
  unsupported_extension: 110,
  unrecognized_name: 112,
  bad_certificate_status_response: 113,
  unknown_psk_identity: 115,
  certificate_required: 116,
  no_application_protocol: 120,
} as const;
const ALERT_NAMES = new Map<number, string>(Object.entries(ALERT_DESCRIPTION).map(([k, v]) => [v, k]));

/** Alert levels (RFC 5246 §7.2). */
export const ALERT_LEVEL = { warning: 1, fatal: 2 } as const;

/** A decoded alert (RFC 5246 §7.2). */
export interface TlsAlert {
  level: number;
  description: number;
  /** e.g. 'inappropriate_fallback', or the number as a string when unknown. */
  name: string;
}

/** Name of an alert description ('inappropriate_fallback' for 86). */
export function alertName(description: number): string {
  return ALERT_NAMES.get(description) ?? String(description);
}

/**
 * Decode the fragment of a plaintext alert record.
 * @throws ProtocolError unless it is exactly 2 bytes.
 */
export function parseAlert(fragment: Buffer): TlsAlert {
  if (fragment.length !== 2) throw new ProtocolError(`alert of ${fragment.length} bytes, expected 2`, { field: 'alert' });
  return { level: fragment[0]!, description: fragment[1]!, name: alertName(fragment[1]!) };
}

/**
 * Build a plaintext alert record.
 * @param description e.g. ALERT_DESCRIPTION.inappropriate_fallback
 * @param level       ALERT_LEVEL.fatal (default) or .warning
 * @param version     legacy_record_version, default 0x0303
 */
export function buildAlertRecord(description: number, level: number = ALERT_LEVEL.fatal, version = 0x0303): Buffer {
  return encodeRecord(CONTENT_TYPE.alert, version, Buffer.from([level, description]));
}
