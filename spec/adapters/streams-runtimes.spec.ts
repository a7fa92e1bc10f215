/**
 * `wsdriver/streams` on Deno and Bun themselves: a child process runs our server and our client on
 * the runtime's adapter over loopback; the client pipes a 3 MiB binary message and a text message
 * into `sendStream`, the server pipes each message's readable back into a `sendStream`
 * (spec/adapters/runtimes/streams-exercise.ts), and the client checks the echoes it reads in pieces.
 */
import { bunArgs, denoArgs, killChildren, run } from "./runtimes/child";

afterEach(killChildren);

describe.each([
  ["deno", denoArgs("spec/adapters/runtimes/deno-streams.ts")],
  ["bun", bunArgs("spec/adapters/runtimes/bun-streams.ts")],
] as const)("wsdriver/streams on %s, over loopback", (runtime, args) => {
  it("echoes a binary and a text message in pieces, byte for byte, and closes with a code", async () => {
    const child = run(args as [string, string[]]);
    try {
      const { code, stdout, stderr } = await child.exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(stdout.trim())).toEqual({ runtime, binary: true, text: true, close: 4002, server: 4002 });
    } finally {
      child.kill();
    }
  }, 60_000);
});
