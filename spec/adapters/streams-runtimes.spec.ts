/**
 * `wsdriver/streams` on Deno and Bun themselves: a child process runs our server and our client on
 * the runtime's adapter over loopback; the client pipes a 3 MiB binary message and a text message
 * into `sendStream`, the server pipes each message's readable back into a `sendStream`
 * (spec/adapters/runtimes/streams-exercise.ts), and the client checks the echoes it reads in pieces.
 */
import { bunArgs, denoArgs, killChildren, run } from "./runtimes/child";
import { SLOW_BYTES } from "./runtimes/streams-exercise";

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

describe.each([
  ["deno", denoArgs("spec/adapters/runtimes/deno-streams-slow.ts")],
  ["bun", bunArgs("spec/adapters/runtimes/bun-streams-slow.ts")],
] as const)("a message's reader that lags on %s: the transport is paused, the queue stays bounded", (runtime, args) => {
  it(`takes a fraction of a ${SLOW_BYTES / 2 ** 20} MiB message before the reader reads, then all of it, byte for byte`, async () => {
    const child = run(args as [string, string[]]);
    try {
      const { code, stdout, stderr } = await child.exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      const result = JSON.parse(stdout.trim()) as { runtime: string; sentBeforeReading: number; bytes: boolean; close: number };
      expect({ runtime: result.runtime, bytes: result.bytes, close: result.close }).toEqual({ runtime, bytes: true, close: 4003 });
      // The 64 KiB high-water mark, plus what loopback's kernel buffers hold (a receive buffer grows
      // only as its reader reads), plus the writer's queue: 3.7 MiB measured on both. Unpaused (Deno
      // before it had pause()), the sender put all 48 MiB into the server's queue.
      expect(result.sentBeforeReading).toBeLessThan(16 * 2 ** 20);
    } finally {
      child.kill();
    }
  }, 60_000);
});
