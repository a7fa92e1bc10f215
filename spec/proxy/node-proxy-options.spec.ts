import { once } from "node:events";
import * as net from "node:net";
import { connectThroughProxy } from "../../lib/adapters/node-proxy";

/** The TCP sockets this process holds open, by Node's count of its socket handles. */
const openSockets = (): number => process.getActiveResourcesInfo().filter((name) => name === "TCPSocketWrap").length;

/**
 * Options the driver or the proxy helper refuse make `connectThroughProxy` throw. The connection
 * to the proxy must not be opened (or must be closed) first: the caller gets no handle on it.
 */
describe("connectThroughProxy with options that are refused", () => {
  let server: net.Server;
  let port: number;
  const accepted: net.Socket[] = [];

  beforeAll(async () => {
    server = net.createServer((socket) => { accepted.push(socket); });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    for (const socket of accepted) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const cases: Array<[string, () => unknown]> = [
    ["proxy credentials that are not percent-encoding", () => connectThroughProxy("ws://example.com/", `http://%zz@127.0.0.1:${port}`)],
    ["an invalid subprotocol name", () => connectThroughProxy("ws://example.com/", `http://127.0.0.1:${port}`, { protocols: ["a b"] })],
    ["a maxLength of NaN", () => connectThroughProxy("ws://example.com/", `http://127.0.0.1:${port}`, { maxLength: NaN })],
    // RFC 6455 §3: no port means 80 or 443; port 0 is no port at all (as the direct connect() says).
    ["a WebSocket URL with port 0", () => connectThroughProxy("ws://example.com:0/", `http://127.0.0.1:${port}`)],
    ["a proxy URL with port 0", () => connectThroughProxy("ws://example.com/", "http://127.0.0.1:0")],
  ];

  it.each(cases)("throws a TypeError or RangeError for %s, and leaves no socket open", (_name, connect) => {
    const before = openSockets();
    let thrown: unknown;
    try {
      connect();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).name).toMatch(/^(TypeError|RangeError)$/);
    expect(openSockets()).toBe(before);
  });
});
