/**
 * Random bytes from web crypto (`crypto.getRandomValues`, a CSPRNG on every runtime we support).
 */
export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  crypto.getRandomValues(out);
  return out;
}

/** Where a client's masking keys come from: four bytes into `target` at `at`, returned packed, first byte highest. */
export interface MaskingKeys {
  next(target: Uint8Array, at: number): number;
}

/**
 * An `io` that carries a `MaskingKeys` under this symbol has its client frames masked with those
 * keys instead of fresh random ones. Only the testing kit (`wsdriver/testing`) sets it, so that
 * expected bytes can be written out; RFC 6455 §10.3 forbids predictable keys on a real connection.
 * A registered symbol, so the ES module and CommonJS builds agree on it.
 */
export const MASKING_KEYS: unique symbol = Symbol.for("wsdriver.testing.maskingKeys");

/** The first pool a client draws keys from: 16 keys, for a connection that sends a few messages. */
const FIRST_POOL = 64;
/**
 * The largest pool, 1,024 keys. Each `getRandomValues` call has a fixed cost that a 1 KiB pool
 * (256 keys) still paid noticeably: client binary() of 1 KiB went from 1.53 to 1.71 M messages per
 * second with 4 KiB pools (two A/B runs in one process, medians of 15 rounds).
 */
const LARGEST_POOL = 4096;

/**
 * Masking keys for a client's frames. RFC 6455 §5.3 asks for a fresh key per frame "derived from a
 * strong source of entropy". One `getRandomValues` call per frame costs more than framing a small
 * message, so each client draws its keys from its own pool, refilled with fresh random bytes when
 * used up: every key is still fresh and unpredictable, and no state is shared between connections.
 * The pool doubles on each refill up to 4 KiB, so a client that sends little holds little.
 */
export class MaskingKeySource implements MaskingKeys {
  private pool: Uint8Array = new Uint8Array(0);
  private offset = 0;

  /**
   * Copies four fresh random bytes into `target` at `at`, and returns them packed into one number,
   * first byte highest (as `packKey` in `mask.ts` packs a key).
   */
  next(target: Uint8Array, at: number): number {
    if (this.offset + 4 > this.pool.length) {
      this.pool = randomBytes(Math.min(Math.max(this.pool.length * 2, FIRST_POOL), LARGEST_POOL));
      this.offset = 0;
    }
    const pool = this.pool, i = this.offset;
    const b0 = pool[i], b1 = pool[i + 1], b2 = pool[i + 2], b3 = pool[i + 3];
    target[at] = b0;
    target[at + 1] = b1;
    target[at + 2] = b2;
    target[at + 3] = b3;
    this.offset = i + 4;
    return ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
  }
}
