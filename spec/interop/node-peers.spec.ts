/**
 * The richer cases with the `ws` and `undici` peers, through the Node adapter on real loopback
 * sockets: pings both ways, fragmented messages (RFC 6455 §5.4), closes with a code and reason
 * started from either side (§7), a fast sender that waits on backpressure, and permessage-deflate
 * (RFC 7692) with undici. The WHATWG `WebSocket` clients are undici 7 on every Node line, and from
 * Node 22 on also undici 8 (which needs Node 22) and Node's own global `WebSocket` (undici 6 to 8
 * bundled, by line); .ci/run runs this file on Node 22, 24 and 26. The plain echo of every size is
 * in hybi.spec.ts; deflate with ws is in spec/extensions/interop.spec.ts.
 */
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocket as UndiciWebSocket } from "undici";
import WebSocket, { WebSocketServer } from "ws";
import { acceptUpgrade, connect, type Connection } from "../../lib/adapters/node";
import { deflate } from "../../lib/extensions/permessage-deflate";
import type { ClientDriver, ServerDriver } from "../../lib/types";

type Handler = (connection: Connection<ServerDriver>) => void;

type WebSocketClass = typeof UndiciWebSocket;
const NODE_MAJOR = Number(process.versions.node.split(".")[0]);
/** The WHATWG WebSocket clients this Node line has (Node 20 has neither undici 8 nor a global WebSocket). */
const WEB_CLIENTS: Array<[string, () => WebSocketClass]> = [["undici 7", () => UndiciWebSocket]];
if (NODE_MAJOR >= 22) {
  WEB_CLIENTS.push(
    ["undici 8", () => (require("undici8") as typeof import("undici8")).WebSocket as unknown as WebSocketClass],
    [`Node ${process.version}'s global WebSocket (undici ${process.versions.undici})`, () => globalThis.WebSocket as unknown as WebSocketClass],
  );
}

/** A node:http server whose upgrades go to the Node adapter and then to the current test's handler. */
function upgradeServer() {
  const server = http.createServer();
  const connections: Array<Connection<ServerDriver>> = [];
  let handler: Handler = () => undefined;
  server.on("upgrade", (request: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const connection = acceptUpgrade(request, socket, head);
    connections.push(connection);
    handler(connection);
  });
  return {
    server,
    connections,
    port: 0,
    /** The next connection, once the current test's handler has seen it. */
    next(onConnection: Handler = () => undefined): Promise<Connection<ServerDriver>> {
      return new Promise((resolve) => {
        handler = (connection) => {
          onConnection(connection);
          resolve(connection);
        };
      });
    },
  };
}

const opened = (ws: WebSocket) => new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
const closeOf = (driver: ClientDriver | ServerDriver) =>
  new Promise<[number, string]>((resolve) => driver.on("close", ({ code, reason }) => resolve([code, reason])));

describe("our server with the ws client", () => {
  const peer = upgradeServer();
  const clients: WebSocket[] = [];
  beforeAll(async () => {
    await new Promise<void>((resolve) => peer.server.listen(0, "127.0.0.1", resolve));
    peer.port = (peer.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const ws of clients) ws.terminate();
    for (const { socket } of peer.connections) socket.destroy();
    await new Promise((resolve) => peer.server.close(resolve));
  });
  const client = () => {
    const ws = new WebSocket(`ws://127.0.0.1:${peer.port}/`);
    clients.push(ws);
    return ws;
  };

  it("§5.5.2: our ping reaches ws with its data and its pong runs our callback", async () => {
    const accepted = peer.next();
    const ws = client();
    const pinged = new Promise<string>((resolve) => ws.once("ping", (data: Buffer) => resolve(data.toString())));
    await opened(ws);
    const { driver } = await accepted;
    const ponged = new Promise<void>((resolve) => driver.ping("knock knock", resolve));
    expect(await pinged).toBe("knock knock");
    await ponged;
  });

  it("§5.4: fragmented text and binary messages from ws arrive whole", async () => {
    const messages: Array<string | Uint8Array> = [];
    const accepted = peer.next(({ driver }) => driver.on("message", ({ data }) => messages.push(data)));
    const ws = client();
    await opened(ws);
    const { driver } = await accepted;
    const both = new Promise<void>((resolve) => driver.on("message", () => messages.length === 2 && resolve()));
    ws.send("frag", { fin: false });
    ws.send("men", { fin: false });
    ws.send("ted ☃", { fin: true });
    ws.send(Buffer.from([1, 2]), { binary: true, fin: false });
    ws.send(Buffer.from([3]), { binary: true, fin: true });
    await both;
    expect(messages[0]).toBe("fragmented ☃");
    expect(Array.from(messages[1] as Uint8Array)).toEqual([1, 2, 3]);
  });

  it("§7: a close we start reaches ws with its code and reason", async () => {
    const accepted = peer.next();
    const ws = client();
    const closed = new Promise<[number, string]>((resolve) => ws.once("close", (code: number, reason: Buffer) => resolve([code, reason.toString()])));
    await opened(ws);
    const { driver } = await accepted;
    const ours = closeOf(driver);
    driver.close("server says bye", 4003);
    expect(await closed).toEqual([4003, "server says bye"]);
    // `close` reports the peer's answering close frame; ws echoes the code and the reason.
    expect(await ours).toEqual([4003, "server says bye"]);
  });

  it("a fast sender that waits on drained() delivers 64 MiB in order", async () => {
    const accepted = peer.next();
    const ws = client();
    let received = 0;
    let inOrder = true;
    const total = 64;
    const done = new Promise<void>((resolve) => ws.on("message", (data: Buffer) => {
      if (data[0] !== received % 256 || data.length !== 1 << 20) inOrder = false;
      received++;
      if (received === total) resolve();
    }));
    await opened(ws);
    const connection = await accepted;
    let waited = 0;
    for (let i = 0; i < total; i++) {
      connection.driver.binary(new Uint8Array(1 << 20).fill(i % 256));
      if (connection.needsDrain) {
        waited++;
        await connection.drained();
      }
    }
    await done;
    expect(inOrder).toBe(true);
    // 64 MiB cannot fit in the socket's buffers at once: the sender must have waited at least once.
    expect(waited).toBeGreaterThan(0);
  });
});

describe.each(WEB_CLIENTS)("our server with the %s client", (_name, webSocketClass) => {
  const peer = upgradeServer();
  const clients: UndiciWebSocket[] = [];
  const WebSocketClient = webSocketClass();
  beforeAll(async () => {
    await new Promise<void>((resolve) => peer.server.listen(0, "127.0.0.1", resolve));
    peer.port = (peer.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const ws of clients) ws.close();
    for (const { socket } of peer.connections) socket.destroy();
    await new Promise((resolve) => peer.server.close(resolve));
  });
  const client = async () => {
    const ws = new WebSocketClient(`ws://127.0.0.1:${peer.port}/undici`);
    clients.push(ws);
    ws.binaryType = "arraybuffer";
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
    return ws;
  };

  it("§7: the client's close with code and reason reaches us, and it hears our echo of the code", async () => {
    const accepted = peer.next();
    const ws = await client();
    const { driver } = await accepted;
    const ours = closeOf(driver);
    const theirs = new Promise<[number, boolean]>((resolve) => { ws.onclose = ({ code, wasClean }) => resolve([code, wasClean]); });
    ws.close(4002, "undici done");
    expect(await ours).toEqual([4002, "undici done"]);
    expect(await theirs).toEqual([4002, true]);
  });

  it("§7: a close we start reaches the client with its code and reason", async () => {
    const accepted = peer.next();
    const ws = await client();
    const { driver } = await accepted;
    const theirs = new Promise<[number, string, boolean]>((resolve) => {
      ws.onclose = ({ code, reason, wasClean }) => resolve([code, reason, wasClean]);
    });
    driver.close("going away", 1001);
    expect(await theirs).toEqual([1001, "going away", true]);
  });

  it("RFC 7692: negotiates permessage-deflate with the client, and what we send is compressed on the wire", async () => {
    const accepted = peer.next((connection) => {
      connection.driver.addExtension(deflate());
      connection.driver.on("message", ({ data }) => connection.driver.text(String(data)));
    });
    const ws = await client();
    const connection = await accepted;
    expect(ws.extensions).toMatch(/^permessage-deflate/);
    const text = "the quick brown fox jumps over the lazy dog ☃ ".repeat(20000);
    const before = (connection.socket as Socket).bytesWritten;
    const echoed = new Promise<string>((resolve) => { ws.onmessage = ({ data }) => resolve(data as string); });
    ws.send(text);
    expect(await echoed).toBe(text);
    // 940,000 bytes of repetitive text leave as a few kilobytes of DEFLATE.
    const written = (connection.socket as Socket).bytesWritten - before;
    expect(written).toBeLessThan(Buffer.byteLength(text) / 50);
  });

  it("text and binary round-trip with multi-byte characters and every byte value", async () => {
    const accepted = peer.next(({ driver }) =>
      driver.on("message", ({ data }) => (typeof data === "string" ? driver.text(data) : driver.binary(data))));
    const ws = await client();
    await accepted;
    const replies: Array<string | ArrayBuffer> = [];
    const both = new Promise<void>((resolve) => {
      ws.onmessage = ({ data }) => {
        replies.push(data as string | ArrayBuffer);
        if (replies.length === 2) resolve();
      };
    });
    const everyByte = new Uint8Array(256).map((_, i) => i);
    ws.send("Grüße, 世界 👋");
    ws.send(everyByte);
    await both;
    expect(replies[0]).toBe("Grüße, 世界 👋");
    expect(Array.from(new Uint8Array(replies[1] as ArrayBuffer))).toEqual(Array.from(everyByte));
  });
});

describe("our client with the ws server", () => {
  let wss: WebSocketServer;
  let port = 0;
  const clients: Array<Connection<ClientDriver>> = [];
  beforeAll(async () => {
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((resolve) => wss.once("listening", resolve));
    port = (wss.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });
  const open = async () => {
    const accepted = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
    const client = connect(`ws://127.0.0.1:${port}/`);
    clients.push(client);
    await new Promise((resolve) => client.driver.on("open", resolve));
    return { client, ws: await accepted };
  };

  it("§5.5.2: answers ws's ping with a pong carrying the same data, and emits ping", async () => {
    const { client, ws } = await open();
    const ours = new Promise<string>((resolve) => client.driver.on("ping", ({ data }) => resolve(Buffer.from(data).toString())));
    const pong = new Promise<string>((resolve) => ws.once("pong", (data: Buffer) => resolve(data.toString())));
    ws.ping("marco");
    expect(await ours).toBe("marco");
    expect(await pong).toBe("marco");
  });

  it("§5.5.2: our ping with a callback gets ws's pong", async () => {
    const { client } = await open();
    const pong = new Promise<string>((resolve) => client.driver.on("pong", ({ data }) => resolve(Buffer.from(data).toString())));
    const answered = new Promise<void>((resolve) => client.driver.ping("polo", resolve));
    await answered;
    expect(await pong).toBe("polo");
  });

  it("§5.4: a fragmented message from ws arrives whole", async () => {
    const { client, ws } = await open();
    const got = new Promise<string | Uint8Array>((resolve) => client.driver.on("message", ({ data }) => resolve(data)));
    ws.send("one, ", { fin: false });
    ws.send("two, ", { fin: false });
    ws.send("three", { fin: true });
    expect(await got).toBe("one, two, three");
  });

  it("§7: ws's close with code and reason reaches us", async () => {
    const { client, ws } = await open();
    const closed = closeOf(client.driver);
    ws.close(4003, "server says bye");
    expect(await closed).toEqual([4003, "server says bye"]);
  });

  it("§7: our close with code and reason reaches ws", async () => {
    const { client, ws } = await open();
    const theirs = new Promise<[number, string]>((resolve) => ws.once("close", (code: number, reason: Buffer) => resolve([code, reason.toString()])));
    const ours = closeOf(client.driver);
    client.driver.close("client done", 4001);
    expect(await theirs).toEqual([4001, "client done"]);
    expect(await ours).toEqual([4001, "client done"]);
  });
});
