import { createHash } from "node:crypto";
import { md5 } from "../../lib/hixie/md5";
import { utf8 } from "../support/wire";

const hex = (digest: Uint8Array): string => Buffer.from(digest).toString("hex");

describe("RFC 1321 §A.5: the MD5 test suite", () => {
  const suite: Array<[string, string]> = [
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"],
    ["1234567890".repeat(8), "57edf4a22be3c955ac49da2e2107b67a"],
  ];
  for (const [input, digest] of suite) {
    it(`MD5("${input.length > 20 ? input.slice(0, 20) + "…" : input}") = ${digest}`, () => {
      expect(hex(md5(utf8(input)))).toBe(digest);
    });
  }
});

describe("RFC 1321 §3.1: padding at every length around a block boundary", () => {
  it("agrees with node:crypto for every length from 0 to 200 bytes and for 100 KiB", () => {
    const data = Uint8Array.from({ length: 100 * 1024 }, (_, i) => (i * 131 + 17) & 0xff);
    for (let length = 0; length <= 200; length++) {
      const input = data.subarray(0, length);
      expect(hex(md5(input))).toBe(createHash("md5").update(input).digest("hex"));
    }
    expect(hex(md5(data))).toBe(createHash("md5").update(data).digest("hex"));
  });
});
