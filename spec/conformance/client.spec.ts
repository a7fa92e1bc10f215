/**
 * The matrix in reverse: a raw server answers a `Driver.client`'s handshake by hand and writes
 * hand-built, unmasked frames; the client echoes every message, and every frame it writes must be
 * masked (RFC 6455 §5.3). The rules are the same as the server's, from the other side.
 */
import { bytes, concat, frame, upgradeResponse, utf8 } from "../support/wire";
import { BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, expectBeforeClose, expectClosedWith, stars } from "./cases";
import { type EchoClient, type RawServer, type RawServerConnection, type WireFrame, connectEchoClient, group, startRawServer } from "./peer";

let server: RawServer;
beforeAll(async () => { server = await startRawServer(); });
afterAll(() => server.close());

const serverFrame = frame;
const serverClose = (code: number, reason = ""): Uint8Array => serverFrame({ opcode: CLOSE, payload: concat(bytes(code >>> 8, code & 0xff), utf8(reason)) });
const NORMAL_CLOSE = serverClose(1000);

/** Connects a client, lets `send` write raw frames to it, and returns what it wrote until it closed. */
async function clientExchange(send: (connection: RawServerConnection, client: EchoClient) => void): Promise<{ frames: WireFrame[]; client: EchoClient }> {
  const client = connectEchoClient(server.port);
  const connection = await server.accept();
  send(connection, client);
  const frames = await connection.framesUntilClosed();
  await client.closed;
  expect(client.thrown).toEqual([]);
  // RFC 6455 §5.3: a client masks every frame it sends.
  for (const f of frames) expect(f.masked).toBe(true);
  return { frames, client };
}

function clientError(client: EchoClient): string | undefined {
  const errors = client.events.filter(([type]) => type === "error");
  expect(errors.length).toBeLessThanOrEqual(1);
  return errors[0] ? (errors[0][1] as Error).message : undefined;
}

group("client", (testCase) => {
  for (const opcode of [TEXT, BINARY]) {
    for (const length of [0, 125, 126, 127, 65535, 65536, 2 ** 20]) {
      testCase(`${opcode === TEXT ? "text" : "binary"} frame of ${length} bytes is echoed, masked`, async () => {
        const payload = stars(length);
        const { frames } = await clientExchange((c) => c.send(serverFrame({ opcode, payload }), NORMAL_CLOSE));
        expectBeforeClose(frames, [[opcode, payload]]);
        expectClosedWith(frames, 1000);
      });
    }
  }

  testCase("frames in the same write as the 101 response are read", async () => {
    const respond = (key: string): string =>
      upgradeResponse(key) + String.fromCharCode(...serverFrame({ opcode: TEXT, payload: "early" }), ...NORMAL_CLOSE);
    const eager = await startRawServer(respond);
    try {
      const client = connectEchoClient(eager.port);
      const connection = await eager.accept();
      const frames = await connection.framesUntilClosed();
      await client.closed;
      expectBeforeClose(frames, [[TEXT, utf8("early")]]);
      expectClosedWith(frames, 1000);
    } finally {
      await eager.close();
    }
  });

  testCase("a masked frame from a server fails the connection with 1002 (§5.1)", async () => {
    const { frames, client } = await clientExchange((c) => c.send(frame({ opcode: TEXT, payload: "Hello", mask: true })));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1002);
    expect(clientError(client)).toMatch(/masked/i);
  });

  testCase("a ping is answered with a masked pong carrying the same bytes", async () => {
    const { frames } = await clientExchange((c) => c.send(serverFrame({ opcode: PING, payload: stars(125) }), NORMAL_CLOSE));
    expectBeforeClose(frames, [[PONG, stars(125)]]);
  });

  testCase("a ping with 126 bytes fails with 1002", async () => {
    const { frames } = await clientExchange((c) => c.send(serverFrame({ opcode: PING, payload: stars(126) })));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1002);
  });

  testCase("an unsolicited pong is not answered", async () => {
    const { frames } = await clientExchange((c) => c.send(serverFrame({ opcode: PONG, payload: "x" }), NORMAL_CLOSE));
    expectBeforeClose(frames, []);
  });

  testCase("the client's own ping is matched by the server's pong", async () => {
    let ponged = 0;
    const { frames } = await clientExchange((c, client) => {
      client.driver.on("open", () => {
        client.driver.ping("are you there", () => { ponged++; });
      });
      client.driver.on("ping", () => undefined);
      c.send(serverFrame({ opcode: PONG, payload: "not this one" }), serverFrame({ opcode: PONG, payload: "are you there" }), NORMAL_CLOSE);
    });
    expect(frames[0].opcode).toBe(PING);
    expect(ponged).toBe(1);
  });

  for (let rsv = 1; rsv <= 7; rsv++) {
    testCase(`RSV bits 0x${(rsv << 4).toString(16)} on a text frame: 1002`, async () => {
      const { frames } = await clientExchange((c) => c.send(serverFrame({ opcode: TEXT, rsv: rsv << 4, payload: "Hello" })));
      expectBeforeClose(frames, []);
      expectClosedWith(frames, 1002);
    });
  }

  for (const opcode of [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    testCase(`reserved opcode 0x${opcode.toString(16).toUpperCase()}: 1002, the message before it echoed`, async () => {
      const { frames } = await clientExchange((c) => c.send(serverFrame({ opcode: TEXT, payload: "ok" }), serverFrame({ opcode }), serverFrame({ opcode: PING })));
      expectBeforeClose(frames, [[TEXT, utf8("ok")]]);
      expectClosedWith(frames, 1002);
    });
  }

  for (const count of [2, 1000]) {
    testCase(`a message in ${count} fragments with pings between them`, async () => {
      const parts = Array.from({ length: count }, (_, i) => serverFrame({ opcode: i === 0 ? TEXT : CONTINUATION, fin: i === count - 1, payload: `${i};` }));
      const withPing = [parts[0], serverFrame({ opcode: PING, payload: "p" }), ...parts.slice(1)];
      const { frames } = await clientExchange((c) => c.send(concat(...withPing), NORMAL_CLOSE));
      const text = Array.from({ length: count }, (_, i) => `${i};`).join("");
      expectBeforeClose(frames, [[PONG, utf8("p")], [TEXT, utf8(text)]]);
    });
  }

  testCase("a continuation with nothing to continue: 1002", async () => {
    const { frames } = await clientExchange((c) => c.send(serverFrame({ opcode: CONTINUATION, payload: "x" })));
    expectClosedWith(frames, 1002);
  });

  testCase("a new data frame inside a fragmented message: 1002", async () => {
    const { frames } = await clientExchange((c) => c.send(serverFrame({ opcode: TEXT, fin: false, payload: "a" }), serverFrame({ opcode: BINARY, payload: "b" })));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1002);
  });

  testCase("invalid UTF-8 in a fragmented text message fails with 1007 before its last fragment", async () => {
    const { frames } = await clientExchange((c) => c.send(
      serverFrame({ opcode: TEXT, fin: false, payload: "κόσμε" }),
      serverFrame({ opcode: CONTINUATION, fin: false, payload: bytes(0xed, 0xa0, 0x80) }),
    ));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1007);
  });

  testCase("a valid UTF-8 text split inside a character across fragments is echoed", async () => {
    const euro = utf8("€");
    const { frames } = await clientExchange((c) => c.send(
      serverFrame({ opcode: TEXT, fin: false, payload: euro.subarray(0, 1) }),
      serverFrame({ opcode: CONTINUATION, payload: euro.subarray(1) }),
      NORMAL_CLOSE,
    ));
    expectBeforeClose(frames, [[TEXT, euro]]);
  });

  for (const code of [0, 999, 1000, 1001, 1003, 1004, 1005, 1006, 1007, 1011, 1012, 1014, 1015, 1016, 2999, 3000, 4999, 5000, 65535]) {
    const valid = code >= 3000 ? code <= 4999 : [1000, 1001, 1003, 1007, 1011, 1012, 1014].includes(code);
    testCase(`close code ${code} from the server: ${valid ? "echoed" : "1002"}`, async () => {
      const { frames, client } = await clientExchange((c) => c.send(serverClose(code)));
      expectClosedWith(frames, valid ? code : 1002);
      const close = client.events.find(([type]) => type === "close");
      expect(close?.[1]).toEqual(valid ? { code, reason: "" } : { code: 1002, reason: `Invalid close code ${code}` });
    });
  }

  testCase("a close the client starts: its close frame is masked, the server's answer ends it", async () => {
    const { frames, client } = await clientExchange((c, echo) => {
      echo.driver.on("open", () => {
        expect(echo.driver.close("bye", 4000)).toBe(true);
        c.send(serverClose(4000));
      });
    });
    expect(frames).toHaveLength(1);
    expect(frames[0].opcode).toBe(CLOSE);
    expect(Array.from(frames[0].payload)).toEqual([0x0f, 0xa0, ...utf8("bye")]);
    expect(client.events.filter(([type]) => type === "close")).toEqual([["close", { code: 4000, reason: "" }]]);
  });

  testCase("data after the server's close is ignored", async () => {
    const { frames, client } = await clientExchange((c) => c.send(concat(NORMAL_CLOSE, serverFrame({ opcode: TEXT, payload: "late" }), serverFrame({ opcode: PING }))));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1000);
    expect(client.events.filter(([type]) => type === "message" || type === "ping")).toEqual([]);
  });
});
