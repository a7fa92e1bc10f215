/**
 * A `node:tls` echo server built from our server driver and nothing else (no adapter), with the
 * certificate in spec/adapters/runtimes/tls/, for the Deno and Bun client specs: every message
 * comes back as it came; each session records the server name the client sent (SNI), the request
 * URL and the close it saw. TLS handshakes that fail are recorded too.
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import * as tls from "node:tls";
import { Driver } from "../../../lib/driver";

const FIXTURES = join(__dirname, "tls");
/** The CA that signed the server certificate, as PEM text: what a client must trust. */
export const CA_PEM = readFileSync(join(FIXTURES, "ca-cert.pem"), "utf8");
export const CERT_PEM = readFileSync(join(FIXTURES, "localhost-cert.pem"), "utf8");
export const KEY_PEM = readFileSync(join(FIXTURES, "localhost-key.pem"), "utf8");

export interface TlsSession {
  /** The name the client asked for in its TLS ClientHello (SNI), if any. */
  servername: string | false | null;
  /** Resolves when the driver emits `close`: the code, reason and request URL it saw. */
  closed: Promise<{ code: number; reason: string; url: string | undefined }>;
}

export interface TlsEchoServer {
  port: number;
  sessions: TlsSession[];
  /** Resolves with the error message of the next TLS handshake that fails. */
  nextClientError(): Promise<string>;
  stop(): Promise<void>;
}

export async function startTlsEchoServer(): Promise<TlsEchoServer> {
  const sessions: TlsSession[] = [];
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ cert: CERT_PEM, key: KEY_PEM }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const driver = Driver.server({ write: (chunk) => socket.write(chunk) });
    driver.on("connect", () => driver.start());
    driver.on("message", ({ data }) => (typeof data === "string" ? driver.text(data) : driver.binary(data)));
    const closed = new Promise<{ code: number; reason: string; url: string | undefined }>((resolve) =>
      driver.on("close", ({ code, reason }) => {
        resolve({ code, reason, url: driver.request?.url });
        socket.end();
      }));
    sessions.push({ servername: socket.servername, closed });
    socket.on("data", (chunk) => driver.parse(chunk));
    socket.on("close", () => driver.end());
    socket.on("error", () => driver.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sessions,
    nextClientError: () => new Promise((resolve) => server.once("tlsClientError", (error: Error) => resolve(error.message))),
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
