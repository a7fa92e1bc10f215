/**
 * The Bun adapter on Bun itself: a child process runs our server and our client on `wsdriver/bun`
 * over a loopback socket (spec/adapters/runtimes/bun-echo.ts) and prints what it saw.
 */
import { bunArgs, killChildren, run } from "./runtimes/child";
import { SIZES, TEXT } from "./runtimes/exercise";

afterEach(killChildren);

describe("wsdriver/bun on Bun, over loopback", () => {
  it("echoes text, binary of several sizes and a ping, and closes with a code and reason", async () => {
    const child = run(bunArgs("spec/adapters/runtimes/bun-echo.ts"));
    try {
      const { code, stdout, stderr } = await child.exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(stdout.trim())).toEqual({
        runtime: "bun",
        text: TEXT,
        binaries: SIZES.map(() => true),
        pong: "are you there",
        close: 4001,
        server: { code: 4001, reason: "done here", url: "/bun?x=1" },
      });
    } finally {
      child.kill();
    }
  });
});
