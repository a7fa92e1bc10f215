/**
 * `destroy()` drops the connection at once (AdapterConnection in lib/adapters/connection.ts), also
 * when the peer has stopped reading and megabytes wait to be written: a server on the Deno adapter
 * (a child process) sends 32 MiB to a paused loopback socket, then destroys the connection. The
 * transport is closed in the call, and the peer, reading again, gets the end of the connection
 * without the bytes that were still waiting.
 */
import { connect as netConnect, type Socket } from "node:net";
import { denoArgs, killChildren, listeningPort, run } from "./runtimes/child";
import { upgradeRequest } from "../support/wire";

const HANDSHAKE = upgradeRequest({ Host: "127.0.0.1" }, "GET /destroy HTTP/1.1");

/** Each 1 MiB binary frame a server sends has a 10-byte header (RFC 6455 §5.2). */
const FRAME = (1 << 20) + 10;

afterEach(killChildren);

describe("destroy() on the Deno adapter", () => {
  it("closes the transport at once, dropping what a peer that stopped reading has not taken", async () => {
    const child = run(denoArgs("spec/adapters/runtimes/deno-destroy.ts"));
    let socket: Socket | undefined;
    try {
      const port = await listeningPort(child);
      const peer = socket = netConnect(port, "127.0.0.1");
      let received = 0;
      const answered = new Promise<void>((resolve) => peer.once("data", (bytes: Buffer) => {
        peer.pause();
        received -= bytes.indexOf("\r\n\r\n") + 4;
        resolve();
      }));
      peer.on("data", (bytes: Buffer) => { received += bytes.length; });
      // The end of the connection, a FIN or a reset.
      const ended = new Promise<void>((resolve) => { peer.once("close", () => resolve()); peer.on("error", () => undefined); });
      peer.write(HANDSHAKE);
      await answered;

      const report = JSON.parse(await child.line((line) => line.includes('"destroyed"')));
      expect(report).toEqual({ destroyed: true, sent: 32, buffered: expect.any(Number), closedAtOnce: true });
      expect(report.buffered).toBeGreaterThan(0);
      peer.resume();
      await ended;
      expect(received).toBeLessThan(report.sent * FRAME);
      expect(JSON.parse(await child.line((line) => line.startsWith('{"code"')))).toEqual({ code: 1006 });
    } finally {
      socket?.destroy();
    }
  });
});
