/**
 * Close status codes, RFC 6455 §7.4.
 */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNACCEPTABLE: 1003,
  NO_STATUS: 1005,
  ABNORMAL: 1006,
  INVALID_DATA: 1007,
  POLICY_VIOLATION: 1008,
  TOO_LARGE: 1009,
  EXTENSION_REQUIRED: 1010,
  UNEXPECTED_CONDITION: 1011,
  TLS_FAILURE: 1015,
} as const;

/**
 * Whether a peer may put `code` in a close frame (RFC 6455 §7.4.1, §7.4.2). 1004 is reserved,
 * 1005, 1006 and 1015 are for reporting only and "MUST NOT be set as a status code in a Close
 * control frame". 1016–2999 are reserved for future revisions of the RFC. 3000–4999 belong to
 * libraries, frameworks and applications. Everything below 1000 or from 5000 up is invalid.
 * 1012–1014 were registered with IANA after the RFC (service restart, try again later, bad
 * gateway) and are accepted as ws and browsers do. A code is a 16-bit integer on the wire, so
 * anything else (NaN, 1004.5) is invalid: it would go out truncated (0, the reserved 1004).
 */
export function isValidCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  if (code < 1000 || code > 1014) return false;
  return code !== 1004 && code !== 1005 && code !== 1006;
}
