/**
 * Group 5 (Autobahn 5.x): fragmented messages (RFC 6455 §5.4). A message is one frame with an
 * opcode and FIN clear, any number of continuation frames, and one with FIN set; control frames may
 * come between fragments; a continuation with nothing to continue, or a new data frame inside a
 * fragmented message, fails the connection with 1002.
 */
import { clientFrame, concat, utf8 } from "../support/wire";
import { BINARY, CONTINUATION, NORMAL_CLOSE, PING, PONG, TEXT, expectBeforeClose, exchange, expectClosedWith, serverError } from "./cases";
import { type EchoServer, group, startEchoServer } from "./peer";

let server: EchoServer;
beforeAll(async () => { server = await startEchoServer(); });
afterAll(() => server.close());


/** A message as `count` frames: the opcode on the first, continuations after, FIN on the last. */
function fragments(opcode: number, parts: Array<string | Uint8Array>): Uint8Array[] {
  return parts.map((payload, i) => clientFrame({ opcode: i === 0 ? opcode : CONTINUATION, fin: i === parts.length - 1, payload }));
}

group("fragmentation", (testCase) => {
  for (const count of [1, 2, 3, 10, 100, 1000]) {
    for (const opcode of [TEXT, BINARY]) {
      const kind = opcode === TEXT ? "text" : "binary";
      testCase(`a ${kind} message in ${count} fragment(s) is delivered whole`, async () => {
        const parts = Array.from({ length: count }, (_, i) => `part${i};`);
        const { frames } = await exchange(server, (c) => c.send(concat(...fragments(opcode, parts), NORMAL_CLOSE)));
        expectBeforeClose(frames, [[opcode, utf8(parts.join(""))]]);
        expectClosedWith(frames, 1000);
      });
    }
  }

  testCase("a text message in 2 fragments read one byte at a time is delivered whole", async () => {
    const { frames } = await exchange(server, async (c) => {
      await c.sendInPieces(concat(...fragments(TEXT, ["fragment1", "fragment2"])), 1);
      c.send(NORMAL_CLOSE);
    });
    expectBeforeClose(frames, [[TEXT, utf8("fragment1fragment2")]]);
  });

  testCase("empty fragments: an empty first, middle and last fragment make the message", async () => {
    const { frames } = await exchange(server, (c) => c.send(concat(...fragments(TEXT, ["", "middle", "", ""]), NORMAL_CLOSE)));
    expectBeforeClose(frames, [[TEXT, utf8("middle")]]);
  });

  testCase("a message of empty fragments only is an empty message", async () => {
    const { frames } = await exchange(server, (c) => c.send(concat(...fragments(BINARY, ["", "", ""]), NORMAL_CLOSE)));
    expectBeforeClose(frames, [[BINARY, new Uint8Array(0)]]);
  });

  testCase("pings between fragments are answered at once, the message after its last fragment", async () => {
    const [f1, f2, f3, f4, f5] = fragments(TEXT, ["f1", "f2", "f3", "f4", "f5"]);
    const ping = (p: string): Uint8Array => clientFrame({ opcode: PING, payload: p });
    const { frames } = await exchange(server, (c) => c.send(concat(f1, f2, ping("p1"), f3, f4, ping("p2"), f5, NORMAL_CLOSE)));
    expectBeforeClose(frames, [[PONG, utf8("p1")], [PONG, utf8("p2")], [TEXT, utf8("f1f2f3f4f5")]]);
  });

  testCase("pings between fragments, read one byte at a time", async () => {
    const [f1, f2, f3] = fragments(TEXT, ["f1", "f2", "f3"]);
    const { frames } = await exchange(server, async (c) => {
      await c.sendInPieces(concat(f1, clientFrame({ opcode: PING, payload: "p" }), f2, clientFrame({ opcode: PONG, payload: "q" }), f3), 1);
      c.send(NORMAL_CLOSE);
    });
    expectBeforeClose(frames, [[PONG, utf8("p")], [TEXT, utf8("f1f2f3")]]);
  });

  const continuationAlone: Array<[string, boolean]> = [["FIN set", true], ["FIN clear", false]];
  for (const [title, fin] of continuationAlone) {
    testCase(`a continuation (${title}) with nothing to continue: 1002, nothing after it read`, async () => {
      const { frames, client } = await exchange(server, (c) => c.send(concat(
        clientFrame({ opcode: CONTINUATION, fin, payload: "fragment" }),
        clientFrame({ opcode: TEXT, payload: "Hello" }),
      )));
      expectBeforeClose(frames, []);
      expectClosedWith(frames, 1002);
      expect(serverError(client)).toMatch(/continu/i);
    });
  }

  testCase("a continuation with nothing to continue, read one byte at a time: fails on its header", async () => {
    const { frames, client } = await exchange(server, (c) => c.sendInPieces(clientFrame({ opcode: CONTINUATION, payload: "fragment" }), 1));
    expectClosedWith(frames, 1002);
    expect(client.errorOffset).toBe(6);
  });

  testCase("a continuation after a finished message: the message is echoed, then 1002", async () => {
    const { frames } = await exchange(server, (c) => c.send(concat(
      ...fragments(TEXT, ["frag1", "frag2"]),
      clientFrame({ opcode: CONTINUATION, fin: false, payload: "frag3" }),
      clientFrame({ opcode: TEXT, payload: "Hello" }),
    )));
    expectBeforeClose(frames, [[TEXT, utf8("frag1frag2")]]);
    expectClosedWith(frames, 1002);
  });

  testCase("a message opened by a continuation with FIN clear: 1002", async () => {
    const { frames } = await exchange(server, (c) => c.send(concat(
      clientFrame({ opcode: CONTINUATION, fin: false, payload: "frag1" }),
      ...fragments(TEXT, ["frag2", "frag3"]),
    )));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1002);
  });

  for (const [title, second] of [["text", TEXT], ["binary", BINARY]] as const) {
    testCase(`a new ${title} frame inside a fragmented message: 1002, neither delivered`, async () => {
      const { frames, client } = await exchange(server, (c) => c.send(concat(
        clientFrame({ opcode: TEXT, fin: false, payload: "frag1" }),
        clientFrame({ opcode: second, fin: true, payload: "frag2" }),
        clientFrame({ opcode: PING, payload: "after" }),
      )));
      expectBeforeClose(frames, []);
      expectClosedWith(frames, 1002);
      expect(serverError(client)).toMatch(/fragmented message/i);
    });
  }

  testCase("a close between fragments closes at once: the unfinished message is dropped", async () => {
    const { frames, client } = await exchange(server, (c) => c.send(concat(
      clientFrame({ opcode: TEXT, fin: false, payload: "frag1" }),
      NORMAL_CLOSE,
      clientFrame({ opcode: CONTINUATION, payload: "frag2" }),
    )));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1000);
    expect(client.server?.events.filter(([type]) => type === "message")).toEqual([]);
  });
});
