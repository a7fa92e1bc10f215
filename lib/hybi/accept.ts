/**
 * The `Sec-WebSocket-Accept` value of RFC 6455 §4.2.2: base64 of the SHA-1 of the key and the GUID.
 */
import { base64Encode } from "../util/base64.js";
import { latin1Encode } from "../util/bytes.js";
import { sha1 } from "../util/sha1.js";

export const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export function acceptKey(key: string): string {
  return base64Encode(sha1(latin1Encode(key + WEBSOCKET_GUID)));
}
