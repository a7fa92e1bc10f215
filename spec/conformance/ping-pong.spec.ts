/**
 * Group 2 (Autobahn 2.x, 5.1, 5.2, 5.6): pings are answered with a pong carrying the same
 * application data (RFC 6455 §5.5.2), unsolicited pongs are ignored (§5.5.3), and a control frame
 * is at most 125 bytes and never fragmented (§5.5).
 */
import { bytes, clientFrame, concat, utf8 } from "../support/wire";
import { CONTINUATION, NORMAL_CLOSE, PING, PONG, TEXT, expectBeforeClose, exchange, expectClosedWith, expectServerFrames, serverError, stars } from "./cases";
import { type EchoServer, group, startEchoServer } from "./peer";

let server: EchoServer;
beforeAll(async () => { server = await startEchoServer(); });
afterAll(() => server.close());


group("ping-pong", (testCase) => {
  const echoed: Array<[string, Uint8Array]> = [
    ["an empty ping", new Uint8Array(0)],
    ["a ping with a short text payload", utf8("Hello, world!")],
    ["a ping with a binary payload", bytes(0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff)],
    ["a ping with 125 bytes", stars(125)],
  ];
  for (const [title, payload] of echoed) {
    testCase(`${title} is answered with a pong carrying the same bytes`, async () => {
      const { frames, client } = await exchange(server, (c) => c.send(clientFrame({ opcode: PING, payload }), NORMAL_CLOSE));
      expectServerFrames(frames);
      expectBeforeClose(frames, [[PONG, payload]]);
      expectClosedWith(frames, 1000);
      expect(client.server?.events.filter(([type]) => type === "ping")).toEqual([["ping", { data: payload }]]);
    });
  }

  testCase("a ping with 125 bytes read one byte at a time is answered", async () => {
    const payload = stars(125);
    const { frames } = await exchange(server, async (c) => {
      await c.sendInPieces(clientFrame({ opcode: PING, payload }), 1);
      c.send(NORMAL_CLOSE);
    });
    expectBeforeClose(frames, [[PONG, payload]]);
  });

  testCase("a ping with 126 bytes fails the connection with 1002, unanswered", async () => {
    const { frames, client } = await exchange(server, (c) => c.send(clientFrame({ opcode: PING, payload: stars(126) }), NORMAL_CLOSE));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1002);
    expect(serverError(client)).toMatch(/125/);
  });

  testCase("a ping with 126 bytes is refused on its header, before its payload arrives", async () => {
    const { frames, client } = await exchange(server, (c) => c.sendPaced([clientFrame({ opcode: PING, payload: stars(126) }).subarray(0, 8)]));
    expectClosedWith(frames, 1002);
    expect(client.errorOffset).toBe(8);
  });

  testCase("an unsolicited empty pong is not answered", async () => {
    const { frames, client } = await exchange(server, (c) => c.send(clientFrame({ opcode: PONG }), NORMAL_CLOSE));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1000);
    expect(client.server?.events.filter(([type]) => type === "pong")).toHaveLength(1);
  });

  testCase("an unsolicited pong with a payload is not answered", async () => {
    const { frames } = await exchange(server, (c) => c.send(clientFrame({ opcode: PONG, payload: "unsolicited pong payload" }), NORMAL_CLOSE));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1000);
  });

  testCase("an unsolicited pong, then a ping: only the ping is answered", async () => {
    const { frames } = await exchange(server, (c) => c.send(
      clientFrame({ opcode: PONG, payload: "unsolicited pong payload" }),
      clientFrame({ opcode: PING, payload: "ping payload" }),
      NORMAL_CLOSE,
    ));
    expectBeforeClose(frames, [[PONG, utf8("ping payload")]]);
  });

  testCase("10 pings in one chunk get 10 pongs, in order", async () => {
    const payloads = Array.from({ length: 10 }, (_, i) => utf8(`payload-${i}`));
    const { frames } = await exchange(server, (c) => c.send(concat(...payloads.map((payload) => clientFrame({ opcode: PING, payload })), NORMAL_CLOSE)));
    expectBeforeClose(frames, payloads.map((p) => [PONG, p]));
  });

  testCase("10 pings read one byte at a time get 10 pongs, in order", async () => {
    const payloads = Array.from({ length: 10 }, (_, i) => utf8(`payload-${i}`));
    const { frames } = await exchange(server, async (c) => {
      await c.sendInPieces(concat(...payloads.map((payload) => clientFrame({ opcode: PING, payload }))), 1);
      c.send(NORMAL_CLOSE);
    });
    expectBeforeClose(frames, payloads.map((p) => [PONG, p]));
  });

  testCase("a ping while a fragmented message is in flight is answered first, the message after", async () => {
    const { frames } = await exchange(server, (c) => c.send(
      clientFrame({ opcode: TEXT, fin: false, payload: "fragment1" }),
      clientFrame({ opcode: PING, payload: "ping payload" }),
      clientFrame({ opcode: CONTINUATION, payload: "fragment2" }),
      NORMAL_CLOSE,
    ));
    expectBeforeClose(frames, [[PONG, utf8("ping payload")], [TEXT, utf8("fragment1fragment2")]]);
  });

  testCase("a fragmented ping fails the connection with 1002", async () => {
    const { frames, client } = await exchange(server, (c) => c.send(
      clientFrame({ opcode: PING, fin: false, payload: "fragment1" }),
      clientFrame({ opcode: CONTINUATION, payload: "fragment2" }),
      NORMAL_CLOSE,
    ));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1002);
    expect(serverError(client)).toMatch(/fragmented control/i);
  });

  testCase("a fragmented pong fails the connection with 1002", async () => {
    const { frames } = await exchange(server, (c) => c.send(
      clientFrame({ opcode: PONG, fin: false, payload: "fragment1" }),
      clientFrame({ opcode: CONTINUATION, payload: "fragment2" }),
    ));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1002);
  });
});
