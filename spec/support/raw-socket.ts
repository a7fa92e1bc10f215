/**
 * Test support for raw `node:net` peers.
 */
import type { Socket } from "node:net";

/** Reads from a raw socket until `done` says the bytes so far are enough. */
export function readUntil(socket: Socket, done: (bytes: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let bytes = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      if (done(bytes)) {
        socket.off("data", onData);
        resolve(bytes);
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
}
