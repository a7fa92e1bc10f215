/**
 * The closing handshake while the transport is full, on Deno and Bun: a server on each runtime's
 * adapter (a child process) sends 1 MiB messages to a loopback peer that has stopped reading until
 * the adapter reports `needsDrain`; the peer then sends a close frame (RFC 6455 §5.5.1) and reads
 * again (a server stops reading while it owes the peer that much, so it reads the close once the
 * peer takes its messages). Every message sent before the close, then the server's close frame,
 * must arrive before the connection ends (§7.1.1: the TCP connection is closed after the closing
 * handshake, not instead of it).
 */
import { connect as netConnect, type Socket } from "node:net";
import { bunArgs, denoArgs, killChildren, listeningPort, run } from "./runtimes/child";
import { upgradeRequest } from "../support/wire";

const HANDSHAKE = upgradeRequest({ Host: "127.0.0.1" }, "GET /closing HTTP/1.1");

/** Each 1 MiB binary frame the server sends has a 10-byte header (RFC 6455 §5.2). */
const FRAME = (1 << 20) + 10;

/** A masked close frame with code 1000 and no reason, masking key 00 00 00 00 (§5.3). */
const CLIENT_CLOSE = Uint8Array.of(0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8);

afterEach(killChildren);

describe.each([
  { name: "Deno", args: denoArgs("spec/adapters/runtimes/deno-close-full.ts") },
  { name: "Bun", args: bunArgs("spec/adapters/runtimes/bun-close-full.ts") },
])("closing while the transport is full, on $name", ({ args }) => {
  it("sends everything written before the close, then the close frame, then ends the connection", async () => {
    const child = run(args);
    let socket: Socket | undefined;
    try {
      const port = await listeningPort(child);
      const peer = socket = netConnect(port, "127.0.0.1");
      const chunks: Buffer[] = [];
      const answered = new Promise<void>((resolve) => peer.once("data", (bytes: Buffer) => {
        peer.pause();
        chunks.push(bytes.subarray(bytes.indexOf("\r\n\r\n") + 4));
        resolve();
      }));
      const ended = new Promise<void>((resolve) => { peer.once("close", () => resolve()); peer.on("error", () => undefined); });
      peer.write(HANDSHAKE);
      await answered;
      peer.on("data", (bytes: Buffer) => chunks.push(bytes));

      const full = JSON.parse(await child.line((line) => line.includes('"full"')));
      expect(full).toEqual({ full: true, sent: expect.any(Number) });
      peer.write(CLIENT_CLOSE);
      peer.resume();
      expect(JSON.parse(await child.line((line) => line.includes('"closed"')))).toEqual({ closed: 1000 });
      await ended;

      const received = Buffer.concat(chunks);
      expect(received.length).toBe(full.sent * FRAME + 4);
      expect([...received.subarray(received.length - 4)]).toEqual([0x88, 0x02, 0x03, 0xe8]);
    } finally {
      socket?.destroy();
    }
  });
});
