/**
 * A `node:net` echo server built from our server driver and nothing else (no adapter), for interop
 * specs: every message comes back as it came, and the bytes our side writes are counted.
 */
import { type AddressInfo, type Server, type Socket, createServer } from "node:net";
import { Driver } from "../../lib/driver";
import type { ServerOptions } from "../../lib/options";
import type { ServerDriver } from "../../lib/types";

export interface EchoServer {
  server: Server;
  port: number;
  sockets: Set<Socket>;
  /** Bytes our drivers have written so far, handshakes included. */
  written: () => number;
}

/** Starts the server on an ephemeral port; `setup` runs on each driver before its handshake (`addExtension`). */
export function startEchoServer(options: ServerOptions = {}, setup?: (driver: ServerDriver) => void): Promise<EchoServer> {
  const sockets = new Set<Socket>();
  let written = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const io = { write: (chunk: Uint8Array) => { written += chunk.length; return socket.write(chunk); } };
    const driver = Driver.server(io, options);
    setup?.(driver);
    driver.on("connect", () => driver.start());
    driver.on("message", ({ data }) => (typeof data === "string" ? driver.text(data) : driver.binary(data)));
    driver.on("close", () => socket.end());
    socket.on("data", (chunk) => driver.parse(chunk));
    socket.on("close", () => driver.end());
    socket.on("error", () => driver.end());
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () =>
    resolve({ server, port: (server.address() as AddressInfo).port, sockets, written: () => written })));
}

/** Drops every connection and closes the server. */
export async function stopEchoServer(echo: EchoServer): Promise<void> {
  for (const socket of echo.sockets) socket.destroy();
  await new Promise((resolve) => echo.server.close(resolve));
}
