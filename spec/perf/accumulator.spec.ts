import { nodeFastPaths } from "../../lib/node/fast-paths";
import { ByteAccumulator } from "../../lib/util/accumulator";
import { fastPaths, useFastPaths } from "../../lib/util/fast-paths";

// A message's pieces joined by lib/util/accumulator.ts: the common large case, one frame cut by the
// end of a read, lands in one buffer with one copy; uninitialised memory never shows.
const pattern = (length: number, seed: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);

for (const [name, paths] of [["pure", null], ["Node's fast paths", nodeFastPaths]] as const) {
  describe(`ByteAccumulator (${name})`, () => {
    const saved = { ...fastPaths };
    beforeAll(() => useFastPaths(paths === null ? undefined : paths()));
    afterAll(() => useFastPaths(saved));

    it.each([[1024, 15 * 1024], [6000, 10384], [10_000, 6384], [16 * 1024 - 1, 1]])(
      "a 16 KiB frame cut after %i bytes: one buffer, the two pieces in it, taken without a second copy", (first, second) => {
        const whole = pattern(first + second, 3);
        const accumulator = new ByteAccumulator();
        accumulator.push(whole.subarray(0, first));
        accumulator.push(whole.subarray(first));
        const out = accumulator.take();
        expect(out).toEqual(whole);
        // Both pieces went to the buffer made for the first: its bytes past the message are zero.
        const backing = new Uint8Array(out.buffer);
        expect(backing.length).toBeGreaterThanOrEqual(16 * 1024);
        expect(backing.subarray(out.byteOffset + out.length).every((byte) => byte === 0)).toBe(true);
        expect(accumulator.length).toBe(0);
      });

    it("a 64 KiB frame in four reads of unequal size: every byte, in order", () => {
      const whole = pattern(64 * 1024, 9);
      const accumulator = new ByteAccumulator();
      for (const [from, to] of [[0, 3000], [3000, 20_000], [20_000, 20_001], [20_001, 65536]]) accumulator.push(whole.subarray(from, to));
      expect(accumulator.take()).toEqual(whole);
    });

    it("small pieces still share a tail that grows by doubling from 256 bytes", () => {
      const accumulator = new ByteAccumulator();
      for (let i = 0; i < 100; i++) accumulator.push(pattern(10, i));
      const out = accumulator.take();
      expect(out.length).toBe(1000);
      expect(Array.from(out.subarray(990))).toEqual(Array.from(pattern(10, 99)));
    });
  });
}
