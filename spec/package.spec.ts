/**
 * The published package: `import { Driver } from "wsdriver"` and `require("wsdriver")` both work
 * from the built `dist/` (the `exports` map picks the ES module or the CommonJS build), with type
 * declarations beside each.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT as root, ensureBuilt } from "./support/build";

// CI builds before testing; a local run without a build gets one here.
beforeAll(() => ensureBuilt(), 120_000);

/** Runs a snippet in a fresh Node process at the package root, so "wsdriver" resolves to itself. */
function run(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: "utf8" }).trim();
}

const SNIPPET = `
  const io = { chunks: [], write(c) { this.chunks.push(c); } };
  const server = Driver.server(io);
  server.on("connect", () => server.start());
  server.parse(new TextEncoder().encode(
    "GET / HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n"));
  console.log(typeof Driver.client, server.readyState, new TextDecoder().decode(io.chunks[0]).split("\\r\\n")[0]);
`;

describe("the package's entry points", () => {
  it("imports as an ES module", () => {
    expect(run(["--input-type=module", "-e", `import { Driver } from "wsdriver";${SNIPPET}`]))
      .toBe("function 1 HTTP/1.1 101 Switching Protocols");
  });

  it("requires as CommonJS", () => {
    expect(run(["-e", `const { Driver } = require("wsdriver");${SNIPPET}`]))
      .toBe("function 1 HTTP/1.1 101 Switching Protocols");
  });

  it("ships type declarations for both builds", () => {
    expect(existsSync(join(root, "dist/esm/index.d.ts"))).toBe(true);
    expect(existsSync(join(root, "dist/cjs/index.d.ts"))).toBe(true);
  });
});
