/**
 * Random bytes from web crypto (`crypto.getRandomValues`, a CSPRNG on every runtime we support).
 */
export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  crypto.getRandomValues(out);
  return out;
}

/**
 * Masking keys for a client's frames. RFC 6455 §5.3 asks for a fresh key per frame "derived from a
 * strong source of entropy". One `getRandomValues` call per frame costs more than framing a small
 * message, so each client draws its keys from its own pool refilled 1 KiB at a time: every key is
 * still fresh and unpredictable, and no state is shared between connections.
 */
export class MaskingKeySource {
  private pool: Uint8Array = new Uint8Array(0);
  private offset = 0;

  /** Copies four fresh random bytes into `target` at `at`. */
  next(target: Uint8Array, at: number): void {
    if (this.offset + 4 > this.pool.length) {
      this.pool = randomBytes(1024);
      this.offset = 0;
    }
    const pool = this.pool, i = this.offset;
    target[at] = pool[i];
    target[at + 1] = pool[i + 1];
    target[at + 2] = pool[i + 2];
    target[at + 3] = pool[i + 3];
    this.offset = i + 4;
  }
}
