/**
 * The Deno adapter on Deno itself: a child process runs our server and our client on `wsdriver/deno`
 * over a loopback socket (spec/adapters/runtimes/deno-echo.ts) and prints what it saw.
 */
import { denoArgs, killChildren, run } from "./runtimes/child";
import { SIZES, TEXT } from "./runtimes/exercise";

afterEach(killChildren);

describe("wsdriver/deno on Deno, over loopback", () => {
  it("echoes text, binary of several sizes and a ping, and closes with a code and reason", async () => {
    const child = run(denoArgs("spec/adapters/runtimes/deno-echo.ts"));
    try {
      const { code, stdout, stderr } = await child.exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(stdout.trim())).toEqual({
        runtime: "deno",
        text: TEXT,
        binaries: SIZES.map(() => true),
        pong: "are you there",
        close: 4001,
        server: { code: 4001, reason: "done here", url: "/deno?x=1" },
      });
    } finally {
      child.kill();
    }
  });
});
