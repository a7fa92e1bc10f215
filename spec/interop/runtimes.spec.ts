/**
 * Interop over loopback with the WebSocket implementations built into Deno and Bun, both ways:
 * their `WebSocket` client against our server (the Node adapter on `node:http`), and our client
 * against their built-in servers (`Deno.serve` + `Deno.upgradeWebSocket`, `Bun.serve`). Text,
 * binary of several sizes, ping/pong, closes with a code and reason from either side, and
 * permessage-deflate (RFC 7692) where the peer has it: Bun's client and server do, Deno's do not, and
 * our side then goes on uncompressed.
 */
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { acceptUpgrade, connect, type Connection } from "../../lib/adapters/node";
import { deflate } from "../../lib/extensions/permessage-deflate";
import type { ServerDriver } from "../../lib/types";
import { bunArgs, denoArgs, killChildren, listeningPort, run } from "../adapters/runtimes/child";
import { SIZES, TEXT, exchange } from "../adapters/runtimes/exercise";

// Every child is killed after its test, even one that timed out waiting for it.
afterEach(killChildren);

const RUNTIMES = [
  { name: "Deno", args: denoArgs, peer: "deno", deflate: false },
  { name: "Bun", args: bunArgs, peer: "bun", deflate: true },
] as const;

describe.each(RUNTIMES)("$name's built-in WebSocket client with our server", ({ args, deflate: compresses }) => {
  const server = http.createServer();
  const connections: Array<Connection<ServerDriver>> = [];
  const closes: Array<Promise<[number, string]>> = [];
  const pongs: Array<Promise<void>> = [];
  let port = 0;

  beforeAll(async () => {
    server.on("upgrade", (request: http.IncomingMessage, socket: Socket, head: Buffer) => {
      const connection = acceptUpgrade(request, socket, head, { protocols: ["echo"] });
      connections.push(connection);
      const { driver } = connection;
      driver.addExtension(deflate());
      closes.push(new Promise((resolve) => driver.on("close", ({ code, reason }) => resolve([code, reason]))));
      // RFC 6455 §5.5.2: the peer must answer our ping with a pong carrying the same data.
      pongs.push(new Promise((resolve) => driver.on("open", () => driver.ping("hello?", resolve))));
      driver.on("message", ({ data }) => {
        if (data === "close-me") driver.close("server says bye", 4003);
        else if (typeof data === "string") driver.text(data);
        else driver.binary(data);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const { socket } of connections) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it("round-trips text and binary, answers pings, and closes from either side with code and reason", async () => {
    const child = run(args("spec/interop/peers/web-client.ts"), { WS_URL: `ws://127.0.0.1:${port}/interop` });
    try {
      const { code, stdout, stderr } = await child.exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      const { echo, serverClose } = JSON.parse(stdout.trim());
      expect(echo).toEqual({
        protocol: "echo",
        extensions: compresses ? expect.stringMatching(/^permessage-deflate/) : "",
        text: TEXT,
        binaries: SIZES.map(() => true),
        close: { code: 4002, reason: "", wasClean: true },
      });
      expect(serverClose).toEqual({ code: 4003, reason: "server says bye", wasClean: true });
      expect(await closes[0]).toEqual([4002, "client done"]);
      expect(await closes[1]).toEqual([4003, "server says bye"]);
      await Promise.all(pongs);
      expect(connections.map(({ driver }) => driver.request?.url)).toEqual(["/interop", "/interop"]);
    } finally {
      child.kill();
    }
  });
});

describe.each(RUNTIMES)("our client with $name's built-in WebSocket server", ({ args, peer, deflate: compresses }) => {
  it("round-trips text and binary, gets pongs, and closes from either side with code and reason", async () => {
    const child = run(args(`spec/interop/peers/${peer}-server.ts`));
    const clients: Array<Connection<ReturnType<typeof connect>["driver"]>> = [];
    try {
      const port = await listeningPort(child);

      const first = connect(`ws://127.0.0.1:${port}/`, { protocols: ["echo"] });
      first.driver.addExtension(deflate());
      clients.push(first);
      const result = await exchange(first.driver);
      expect(result).toEqual({ text: TEXT, binaries: SIZES.map(() => true), pong: "are you there", close: 4001 });
      expect(first.driver.protocol).toBe("echo");
      if (compresses) expect(first.driver.headers["sec-websocket-extensions"]).toMatch(/^permessage-deflate/);
      else expect(first.driver.headers["sec-websocket-extensions"]).toBeUndefined();
      await child.line((line) => line === "closed 4001 done here");

      const second = connect(`ws://127.0.0.1:${port}/`);
      clients.push(second);
      const closed = new Promise<[number, string]>((resolve) => second.driver.on("close", ({ code, reason }) => resolve([code, reason])));
      second.driver.text("close-me");
      expect(await closed).toEqual([4003, "server says bye"]);
    } finally {
      for (const client of clients) client.destroy();
      child.kill();
      await child.exited;
    }
  });
});
