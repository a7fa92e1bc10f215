/**
 * Deterministic masking keys, so a test can write out the exact bytes a client sends. RFC 6455 §10.3
 * asks for unpredictable keys on a real connection; these are for tests only, and reach a client
 * driver only through an in-memory transport of this kit (see `withMaskingKeys`).
 */
import type { DriverIO } from "../options.js";
import { MASKING_KEYS, type MaskingKeys } from "../util/random.js";
import { EXAMPLE_MASKING_KEY } from "./frames.js";

/**
 * Which keys a client masks its frames with: one key for every frame, a function from the frame's
 * index (0, 1, 2 … on that connection) to its key, or `"random"` for the driver's own fresh keys.
 */
export type MaskingKeyChoice = Uint8Array | ((index: number) => Uint8Array) | "random";

/** A key source that hands out the chosen keys in turn. */
class ChosenKeys implements MaskingKeys {
  private index = 0;

  constructor(private readonly choose: (index: number) => Uint8Array) {}

  next(target: Uint8Array, at: number): number {
    const key = this.choose(this.index++);
    if (key.length !== 4) throw new RangeError(`A masking key has 4 bytes, got ${key.length}`);
    target.set(key, at);
    return ((key[0] << 24) | (key[1] << 16) | (key[2] << 8) | key[3]) >>> 0;
  }
}

/** A function from frame index to key, for a choice (null for `"random"`). */
export function keyChooser(choice: MaskingKeyChoice = EXAMPLE_MASKING_KEY): ((index: number) => Uint8Array) | null {
  if (choice === "random") return null;
  if (typeof choice === "function") return choice;
  const key = Uint8Array.from(choice);
  if (key.length !== 4) throw new RangeError(`A masking key has 4 bytes, got ${key.length}`);
  return () => key;
}

/**
 * Gives `io` the chosen masking keys: a client driver made on the returned `io` masks each frame
 * with them. With `"random"` the `io` is returned as it is.
 */
export function withMaskingKeys<T extends DriverIO>(io: T, choice: MaskingKeyChoice = EXAMPLE_MASKING_KEY): T {
  const choose = keyChooser(choice);
  if (choose === null) return io;
  Object.defineProperty(io, MASKING_KEYS, { value: new ChosenKeys(choose), configurable: true });
  return io;
}

/** Keys that count up from `start` (`00 00 00 01`, `00 00 00 02` …), one per frame: every frame different, every run the same. */
export function countingKeys(start = 1): (index: number) => Uint8Array {
  return (index) => {
    const n = (start + index) >>> 0;
    return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  };
}
