/**
 * The Node adapter given a socket whose client has already gone: an `upgrade` handler that awaits
 * something (an authentication check, with an `error` listener on the socket meanwhile, as ws's
 * documentation shows) before `acceptUpgrade`, while the client resets the connection or ends its
 * side. The socket's `close` or `end` has been emitted before the adapter listens, so the adapter
 * must read the socket's state: the driver emits `close` (1006), once its handlers are on, instead
 * of opening on a dead socket and never closing. So too when the server's own code ended the socket
 * meanwhile: the 101 can no longer be sent.
 */
import * as http from "node:http";
import { type AddressInfo, type Socket, connect as netConnect } from "node:net";
import { acceptSocket, acceptUpgrade } from "../../lib/adapters/node";
import type { ServerDriver } from "../../lib/types";
import { upgradeRequest } from "../support/wire";

const HANDSHAKE = upgradeRequest({ Host: "127.0.0.1" }, "GET /late HTTP/1.1");

/** Lets the callbacks queued by the calls so far run (process.nextTick, then setImmediate). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function eventsOf(driver: ServerDriver): string[] {
  const seen: string[] = [];
  driver.on("open", () => seen.push("open"));
  driver.on("close", ({ code }) => seen.push(`close ${code}`));
  return seen;
}

interface Upgrade {
  request: http.IncomingMessage;
  socket: Socket;
  head: Buffer;
}

describe("the Node adapter on a socket whose client has already gone", () => {
  const server = http.createServer();
  const clients: Socket[] = [];
  let port = 0;
  let upgrade: (found: Upgrade) => void = () => undefined;
  beforeAll(async () => {
    server.on("upgrade", (request: http.IncomingMessage, socket: Socket, head: Buffer) => {
      // While the handler awaits, a reset must not crash the process.
      socket.on("error", () => undefined);
      upgrade({ request, socket, head });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** The server's side of an upgrade, once the client has reset the connection or ended its side. */
  async function goneUpgrade(how: "reset" | "end"): Promise<Upgrade> {
    const upgraded = new Promise<Upgrade>((resolve) => { upgrade = resolve; });
    const client = netConnect(port, "127.0.0.1", () => client.write(HANDSHAKE));
    client.on("error", () => undefined);
    clients.push(client);
    const found = await upgraded;
    const gone = new Promise((resolve) => found.socket.once(how === "reset" ? "close" : "end", resolve));
    if (how === "reset") client.resetAndDestroy();
    else client.end();
    await gone;
    return found;
  }

  it.each(["reset", "end"] as const)("acceptUpgrade after the client's %s: close (1006), not open", async (how) => {
    const { request, socket, head } = await goneUpgrade(how);
    const { driver } = acceptUpgrade(request, socket, head);
    const seen = eventsOf(driver);
    await turn();
    expect(seen).toEqual(["close 1006"]);
    expect(driver.readyState).toBe(3);
  });

  /**
   * The server's side of an upgrade that the server's own code has ended meanwhile (a timeout that
   * gave up on a slow check, say), its FIN sent, while the client keeps its half open (RFC 9293
   * §3.6: a half-closed connection may stay so).
   */
  async function endedUpgrade(): Promise<Upgrade> {
    const upgraded = new Promise<Upgrade>((resolve) => { upgrade = resolve; });
    const client = netConnect({ port, host: "127.0.0.1", allowHalfOpen: true }, () => client.write(HANDSHAKE));
    client.on("error", () => undefined);
    clients.push(client);
    const found = await upgraded;
    const clientSawEnd = new Promise((resolve) => client.once("end", resolve));
    found.socket.end();
    await clientSawEnd;
    return found;
  }

  it("acceptUpgrade on a socket the server has already ended: close (1006), not open on a socket that cannot send the 101", async () => {
    const { request, socket, head } = await endedUpgrade();
    const { driver } = acceptUpgrade(request, socket, head);
    const seen = eventsOf(driver);
    await turn();
    expect(seen).toEqual(["close 1006"]);
    expect(driver.readyState).toBe(3);
  });

  it("acceptSocket on a socket the server has already ended: close (1006)", async () => {
    const { socket } = await endedUpgrade();
    const { driver } = acceptSocket(socket);
    const seen = eventsOf(driver);
    await turn();
    expect(seen).toEqual(["close 1006"]);
  });

  it.each(["reset", "end"] as const)("acceptSocket after the client's %s: close (1006)", async (how) => {
    const { socket } = await goneUpgrade(how);
    const { driver } = acceptSocket(socket);
    const seen = eventsOf(driver);
    await turn();
    expect(seen).toEqual(["close 1006"]);
  });
});
