/**
 * Backpressure on Deno and Bun: a server on each runtime's adapter (a child process) sends 1 MiB
 * messages to a peer that has stopped reading — a paused loopback socket here — until the adapter
 * reports `needsDrain`; once the peer reads again, `drained()` resolves and every byte arrives.
 * (The Node adapter's backpressure is in node.spec.ts.)
 */
import { connect as netConnect, type Socket } from "node:net";
import { bunArgs, denoArgs, killChildren, listeningPort, run } from "./runtimes/child";
import { upgradeRequest } from "../support/wire";

const HANDSHAKE = upgradeRequest({ Host: "127.0.0.1" }, "GET /flood HTTP/1.1");

afterEach(killChildren);

describe.each([
  { name: "Deno", args: denoArgs("spec/adapters/runtimes/deno-flood.ts") },
  { name: "Bun", args: bunArgs("spec/adapters/runtimes/bun-flood.ts") },
])("backpressure on $name", ({ args }) => {
  it("reports needsDrain while the peer reads nothing, and drains once it reads", async () => {
    const child = run(args);
    let socket: Socket | undefined;
    try {
      const port = await listeningPort(child);
      socket = netConnect(port, "127.0.0.1");
      const peer = socket;
      await new Promise((resolve) => peer.once("connect", resolve));
      // Read the 101 answer, then stop reading: the kernel buffers fill and the runtime's socket backs up.
      // Frame bytes that came in the same chunk as the answer are counted.
      let received = 0;
      let target = Infinity;
      let wake: () => void = () => undefined;
      const all = new Promise<void>((resolve) => { wake = resolve; });
      const answered = new Promise<void>((resolve) => peer.once("data", (bytes: Buffer) => {
        peer.pause();
        received -= bytes.indexOf("\r\n\r\n") + 4;
        resolve();
      }));
      peer.on("data", (bytes: Buffer) => {
        received += bytes.length;
        if (received >= target) wake();
      });
      peer.write(HANDSHAKE);
      await answered;

      const full = JSON.parse(await child.line((line) => line.includes('"full"')));
      expect(full.full).toBe(true);
      expect(full.sent).toBeLessThan(256);
      expect(full.buffered).toBeGreaterThan(0);

      // Read everything the server sent: each 1 MiB binary frame has a 10-byte header (§5.2).
      target = full.sent * ((1 << 20) + 10);
      if (received >= target) wake();
      peer.resume();
      expect(JSON.parse(await child.line((line) => line.includes('"drained"')))).toEqual({ drained: true, drainEvents: true });
      await all;
      expect(received).toBeGreaterThanOrEqual(full.sent * ((1 << 20) + 10));
    } finally {
      socket?.destroy();
    }
  });
});
