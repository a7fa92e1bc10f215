import * as http from "node:http";
import * as net from "node:net";
import { Driver } from "../../lib/driver";
import { CollectingIO, SAMPLE_KEY, record } from "../support/wire";
import { readUntil } from "../support/raw-socket";

const headers = {
  host: "server.example.com",
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": SAMPLE_KEY,
  "sec-websocket-version": "13",
};

/**
 * RFC 9112 §3.2.2: a request target may be in absolute form, and Node's HTTP parser hands such a
 * target to the `upgrade` event as it came, whether or not a URL parser accepts its authority
 * (`ws://h:99999/chat`: a port out of range). The handshake needs only its path and query.
 */
describe("Driver.fromRequest: a request target in absolute form that is not a valid URL", () => {
  const targets: Array<[string, string]> = [
    ["ws://server.example.com:99999/chat?room=1", "/chat?room=1"],
    ["http://[::1/chat", "/chat"],
    ["http://exa%mple/chat", "/chat"],
    ["http://server.example.com:80x", "/"],
  ];

  it.each(targets)("takes %s as the path %s, and does not throw", (url, path) => {
    const io = new CollectingIO();
    const driver = Driver.fromRequest({ method: "GET", url, headers }, io);
    expect(driver.request?.url).toBe(path);
    const events = record(driver);
    expect(driver.start()).toBe(true);
    expect(io.text()).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(events.map(([type]) => type)).toEqual(["open"]);
  });

  it("still reads a valid absolute URL's path and query as before", () => {
    const driver = Driver.fromRequest({ method: "GET", url: "ws://server.example.com:8080/a/b?x=1", headers }, new CollectingIO());
    expect(driver.request?.url).toBe("/a/b?x=1");
  });

  describe("through node:http, with the bytes a peer sends", () => {
    let server: http.Server;
    let port: number;
    const thrown: unknown[] = [];
    /** Upgraded sockets are no longer the server's: they are closed here. */
    const upgraded = new Set<net.Socket>();

    beforeAll(async () => {
      server = http.createServer();
      server.on("upgrade", (request: http.IncomingMessage, socket: net.Socket) => {
        upgraded.add(socket);
        try {
          const driver = Driver.fromRequest(request, socket);
          driver.start();
        } catch (error) {
          // Uncaught, this would end the server's process: an `upgrade` listener that throws.
          thrown.push(error);
          socket.destroy();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as net.AddressInfo).port;
    });

    afterAll(async () => {
      for (const socket of upgraded) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it("answers 101 to GET ws://server.example.com:99999/chat HTTP/1.1", async () => {
      const socket = net.connect(port, "127.0.0.1");
      try {
        await new Promise<void>((resolve) => socket.once("connect", resolve));
        socket.write(
          "GET ws://server.example.com:99999/chat HTTP/1.1\r\n" +
          "Host: server.example.com\r\n" +
          "Upgrade: websocket\r\n" +
          "Connection: Upgrade\r\n" +
          `Sec-WebSocket-Key: ${SAMPLE_KEY}\r\n` +
          "Sec-WebSocket-Version: 13\r\n\r\n");
        const closed = new Promise<Buffer>((resolve) => socket.once("close", () => resolve(Buffer.alloc(0))));
        const answer = await Promise.race([readUntil(socket, (bytes) => bytes.includes("\r\n\r\n")), closed]);
        expect(thrown).toEqual([]);
        expect(answer.toString("latin1")).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      } finally {
        socket.destroy();
      }
    });
  });
});
