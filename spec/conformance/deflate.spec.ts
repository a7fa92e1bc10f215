/**
 * Group 12 and 13 (Autobahn 12.x, 13.x): permessage-deflate (RFC 7692) on a `Driver.server` with
 * `deflate()`. The peer offers the extension with each combination of parameters Autobahn uses,
 * sends messages of every size compressed with zlib (RSV1 on the first frame, the trailing
 * `00 00 FF FF` removed, §7.2.1), and decompresses the echoes with zlib, keeping its window from
 * one message to the next unless `server_no_context_takeover` was agreed. Plus the rules: RSV1 only
 * on a message's first frame (1002), bytes that are not DEFLATE (1007), and `maxLength` applied to
 * the inflated size (1009). Then the same from the client's side, against a raw server.
 */
import * as zlib from "node:zlib";
import { deflate } from "../../lib/extensions/permessage-deflate";
import { clientFrame, concat, frame, upgradeRequest, utf8 } from "../support/wire";
import { BINARY, CONTINUATION, NORMAL_CLOSE, PING, PONG, TEXT, clientClose, expectClosedWith } from "./cases";
import { acceptKey } from "../../lib/hybi/accept";
import { type EchoServer, RawClient, type WireFrame, connectEchoClient, group, startEchoServer, startRawServer } from "./peer";

const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

let server: EchoServer;
let limited: EchoServer;
beforeAll(async () => {
  server = await startEchoServer({}, (driver) => driver.addExtension(deflate()));
  limited = await startEchoServer({ maxLength: 1000 }, (driver) => driver.addExtension(deflate()));
});
afterAll(async () => {
  await server.close();
  await limited.close();
});

/** Compresses one message on its own, as RFC 7692 §7.2.1 says: a sync flush, its tail removed. */
function compress(data: Uint8Array): Uint8Array {
  const out = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  expect(Array.from(out.subarray(out.length - 4))).toEqual(Array.from(TAIL));
  return out.subarray(0, out.length - 4);
}

/** A raw inflater that keeps its window across messages (RFC 7692 §7.2.2, context takeover). */
class StreamInflater {
  private readonly stream: zlib.InflateRaw;
  private output: Buffer[] = [];

  /** `windowBits`: the window the sender agreed to use; a larger back-reference fails to inflate. */
  constructor(windowBits = 15) {
    this.stream = zlib.createInflateRaw({ windowBits });
    this.stream.on("data", (chunk: Buffer) => this.output.push(chunk));
  }

  inflate(payload: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.stream.once("error", reject);
      this.stream.write(concat(payload, TAIL));
      this.stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        const out = Buffer.concat(this.output);
        this.output = [];
        resolve(new Uint8Array(out));
      });
    });
  }

  close(): void {
    this.stream.close();
  }
}

/** Connects with `offer` in Sec-WebSocket-Extensions; returns the client and the agreed extension header. */
async function connectOffering(target: EchoServer, offer: string | null): Promise<{ client: RawClient; agreed: string | null }> {
  const client = await RawClient.connect(target, upgradeRequest(offer === null ? {} : { "Sec-WebSocket-Extensions": offer }));
  expect(client.response).toMatch(/^HTTP\/1\.1 101 /);
  const agreed = /\r\nSec-WebSocket-Extensions: ([^\r]*)\r\n/i.exec(client.response)?.[1] ?? null;
  return { client, agreed };
}

/** Decodes what came back: compressed data messages inflated in order, others as they are. */
async function decode(frames: WireFrame[], windowBits = 15): Promise<Array<[number, Uint8Array, boolean]>> {
  const inflater = new StreamInflater(windowBits);
  try {
    const out: Array<[number, Uint8Array, boolean]> = [];
    for (const f of frames) {
      if (f.opcode === 0x8) continue;
      const compressed = (f.rsv & 0x40) !== 0;
      out.push([f.opcode, compressed ? await inflater.inflate(f.payload) : f.payload, compressed]);
    }
    return out;
  } finally {
    inflater.close();
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Text of `size` bytes that compresses the way real text does: words from a small vocabulary. */
function words(size: number, seed: number): Uint8Array {
  const vocabulary = ["websocket", "frame", "deflate", "window", "message", "κόσμε", "€", "data", "rsv1", "sync"];
  let text = "";
  let x = seed;
  while (text.length < size) {
    x = (x * 1103515245 + 12345) >>> 0;
    text += vocabulary[x % vocabulary.length] + " ";
  }
  const bytes = utf8(text);
  // Cut on a character boundary at or below `size`.
  let end = Math.min(size, bytes.length);
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function randomBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const SIZES = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072];

const OFFERS: Array<[string, RegExp]> = [
  ["permessage-deflate", /^permessage-deflate/],
  ["permessage-deflate; client_no_context_takeover", /client_no_context_takeover/],
  ["permessage-deflate; server_no_context_takeover", /server_no_context_takeover/],
  ["permessage-deflate; client_max_window_bits", /^permessage-deflate/],
  ["permessage-deflate; server_max_window_bits=9", /server_max_window_bits=9/],
  ["permessage-deflate; client_max_window_bits=9; server_max_window_bits=9", /server_max_window_bits=9/],
  ["permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=10", /server_no_context_takeover/],
  ["permessage-deflate; server_max_window_bits=7, permessage-deflate", /^permessage-deflate$/],
];

group("permessage-deflate", (testCase) => {
  for (const [offer, expected] of OFFERS) {
    for (const [kind, opcode] of [["text", TEXT], ["binary", BINARY]] as const) {
      testCase(`offer "${offer}": ${SIZES.length} compressed ${kind} messages of 16 B to 128 KiB are echoed compressed`, async () => {
        const { client, agreed } = await connectOffering(server, offer);
        try {
          expect(agreed).toMatch(expected);
          const messages = SIZES.map((size, i) => (opcode === TEXT ? words(size, i + 1) : randomBytes(size, i + 1)));
          client.send(concat(...messages.map((m) => clientFrame({ opcode, rsv: 0x40, payload: compress(m) })), NORMAL_CLOSE));
          const frames = await client.framesUntilClosed();
          // RFC 7692 §7.1.2.1: inflate with the window the server agreed to, so a larger one shows.
          const windowBits = Number(/server_max_window_bits=(\d+)/.exec(agreed ?? "")?.[1] ?? 15);
          const decoded = await decode(frames, windowBits);
          expect(decoded.map(([op, payload, compressed]) => [op, payload.length, compressed])).toEqual(messages.map((m) => [opcode, m.length, true]));
          decoded.forEach(([, payload], i) => expect(hex(payload) === hex(messages[i])).toBe(true));
          expectClosedWith(frames, 1000);
        } finally {
          client.destroy();
        }
      });
    }
  }

  testCase("messages compressed with the client's window kept from one to the next are read", async () => {
    const { client } = await connectOffering(server, "permessage-deflate");
    try {
      const deflater = zlib.createDeflateRaw();
      const chunks: Buffer[] = [];
      deflater.on("data", (c: Buffer) => chunks.push(c));
      const messages = [words(4000, 7), words(4000, 7), words(4000, 8)];
      const frames: Uint8Array[] = [];
      for (const m of messages) {
        await new Promise<void>((resolve) => {
          deflater.write(m);
          deflater.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve());
        });
        const out = Buffer.concat(chunks.splice(0));
        frames.push(clientFrame({ opcode: TEXT, rsv: 0x40, payload: out.subarray(0, out.length - 4) }));
      }
      deflater.close();
      // The second message repeats the first: with the window kept it is a few bytes.
      expect(frames[1].length).toBeLessThan(frames[0].length / 4);
      client.send(concat(...frames, NORMAL_CLOSE));
      const decoded = await decode(await client.framesUntilClosed());
      expect(decoded.map(([, payload]) => hex(payload))).toEqual(messages.map(hex));
    } finally {
      client.destroy();
    }
  });

  testCase("a compressed message in fragments (RSV1 on the first only), pings between, is echoed", async () => {
    const { client } = await connectOffering(server, "permessage-deflate");
    try {
      const message = words(3000, 3);
      const packed = compress(message);
      const third = Math.floor(packed.length / 3);
      client.send(concat(
        clientFrame({ opcode: TEXT, rsv: 0x40, fin: false, payload: packed.subarray(0, third) }),
        clientFrame({ opcode: PING, payload: "p" }),
        clientFrame({ opcode: CONTINUATION, fin: false, payload: packed.subarray(third, 2 * third) }),
        clientFrame({ opcode: CONTINUATION, payload: packed.subarray(2 * third) }),
        NORMAL_CLOSE,
      ));
      const decoded = await decode(await client.framesUntilClosed());
      expect(decoded.map(([op, payload]) => [op, hex(payload)])).toEqual([[PONG, hex(utf8("p"))], [TEXT, hex(message)]]);
    } finally {
      client.destroy();
    }
  });

  testCase("an uncompressed message (RSV1 clear) on a deflate connection is read as it is", async () => {
    const { client } = await connectOffering(server, "permessage-deflate");
    try {
      client.send(clientFrame({ opcode: TEXT, payload: "plain" }), NORMAL_CLOSE);
      const decoded = await decode(await client.framesUntilClosed());
      expect(decoded.map(([op, payload]) => [op, hex(payload)])).toEqual([[TEXT, hex(utf8("plain"))]]);
    } finally {
      client.destroy();
    }
  });

  const failures: Array<[string, () => Uint8Array, number, "default" | "limited"]> = [
    ["RSV1 on a continuation frame: 1002", () => concat(
      clientFrame({ opcode: TEXT, rsv: 0x40, fin: false, payload: compress(utf8("ab")) }),
      clientFrame({ opcode: CONTINUATION, rsv: 0x40, payload: compress(utf8("cd")) })), 1002, "default"],
    ["RSV1 on a ping: 1002", () => clientFrame({ opcode: PING, rsv: 0x40, payload: compress(utf8("ping")) }), 1002, "default"],
    ["RSV2 on a data frame: 1002", () => clientFrame({ opcode: TEXT, rsv: 0x20, payload: "x" }), 1002, "default"],
    ["bytes that are not DEFLATE: 1007", () => clientFrame({ opcode: BINARY, rsv: 0x40, payload: Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff) }), 1007, "default"],
    ["compressed text that is not UTF-8: 1007", () => clientFrame({ opcode: TEXT, rsv: 0x40, payload: compress(Uint8Array.of(0x61, 0xed, 0xa0, 0x80)) }), 1007, "default"],
    ["a message inflating past maxLength (1000) from 1 MiB of zeros: 1009", () =>
      clientFrame({ opcode: BINARY, rsv: 0x40, payload: compress(new Uint8Array(2 ** 20)) }), 1009, "limited"],
  ];
  for (const [title, build, code, which] of failures) {
    testCase(title, async () => {
      const { client, agreed } = await connectOffering(which === "default" ? server : limited, "permessage-deflate");
      try {
        expect(agreed).not.toBeNull();
        client.send(build(), clientFrame({ opcode: TEXT, payload: "after" }));
        const frames = await client.framesUntilClosed();
        expect(frames.filter((f) => f.opcode !== 0x8)).toEqual([]);
        expectClosedWith(frames, code);
      } finally {
        client.destroy();
      }
    });
  }

  for (const [title, offer] of [["no offer", null], ["an offer with an unknown parameter", "permessage-deflate; foo=1"]] as const) {
    testCase(`${title}: no extension agreed, and RSV1 then fails with 1002`, async () => {
      const { client, agreed } = await connectOffering(server, offer);
      try {
        expect(agreed).toBeNull();
        client.send(clientFrame({ opcode: TEXT, rsv: 0x40, payload: compress(utf8("x")) }));
        expectClosedWith(await client.framesUntilClosed(), 1002);
      } finally {
        client.destroy();
      }
    });
  }

  testCase("a close on a deflate connection is not compressed", async () => {
    const { client } = await connectOffering(server, "permessage-deflate");
    try {
      client.send(clientClose(4000, "bye"));
      const frames = await client.framesUntilClosed();
      expectClosedWith(frames, 4000);
      expect(frames[0].rsv).toBe(0);
    } finally {
      client.destroy();
    }
  });
});

/** A 101 that agrees to permessage-deflate with `params`. */
const agreeing = (params: string) => (key: string): string =>
  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  `Sec-WebSocket-Accept: ${acceptKey(key)}\r\nSec-WebSocket-Extensions: permessage-deflate${params}\r\n\r\n`;

const serverClose = (code: number): Uint8Array => frame({ opcode: 0x8, payload: Uint8Array.of(code >>> 8, code & 0xff) });

/** Runs a deflate client against a raw server answering with `respond`; returns what the client wrote. */
async function clientRun(respond: (key: string) => string, send: (write: (...c: Uint8Array[]) => void) => void, withDeflate = true) {
  const raw = await startRawServer(respond);
  try {
    const client = connectEchoClient(raw.port, {}, (driver) => { if (withDeflate) driver.addExtension(deflate()); });
    const connection = await raw.accept();
    send(connection.send);
    const frames = await connection.framesUntilClosed();
    await client.closed;
    expect(client.thrown).toEqual([]);
    for (const f of frames) expect(f.masked).toBe(true);
    return { frames, client, request: connection.request };
  } finally {
    await raw.close();
  }
}

group("permessage-deflate, client side", (testCase) => {
  for (const params of ["", "; server_no_context_takeover; client_no_context_takeover", "; client_max_window_bits=10"]) {
    testCase(`agreed "permessage-deflate${params}": compressed messages of every size are echoed compressed`, async () => {
      const messages = SIZES.map((size, i) => (i % 2 === 0 ? words(size, i + 11) : randomBytes(size, i + 11)));
      const { frames, request } = await clientRun(agreeing(params), (write) => write(
        ...messages.map((m, i) => frame({ opcode: i % 2 === 0 ? TEXT : BINARY, rsv: 0x40, payload: compress(m) })),
        serverClose(1000),
      ));
      expect(request).toMatch(/Sec-WebSocket-Extensions: permessage-deflate/i);
      const windowBits = Number(/client_max_window_bits=(\d+)/.exec(params)?.[1] ?? 15);
      const decoded = await decode(frames, windowBits);
      expect(decoded.map(([op, payload, compressed]) => [op, hex(payload), compressed]))
        .toEqual(messages.map((m, i) => [i % 2 === 0 ? TEXT : BINARY, hex(m), true]));
      expectClosedWith(frames, 1000);
    });
  }

  const failures: Array<[string, () => Uint8Array[], number]> = [
    ["RSV1 on a continuation frame: 1002", () => [
      frame({ opcode: TEXT, rsv: 0x40, fin: false, payload: compress(utf8("ab")) }),
      frame({ opcode: CONTINUATION, rsv: 0x40, payload: compress(utf8("cd")) })], 1002],
    ["bytes that are not DEFLATE: 1007", () => [frame({ opcode: BINARY, rsv: 0x40, payload: Uint8Array.of(0xff, 0xff, 0xff) })], 1007],
    ["compressed text that is not UTF-8: 1007", () => [frame({ opcode: TEXT, rsv: 0x40, payload: compress(Uint8Array.of(0xc0, 0xaf)) })], 1007],
  ];
  for (const [title, build, code] of failures) {
    testCase(title, async () => {
      const { frames } = await clientRun(agreeing(""), (write) => write(...build(), frame({ opcode: TEXT, payload: "after" })));
      expect(frames.filter((f) => f.opcode !== 0x8)).toEqual([]);
      expectClosedWith(frames, code);
    });
  }

  testCase("a server agreeing to an extension the client did not offer fails the handshake", async () => {
    const { frames, client } = await clientRun(agreeing(""), () => undefined, false);
    expect(frames).toEqual([]);
    expect(client.events.map(([type]) => type)).toEqual(["error", "close"]);
    expect((client.events[0][1] as Error).name).toBe("HandshakeError");
  });
});
