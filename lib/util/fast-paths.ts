/**
 * The seam through which a runtime may lend the core faster primitives than web-standard APIs
 * allow, or pick the faster of two web-standard ways where runtimes differ: native masking
 * (RFC 6455 §5.3), uninitialised memory, UTF-8 decoding, UTF-8 checks that decode nothing. The
 * core works without any of them (its pure TypeScript paths in `mask.ts`, `new Uint8Array` and the
 * fatal `TextDecoder` stay the fallback and are tested), and a runtime's entry installs them once
 * at load time: on Node, `lib/node/fast-paths.ts` (bufferutil when the user installed it,
 * `Buffer.allocUnsafeSlow`, `buffer.isUtf8`); on Deno, `lib/deno/fast-paths.ts` (decoding by
 * replacement).
 *
 * This is the core's one piece of process-wide state. It holds functions only, never bytes of a
 * connection, and every primitive must give the same result as the pure path it replaces.
 */

export interface FastPaths {
  /**
   * XORs `data` in place with the four bytes of `key`, key byte 0 on `data[0]` (bufferutil's
   * `unmask`).
   */
  unmask: ((data: Uint8Array, key: Uint8Array) => void) | null;
  /**
   * Writes `source[0..length)` XOR the key into `target` from `at`, key byte 0 on `source[0]`
   * (bufferutil's `mask`).
   */
  mask: ((source: Uint8Array, key: Uint8Array, target: Uint8Array, at: number, length: number) => void) | null;
  /**
   * A fresh `ArrayBuffer` of exactly `length` bytes whose contents are unspecified. Only used where
   * the caller writes every byte before anyone can see them.
   */
  allocUninitialised: ((length: number) => ArrayBuffer) | null;
  /**
   * Decodes UTF-8, or returns `null` if the bytes are not valid UTF-8 (RFC 3629): the same answer
   * as the fatal `TextDecoder` for every input (`decodeUtf8` in `utf8.ts`).
   */
  decodeUtf8: ((bytes: Uint8Array) => string | null) | null;
  /**
   * Whether `bytes` are valid UTF-8 (RFC 3629: no overlong forms, surrogates or code points past
   * U+10FFFF), without decoding them (Node's `buffer.isUtf8`).
   */
  validUtf8: ((bytes: Uint8Array) => boolean) | null;
}

/** What is in use: read by `mask.ts`, `bytes.ts` and `slab.ts` on their large-payload paths, `utf8.ts` for text. */
export const fastPaths: FastPaths = { unmask: null, mask: null, allocUninitialised: null, decodeUtf8: null, validUtf8: null };

/**
 * Installs `paths` (those given replace the current ones; `null` turns one off), or, with no
 * argument, turns every fast path off: the pure core.
 */
export function useFastPaths(paths?: Partial<FastPaths>): void {
  if (paths === undefined) {
    fastPaths.unmask = fastPaths.mask = fastPaths.allocUninitialised = fastPaths.decodeUtf8 = fastPaths.validUtf8 = null;
    return;
  }
  if (paths.unmask !== undefined) fastPaths.unmask = paths.unmask;
  if (paths.mask !== undefined) fastPaths.mask = paths.mask;
  if (paths.allocUninitialised !== undefined) fastPaths.allocUninitialised = paths.allocUninitialised;
  if (paths.decodeUtf8 !== undefined) fastPaths.decodeUtf8 = paths.decodeUtf8;
  if (paths.validUtf8 !== undefined) fastPaths.validUtf8 = paths.validUtf8;
}

/**
 * Below this many bytes the pure allocation wins or ties: a zero-filled buffer filled by a copy
 * against an uninitialised one ran 1.05-1.33× at 16 B, 0.67-0.75× at 1 KiB and 0.45-0.92× at
 * 16 MiB (docs/benchmarks.md, "A buffer per message", two runs).
 */
const UNINITIALISED_FROM = 1024;

/** An `ArrayBuffer` of `length` bytes for the caller to overwrite entirely: uninitialised where the runtime lends that. */
export function newBuffer(length: number): ArrayBuffer {
  const alloc = fastPaths.allocUninitialised;
  return alloc !== null && length >= UNINITIALISED_FROM ? alloc(length) : new ArrayBuffer(length);
}

/** `newBuffer` as a `Uint8Array`. */
export function allocBytes(length: number): Uint8Array {
  return new Uint8Array(newBuffer(length));
}
