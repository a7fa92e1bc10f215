/**
 * Group 7 (Autobahn 7.x): the closing handshake (RFC 6455 §5.5.1, §7). A close frame is answered
 * with a close frame echoing its status code; nothing after a close frame is read; a 1-byte
 * payload, a code that may not be sent (§7.4), a reason that is not UTF-8, or a payload over 125
 * bytes fails the connection.
 *
 * Every code from 0 to 5000 is tried: 1000–1003, 1007–1014 and 3000–4999 are valid (1012–1014 were
 * registered with IANA after the RFC, and ws and browsers accept them); everything else is refused
 * with 1002.
 */
import { isValidCloseCode } from "../../lib/hybi/close";
import { bytes, clientFrame, concat, utf8 } from "../support/wire";
import { CONTINUATION, NORMAL_CLOSE, PING, PONG, TEXT, clientClose, exchange, expectBeforeClose, expectClosedWith, serverError, stars } from "./cases";
import { type EchoServer, group, startEchoServer } from "./peer";

let server: EchoServer;
beforeAll(async () => { server = await startEchoServer(); });
afterAll(() => server.close());


/** RFC 6455 §7.4.1–7.4.2 and the IANA registry, written out here rather than taken from lib/. */
function expectedValid(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014].includes(code);
}

function serverClose(client: { server?: { events: Array<[string, unknown]> } }): unknown {
  return client.server?.events.filter(([type]) => type === "close").map(([, event]) => event);
}

group("close", (testCase) => {
  testCase("the driver's table of close codes matches the RFC's for 0 to 65535", () => {
    const mismatches: number[] = [];
    for (let code = 0; code <= 0xffff; code++) if (isValidCloseCode(code) !== expectedValid(code)) mismatches.push(code);
    expect(mismatches).toEqual([]);
  });

  for (let code = 0; code <= 5000; code++) {
    if (expectedValid(code)) {
      testCase(`close code ${code} is valid: echoed back`, async () => {
        const { frames, client } = await exchange(server, (c) => c.send(clientClose(code)));
        expectClosedWith(frames, code);
        expect(serverClose(client)).toEqual([{ code, reason: "" }]);
      });
    } else {
      testCase(`close code ${code} is invalid: 1002`, async () => {
        const { frames } = await exchange(server, (c) => c.send(clientClose(code)));
        expectClosedWith(frames, 1002);
      });
    }
  }

  testCase("close code 65535 is invalid: 1002", async () => {
    const { frames, client } = await exchange(server, (c) => c.send(clientClose(65535)));
    expectClosedWith(frames, 1002);
    expect(serverError(client)).toMatch(/close code 65535/i);
  });

  testCase("an empty close is answered with an empty close; the event says 1005", async () => {
    const { frames, client } = await exchange(server, (c) => c.send(clientClose()));
    expectClosedWith(frames, null);
    expect(frames[0].payload.length).toBe(0);
    expect(serverClose(client)).toEqual([{ code: 1005, reason: "" }]);
  });

  testCase("a close with a 1-byte payload fails with 1002", async () => {
    const { frames, client } = await exchange(server, (c) => c.send(clientFrame({ opcode: 0x8, payload: bytes(0x03) })));
    expectClosedWith(frames, 1002);
    expect(serverError(client)).toMatch(/1-byte/);
  });

  testCase("a close with a code and a reason: the code is echoed, the reason reported", async () => {
    const { frames, client } = await exchange(server, (c) => c.send(clientClose(1000, "Hello World!")));
    expectClosedWith(frames, 1000);
    expect(serverClose(client)).toEqual([{ code: 1000, reason: "Hello World!" }]);
  });

  testCase("a close with a 123-byte reason (a 125-byte payload) is accepted", async () => {
    const reason = "*".repeat(123);
    const { frames, client } = await exchange(server, (c) => c.send(clientClose(1000, reason)));
    expectClosedWith(frames, 1000);
    expect(serverClose(client)).toEqual([{ code: 1000, reason }]);
  });

  testCase("a close with a 124-byte reason (a 126-byte payload) fails with 1002", async () => {
    const { frames } = await exchange(server, (c) => c.send(clientClose(1000, "*".repeat(124))));
    expectClosedWith(frames, 1002);
  });

  testCase("a close whose reason is not UTF-8 fails with 1007", async () => {
    const reason = concat(utf8("κόσμε"), bytes(0xed, 0xa0, 0x80), utf8("edited"));
    const { frames, client } = await exchange(server, (c) => c.send(clientClose(1000, reason)));
    expectClosedWith(frames, 1007);
    expect(serverError(client)).toMatch(/UTF-8/);
  });

  testCase("a close whose reason ends inside a UTF-8 sequence fails with 1007", async () => {
    const { frames } = await exchange(server, (c) => c.send(clientClose(1000, concat(utf8("abc"), bytes(0xe2, 0x82)))));
    expectClosedWith(frames, 1007);
  });

  testCase("a close read one byte at a time is answered", async () => {
    const { frames } = await exchange(server, (c) => c.sendInPieces(clientClose(1001, "going"), 1));
    expectClosedWith(frames, 1001);
  });

  testCase("a message, then a close: the message is echoed first", async () => {
    const { frames } = await exchange(server, (c) => c.send(clientFrame({ opcode: TEXT, payload: "Hello World!" }), NORMAL_CLOSE));
    expectBeforeClose(frames, [[TEXT, utf8("Hello World!")]]);
    expectClosedWith(frames, 1000);
  });

  testCase("data after a close is ignored: a message, a ping and a second close", async () => {
    const { frames, client } = await exchange(server, (c) => c.send(concat(
      NORMAL_CLOSE,
      clientFrame({ opcode: TEXT, payload: "after close" }),
      clientFrame({ opcode: PING, payload: "after close" }),
      clientClose(3000),
    )));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1000);
    expect(client.server?.events.map(([type]) => type)).toEqual(["connect", "open", "close"]);
  });

  testCase("garbage after a close is ignored", async () => {
    const { frames, client } = await exchange(server, (c) => c.send(NORMAL_CLOSE, bytes(0xff, 0xff, 0xff, 0xff, 0x00, 0x13)));
    expectClosedWith(frames, 1000);
    expect(serverError(client)).toBeUndefined();
  });

  testCase("a close during a fragmented message: the close is answered, the message dropped", async () => {
    const { frames, client } = await exchange(server, (c) => c.send(concat(
      clientFrame({ opcode: TEXT, fin: false, payload: "fragment1" }),
      clientClose(1000),
      clientFrame({ opcode: CONTINUATION, payload: "fragment2" }),
    )));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1000);
    expect(client.server?.events.filter(([type]) => type === "message")).toEqual([]);
  });

  testCase("a large message, a ping and a close in one write: echo, pong, close in order", async () => {
    const payload = stars(256 * 1024);
    const { frames } = await exchange(server, (c) => c.send(concat(
      clientFrame({ opcode: 0x2, payload }),
      clientFrame({ opcode: PING, payload: "ping" }),
      NORMAL_CLOSE,
    )));
    expectBeforeClose(frames, [[0x2, payload], [PONG, utf8("ping")]]);
    expectClosedWith(frames, 1000);
  });
});
