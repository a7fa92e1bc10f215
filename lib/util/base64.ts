/**
 * Base64 (RFC 4648 §4) over `btoa`/`atob`, which Node, Deno, Bun and browsers all provide.
 */
import { latin1Decode, latin1Encode } from "./bytes.js";

export function base64Encode(bytes: Uint8Array): string {
  return btoa(latin1Decode(bytes));
}

/** Decodes strict base64; returns `null` for anything that is not (wrong alphabet, bad padding). */
export function base64Decode(text: string): Uint8Array | null {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return null;
  try {
    return latin1Encode(atob(text));
  } catch {
    return null;
  }
}
