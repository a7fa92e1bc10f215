/**
 * The Node adapter's HTTP/2 path on Deno's and Bun's own `node:http2` (the runtimes installed from
 * npm): a server with `acceptStream` and three clients sharing one session, both ends in the
 * runtime (spec/http2/runtimes/echo.mjs, on the built package), as docs/http2.md says each can.
 */
import { BUN, DENO, killChildren, run } from "../adapters/runtimes/child";
import { ensureBuilt } from "../support/build";

const SCRIPT = "spec/http2/runtimes/echo.mjs";
const RUNTIMES: Array<[string, [string, string[]]]> = [
  ["Deno", [DENO, ["run", "--quiet", "--node-modules-dir=manual", "--allow-net", "--allow-env", "--allow-read", SCRIPT]]],
  ["Bun", [BUN, [SCRIPT]]],
];

beforeAll(() => ensureBuilt(), 120_000);
afterEach(() => killChildren());

describe.each(RUNTIMES)("%s's node:http2 with acceptStream and connect(url, { http2: true })", (_name, command) => {
  it("echoes text and binary with permessage-deflate, three WebSockets on one session, each closing with its code", async () => {
    const { code, stdout, stderr } = await run(command).exited;
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const result = JSON.parse(stdout.trim().split("\n").pop()!);
    expect(result).toEqual({
      shared: true,
      results: [0, 1, 2].map((i) => ({
        extensions: "permessage-deflate",
        replies: [`HELLO ${i}`, [i, 1, 2]],
        close: { code: 4000 + i, reason: "" },
      })),
      requests: Array(3).fill("CONNECT /rt HTTP/2.0"),
      serverCloses: [4000, 4001, 4002],
    });
  }, 60_000);
});
