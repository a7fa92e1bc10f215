/**
 * The draft protocols over loopback: a `Driver.server` with `allowDrafts` and a peer speaking
 * draft-hixie-76 and draft-hixie-75 by hand. Text frames are `0x00`, UTF-8, `0xFF`; frame types
 * with the high bit set carry a length and are skipped; on draft-76, `0xFF 0x00` closes. The
 * handshake uses the draft-76 example keys, so the challenge answer is known: `8jKS'y:G*Co,Wxa-`.
 */
import { bytes, concat, utf8 } from "../support/wire";
import { type EchoServer, RawClient, group, startEchoServer } from "./peer";

const MAX_LENGTH = 1000;
let server: EchoServer;
let strict: EchoServer;
beforeAll(async () => {
  server = await startEchoServer({ allowDrafts: true, maxLength: MAX_LENGTH });
  strict = await startEchoServer();
});
afterAll(async () => {
  await server.close();
  await strict.close();
});

const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const BODY = latin1("^n:ds[4U");
const ANSWER = "8jKS'y:G*Co,Wxa-";

const head76 = (keys: [string, string] = ["4 @1  46546xW%0l 1 5", "12998 5 Y3 1  .P00"]): string =>
  "GET /demo HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\n" +
  `Sec-WebSocket-Key2: ${keys[1]}\r\nSec-WebSocket-Protocol: sample\r\nUpgrade: WebSocket\r\n` +
  `Sec-WebSocket-Key1: ${keys[0]}\r\nOrigin: http://example.com\r\n\r\n`;
const head75 = "GET /demo HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nHost: example.com\r\nOrigin: http://example.com\r\n\r\n";

const textFrame = (payload: Uint8Array | string): Uint8Array => concat(bytes(0x00), typeof payload === "string" ? utf8(payload) : payload, bytes(0xff));
const CLOSING = bytes(0xff, 0x00);

/** Splits a draft byte stream into its frames: text payloads as strings, `close` for 0xFF 0x00. */
function draftFrames(data: Uint8Array): Array<string> {
  const out: string[] = [];
  let at = 0;
  while (at < data.length) {
    if (data[at] === 0x00) {
      const end = data.indexOf(0xff, at + 1);
      if (end < 0) throw new Error("unterminated text frame");
      out.push(new TextDecoder().decode(data.subarray(at + 1, end)));
      at = end + 1;
    } else if (data[at] === 0xff && data[at + 1] === 0x00) {
      out.push("close");
      at += 2;
    } else {
      throw new Error(`unexpected byte 0x${data[at].toString(16)} at ${at}`);
    }
  }
  return out;
}

/** Connects with a draft-76 request and its 8 bytes; returns the client and what followed the response head. */
async function open76(target: EchoServer = server): Promise<RawClient> {
  const client = await RawClient.connect(target, concat(latin1(head76()), BODY));
  expect(client.response).toMatch(/^HTTP\/1\.1 101 WebSocket Protocol Handshake\r\n/);
  return client;
}

/** Everything after the 16-byte challenge answer, once the server has closed. */
async function after76(client: RawClient): Promise<{ answer: string; frames: string[] }> {
  const data = await client.bytesUntilClosed();
  return { answer: String.fromCharCode(...data.subarray(0, 16)), frames: draftFrames(data.subarray(16)) };
}

group("hixie drafts", (testCase) => {
  testCase("draft-76: the handshake answers the example keys with 8jKS'y:G*Co,Wxa-", async () => {
    const client = await open76();
    try {
      expect(client.response).toContain("Sec-WebSocket-Location: ws://example.com/demo\r\n");
      expect(client.response).toContain("Sec-WebSocket-Origin: http://example.com\r\n");
      client.send(CLOSING);
      expect(await after76(client)).toEqual({ answer: ANSWER, frames: ["close"] });
      expect(client.server?.driver.version).toBe("hixie-76");
    } finally {
      client.destroy();
    }
  });

  testCase("draft-76: the 8 bytes sent after the head, one at a time, still open the connection", async () => {
    const client = await RawClient.connectOnly(server);
    try {
      await client.sendPaced([latin1(head76()), ...Array.from(BODY, (b) => bytes(b))]);
      client.send(textFrame("late"), CLOSING);
      expect(await after76(client)).toEqual({ answer: ANSWER, frames: ["late", "close"] });
    } finally {
      client.destroy();
    }
  });

  testCase("draft-76: a key with no spaces is refused with 400", async () => {
    const client = await RawClient.connect(server, concat(latin1(head76(["12345", "12998 5 Y3 1  .P00"])), BODY));
    try {
      expect(client.response).toMatch(/^HTTP\/1\.1 400 /);
    } finally {
      client.destroy();
    }
  });

  const messages = ["", "Hello", "κόσμε", "€𝄞", "x".repeat(MAX_LENGTH - 2)];
  for (const message of messages) {
    testCase(`draft-76: a text frame of ${utf8(message).length} bytes is echoed`, async () => {
      const client = await open76();
      try {
        client.send(textFrame(message), CLOSING);
        expect((await after76(client)).frames).toEqual([message, "close"]);
      } finally {
        client.destroy();
      }
    });
  }

  testCase("draft-76: text frames read one byte at a time are echoed", async () => {
    const client = await open76();
    try {
      await client.sendInPieces(concat(textFrame("one"), textFrame("κόσμε")), 1);
      client.send(CLOSING);
      expect((await after76(client)).frames).toEqual(["one", "κόσμε", "close"]);
    } finally {
      client.destroy();
    }
  });

  testCase("draft-76: a length-prefixed frame (high bit set) is skipped", async () => {
    const client = await open76();
    try {
      // Type 0x80, length 200 as 7-bit groups (0x81 0x48), then 200 bytes.
      client.send(concat(bytes(0x80, 0x81, 0x48), new Uint8Array(200).fill(0x41), textFrame("after"), CLOSING));
      expect((await after76(client)).frames).toEqual(["after", "close"]);
    } finally {
      client.destroy();
    }
  });

  testCase("draft-76: a text frame type other than 0x00 is read and discarded", async () => {
    const client = await open76();
    try {
      client.send(concat(bytes(0x01), utf8("ignored"), bytes(0xff), textFrame("kept"), CLOSING));
      expect((await after76(client)).frames).toEqual(["kept", "close"]);
    } finally {
      client.destroy();
    }
  });

  for (const [title, payload] of [["a surrogate", bytes(0xed, 0xa0, 0x80)], ["an overlong", bytes(0xc0, 0xaf)], ["above U+10FFFF", bytes(0xf4, 0x90, 0x80, 0x80)]] as const) {
    testCase(`draft-76: invalid UTF-8 (${title}) closes with 0xFF 0x00 and error 1007`, async () => {
      const client = await open76();
      try {
        client.send(textFrame(payload), textFrame("after"));
        expect((await after76(client)).frames).toEqual(["close"]);
        const error = client.server?.events.find(([type]) => type === "error")?.[1] as { code?: number } | undefined;
        expect(error?.code).toBe(1007);
      } finally {
        client.destroy();
      }
    });
  }

  testCase(`draft-76: a text frame over maxLength (${MAX_LENGTH}) closes with error 1009`, async () => {
    const client = await open76();
    try {
      client.send(concat(bytes(0x00), new Uint8Array(MAX_LENGTH + 10).fill(0x61)));
      expect((await after76(client)).frames).toEqual(["close"]);
      const error = client.server?.events.find(([type]) => type === "error")?.[1] as { code?: number } | undefined;
      expect(error?.code).toBe(1009);
    } finally {
      client.destroy();
    }
  });

  testCase("draft-76: a length-prefixed frame announcing more than maxLength closes with error 1009", async () => {
    const client = await open76();
    try {
      // Length 2^35 in 7-bit groups: the frame is refused before any of it is read.
      client.send(bytes(0x80, 0x80 | 0x7f, 0xff, 0xff, 0xff, 0x7f));
      expect((await after76(client)).frames).toEqual(["close"]);
      const error = client.server?.events.find(([type]) => type === "error")?.[1] as { code?: number } | undefined;
      expect(error?.code).toBe(1009);
    } finally {
      client.destroy();
    }
  });

  testCase("draft-75: the handshake, a text echo, and 0xFF 0x00 as an empty frame", async () => {
    const client = await RawClient.connect(server, head75);
    try {
      expect(client.response).toMatch(/^HTTP\/1\.1 101 Web Socket Protocol Handshake\r\n/);
      expect(client.response).toContain("WebSocket-Location: ws://example.com/demo\r\n");
      expect(client.server?.driver.version).toBe("hixie-75");
      client.send(textFrame("Hello"), bytes(0xff, 0x00), textFrame("again"));
      client.endWrite();
      expect(draftFrames(await client.bytesUntilClosed())).toEqual(["Hello", "again"]);
      expect(client.server?.events.at(-1)).toEqual(["close", { code: 1006, reason: "" }]);
    } finally {
      client.destroy();
    }
  });

  for (const [title, request] of [["draft-76", concat(latin1(head76()), BODY)], ["draft-75", latin1(head75)]] as const) {
    testCase(`${title} without allowDrafts is refused with 400`, async () => {
      const client = await RawClient.connect(strict, request);
      try {
        expect(client.response).toMatch(/^HTTP\/1\.1 400 /);
      } finally {
        client.destroy();
      }
    });
  }
});
