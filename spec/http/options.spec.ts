import { Driver } from "../../lib/driver";
import { CollectingIO } from "../support/wire";

/**
 * An option the driver cannot work with is the embedder's mistake, refused when the driver is made:
 * `parse()` never throws on what the peer sends, so it must not be where such a mistake surfaces.
 */
describe("maxLength that is not a non-negative number", () => {
  for (const maxLength of [NaN, -1]) {
    it(`Driver.server refuses ${maxLength} when it is made, as Driver.client and Driver.fromRequest do`, () => {
      const request = { method: "GET", url: "/", headers: { host: "x" } };
      expect(() => Driver.client("ws://example.com/", new CollectingIO(), { maxLength })).toThrow(RangeError);
      expect(() => Driver.fromRequest(request, new CollectingIO(), { maxLength })).toThrow(RangeError);
      // It used to be made, and the first complete request then threw the RangeError out of parse().
      expect(() => Driver.server(new CollectingIO(), { maxLength })).toThrow(RangeError);
    });
  }
});
