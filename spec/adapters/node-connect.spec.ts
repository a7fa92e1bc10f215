/**
 * The Node adapter's `connect()` given options the client driver refuses (a subprotocol that is not
 * a token, one offered twice: RFC 6455 §4.1). It throws, and must not leave behind a connection the
 * caller has no handle on: a raw `node:net` server on loopback counts the connections it accepts.
 * A plain probe connection made after the refused call is accepted after anything the call opened
 * (the kernel accepts in the order the connections were made), so when the probe's byte arrives
 * the count is final.
 */
import { type AddressInfo, type Server, type Socket, connect as netConnect, createServer } from "node:net";
import { connect } from "../../lib/adapters/node";

describe("connect() with options the client driver refuses", () => {
  let server: Server;
  let port = 0;
  const accepted: Socket[] = [];
  let probed: (count: number) => void = () => undefined;
  beforeAll(async () => {
    server = createServer((socket) => {
      accepted.push(socket);
      socket.on("error", () => undefined);
      socket.on("data", (chunk: Buffer) => {
        if (chunk.toString("latin1") === "probe") probed(accepted.length);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of accepted) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** How many connections the server has accepted when a probe made now is read. */
  async function connectionsSoFar(): Promise<number> {
    const counted = new Promise<number>((resolve) => { probed = resolve; });
    const probe = netConnect(port, "127.0.0.1", () => probe.write("probe"));
    try {
      return await counted;
    } finally {
      probe.destroy();
    }
  }

  it.each([
    ["ws:", ["a,b"], /Invalid subprotocol name/],
    ["ws:", ["chat", "chat"], /Subprotocol offered twice/],
    ["wss:", ["a b"], /Invalid subprotocol name/],
  ])("%s %j: throws a TypeError and opens no connection", async (scheme, protocols, message) => {
    const before = accepted.length;
    expect(() => connect(`${scheme}//127.0.0.1:${port}/`, { protocols })).toThrow(message);
    // Only the probe: nothing was left connecting behind the throw.
    expect(await connectionsSoFar()).toBe(before + 1);
  });
});
