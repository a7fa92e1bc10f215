import { acceptKey } from "../../lib/hybi/accept";
import { sha1 } from "../../lib/util/sha1";

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

describe("SHA-1 (FIPS 180-4)", () => {
  it("hashes the empty string", () => {
    expect(hex(sha1(new Uint8Array(0)))).toBe("da39a3ee5e6b4b0d3255bfef95601890afd80709");
  });
  it("hashes 'abc'", () => {
    expect(hex(sha1(new TextEncoder().encode("abc")))).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
  });
  it("hashes a two-block message", () => {
    const message = new TextEncoder().encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
    expect(hex(sha1(message))).toBe("84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  });
});

describe("Sec-WebSocket-Accept (RFC 6455 §1.3)", () => {
  it("answers the RFC's example key", () => {
    expect(acceptKey("dGhlIHNhbXBsZSBub25jZQ==")).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });
});
