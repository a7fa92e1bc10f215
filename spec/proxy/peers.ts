/**
 * Real peers for the proxy integration specs, all on 127.0.0.1 with ephemeral ports: the `proxy`
 * package in a child process, a `ws` echo server (plain or TLS), and an echo server built from
 * `node:net` and our own server driver.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { WebSocketServer } from "ws";
import { Driver } from "../../lib/driver";
import type { ProxiedClient } from "../../lib/adapters/node-proxy";
import type { CloseEvent } from "../../lib/events";

export const CERT_FILE = path.join(__dirname, "fixtures", "localhost-cert.pem");
export const KEY_FILE = path.join(__dirname, "fixtures", "localhost-key.pem");
export const CERT = readFileSync(CERT_FILE);
const KEY = readFileSync(KEY_FILE);

export interface ConnectLog {
  method: string;
  url: string;
  headers: Record<string, string>;
}

export interface ProxyProcess {
  port: number;
  /** Every CONNECT request the proxy received, as it logged them. */
  requests: ConnectLog[];
  stop(): Promise<void>;
}

/** Starts the `proxy` package (spec/proxy/proxy-server.mjs) and waits until it listens. */
export async function startProxy(env: Record<string, string> = {}): Promise<ProxyProcess> {
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, "proxy-server.mjs")], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  const requests: ConnectLog[] = [];
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`proxy exited early with code ${code}`)));
    lines.on("line", (line) => {
      const entry = JSON.parse(line) as { port?: number } & ConnectLog;
      if (entry.port !== undefined) resolve(entry.port);
      else requests.push(entry);
    });
  });
  return {
    port,
    requests,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end();
        await exited;
      }
      lines.close();
    },
  };
}

export interface Peer {
  port: number;
  /** The headers of every WebSocket request the server accepted. */
  requests: Array<Record<string, string | string[] | undefined>>;
  stop(): Promise<void>;
}

/** A `ws` echo server; over TLS with the fixture certificate when `secure`. */
export async function startWsServer(secure = false): Promise<Peer> {
  const requests: Peer["requests"] = [];
  const tlsServer = secure ? https.createServer({ cert: CERT, key: KEY }) : null;
  const wss = tlsServer ? new WebSocketServer({ server: tlsServer }) : new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss.on("connection", (ws, request) => {
    requests.push(request.headers);
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  if (tlsServer) {
    tlsServer.listen(0, "127.0.0.1");
    await once(tlsServer, "listening");
  } else {
    await once(wss, "listening");
  }
  const address = (tlsServer ? tlsServer.address() : wss.address()) as net.AddressInfo;
  return {
    port: address.port,
    requests,
    async stop() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      if (tlsServer) await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
    },
  };
}

/** An echo server made of `node:net` and `Driver.server`. */
export async function startDriverServer(): Promise<Peer> {
  const requests: Peer["requests"] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const driver = Driver.server(socket);
    driver.on("connect", () => {
      requests.push({ ...driver.request!.headers });
      driver.start();
    });
    driver.on("message", ({ data }) => (typeof data === "string" ? driver.text(data) : driver.binary(data)));
    driver.on("close", () => socket.end());
    socket.on("data", (chunk) => driver.parse(chunk));
    socket.on("close", () => driver.end());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Outcome {
  opened: boolean;
  received: Array<string | Uint8Array>;
  errors: Error[];
  close: CloseEvent;
}

/**
 * Sends `messages` once the driver opens, waits for as many echoes, then closes; resolves with
 * what happened when the driver emits `close` (whether it opened or failed on the way).
 */
export function converse(client: ProxiedClient, messages: Array<string | Uint8Array>): Promise<Outcome> {
  const { driver } = client;
  const outcome: Omit<Outcome, "close"> = { opened: false, received: [], errors: [] };
  client.on("error", (error) => outcome.errors.push(error));
  driver.on("error", (error) => outcome.errors.push(error));
  driver.on("open", () => {
    outcome.opened = true;
    for (const message of messages) {
      if (typeof message === "string") driver.text(message);
      else driver.binary(message);
    }
    if (messages.length === 0) driver.close();
  });
  driver.on("message", ({ data }) => {
    outcome.received.push(data);
    if (outcome.received.length === messages.length) driver.close("done", 1000);
  });
  return new Promise((resolve) => driver.on("close", (close) => resolve({ ...outcome, close })));
}
