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

describe("maxHeaderSize that is not a non-negative number", () => {
  for (const maxHeaderSize of [NaN, -1]) {
    it(`${maxHeaderSize} is a RangeError when the server, client or proxy helper is made`, () => {
      // NaN used to lift the limit: a server buffered any number of bytes of a head that never
      // ended, with no 431 (a comparison with NaN is never true).
      expect(() => Driver.server(new CollectingIO(), { maxHeaderSize })).toThrow(RangeError);
      expect(() => Driver.client("ws://example.com/", new CollectingIO(), { maxHeaderSize })).toThrow(RangeError);
      const client = Driver.client("ws://example.com/", new CollectingIO());
      expect(() => client.proxy("http://proxy.example:3128", { maxHeaderSize })).toThrow(RangeError);
    });
  }

  it("Infinity is taken as no limit, as for maxLength", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io, { maxHeaderSize: Infinity });
    driver.parse(new TextEncoder().encode("GET / HTTP/1.1\r\nX-Long: " + "a".repeat(100_000)));
    expect(driver.readyState).toBe(0);
    expect(io.chunks).toHaveLength(0);
  });
});
