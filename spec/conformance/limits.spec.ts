/**
 * Limits and hostile peers: an HTTP head over `maxHeaderSize` is refused with 431 as soon as it is
 * too large, however it arrives; a frame whose announced length is over `maxLength` is refused with
 * 1009 on its header, before a byte of its payload is buffered (RFC 6455 §10.4), and `maxLength`
 * bounds a fragmented message's fragments together.
 */
import { Driver } from "../../lib/driver";
import { bytes, clientFrame, closeFrameOf, CollectingIO, concat, frame, record, requestKey, upgradeRequest, upgradeResponse, utf8 } from "../support/wire";
import { BINARY, CONTINUATION, NORMAL_CLOSE, PING, PONG, TEXT, exchange, expectBeforeClose, expectClosedWith, serverError, stars } from "./cases";
import { type EchoServer, RawClient, group, startEchoServer } from "./peer";

const MAX_HEADER = 1024;
const MAX_LENGTH = 1000;
let server: EchoServer;
beforeAll(async () => { server = await startEchoServer({ maxHeaderSize: MAX_HEADER, maxLength: MAX_LENGTH }); });
afterAll(() => server.close());

/** A frame header announcing `length` bytes (64-bit form), masked, with no payload after it. */
const announce = (opcode: number, length: number): Uint8Array => clientFrame({ opcode, length, lengthForm: 64 });

group("limits", (testCase) => {
  testCase("a head over maxHeaderSize in one write is refused with 431", async () => {
    const request = upgradeRequest({ "X-Padding": "a".repeat(2 * MAX_HEADER) });
    const client = await RawClient.connect(server, request);
    try {
      expect(client.response).toMatch(/^HTTP\/1\.1 431 /);
      await client.bytesUntilClosed();
      expect(serverError(client)).toMatch(/maxHeaderSize/);
    } finally {
      client.destroy();
    }
  });

  testCase("a head with no end, trickled one byte at a time, is refused at byte maxHeaderSize + 1", async () => {
    const client = await RawClient.connectOnly(server);
    try {
      const trickle = utf8(`GET / HTTP/1.1\r\nX-Slow: ${"a".repeat(2 * MAX_HEADER)}`);
      await client.sendInPieces(trickle, 1);
      await client.bytesUntilClosed();
      expect(client.server?.errorAt).toBe(MAX_HEADER + 1);
      expect(client.server?.events.map(([type]) => type)).toEqual(["error", "close"]);
    } finally {
      client.destroy();
    }
  });

  testCase("a head of exactly maxHeaderSize bytes is accepted", async () => {
    const base = upgradeRequest({ "X-Padding": "" });
    const request = upgradeRequest({ "X-Padding": "a".repeat(MAX_HEADER - base.length) });
    expect(request.length).toBe(MAX_HEADER);
    const client = await RawClient.connect(server, request);
    try {
      expect(client.response).toMatch(/^HTTP\/1\.1 101 /);
    } finally {
      client.destroy();
    }
  });

  testCase("bytes that are not HTTP are refused with 400", async () => {
    const client = await RawClient.connect(server, concat(bytes(0x16, 0x03, 0x01, 0x00, 0xa5), utf8("\r\n\r\n")));
    try {
      expect(client.response).toMatch(/^HTTP\/1\.1 400 /);
    } finally {
      client.destroy();
    }
  });

  testCase("a trickled head costs memory in proportion to what was sent", () => {
    // A 256 KiB head under a 1 MiB limit, handed over one byte at a time: read in one pass (a reader
    // that joined its buffer on every byte would copy 32 GiB here and never finish).
    const io = new CollectingIO();
    const driver = Driver.server(io, { maxHeaderSize: 2 ** 20 });
    const events = record(driver);
    const head = utf8(upgradeRequest({ "X-Padding": "a".repeat(256 * 1024) }));
    for (let i = 0; i < head.length; i++) driver.parse(head.subarray(i, i + 1));
    expect(events.map(([type]) => type)).toEqual(["connect"]);
    expect(driver.request?.headers["x-padding"]).toHaveLength(256 * 1024);
  });

  testCase("a 100 KiB head in one write is accepted under a 1 MiB maxHeaderSize", () => {
    // http-parser-js has an 80 KiB cap of its own; maxHeaderSize, not that, decides.
    const io = new CollectingIO();
    const driver = Driver.server(io, { maxHeaderSize: 2 ** 20 });
    const events = record(driver);
    driver.parse(utf8(upgradeRequest({ "X-Padding": "a".repeat(100 * 1024) })));
    expect(events.map(([type]) => type)).toEqual(["connect"]);
  });

  testCase("a frame announcing 2^62 bytes is refused with 1009 on its header", async () => {
    const { frames, client } = await exchange(server, (c) => c.send(announce(BINARY, 2 ** 62)));
    expectClosedWith(frames, 1009);
    expect(client.errorOffset).toBe(14);
    expect(serverError(client)).toMatch(/maxLength/);
  });

  testCase("a frame announcing 2^63 bytes (the most significant bit set) is refused with 1002", async () => {
    const header = announce(BINARY, 0);
    header[2] = 0x80;
    const { frames, client } = await exchange(server, (c) => c.send(header));
    expectClosedWith(frames, 1002);
    expect(client.errorOffset).toBe(14);
  });

  testCase("a text frame announcing maxLength + 1 bytes is refused with 1009 before its payload", async () => {
    const { frames, client } = await exchange(server, (c) => c.sendPaced([clientFrame({ opcode: TEXT, payload: stars(MAX_LENGTH + 1) }).subarray(0, 8)]));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1009);
    expect(client.errorOffset).toBe(8);
  });

  testCase("a message of exactly maxLength bytes is accepted", async () => {
    const payload = stars(MAX_LENGTH);
    const { frames } = await exchange(server, (c) => c.send(clientFrame({ opcode: BINARY, payload }), NORMAL_CLOSE));
    expectBeforeClose(frames, [[BINARY, payload]]);
    expectClosedWith(frames, 1000);
  });

  testCase("maxLength counts every fragment: 600 + 400 bytes is accepted", async () => {
    const { frames } = await exchange(server, (c) => c.send(
      clientFrame({ opcode: BINARY, fin: false, payload: stars(600) }),
      clientFrame({ opcode: PING, payload: stars(125) }),
      clientFrame({ opcode: CONTINUATION, payload: stars(400) }),
      NORMAL_CLOSE,
    ));
    expectBeforeClose(frames, [[PONG, stars(125)], [BINARY, stars(1000)]]);
  });

  testCase("maxLength counts every fragment: 600 + 401 bytes fails with 1009 on the second header", async () => {
    const first = clientFrame({ opcode: BINARY, fin: false, payload: stars(600) });
    const second = clientFrame({ opcode: CONTINUATION, payload: stars(401) });
    const { frames, client } = await exchange(server, (c) => c.sendPaced([first, second.subarray(0, 8)]));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1009);
    expect(client.errorOffset).toBe(first.length + 8);
  });

  testCase("maxLength counts every fragment: 1001 one-byte fragments fail with 1009 on the last", async () => {
    const parts = Array.from({ length: MAX_LENGTH + 1 }, (_, i) =>
      clientFrame({ opcode: i === 0 ? TEXT : CONTINUATION, fin: i === MAX_LENGTH, payload: "x" }));
    const { frames, client } = await exchange(server, (c) => c.send(concat(...parts)));
    expectClosedWith(frames, 1009);
    // The last fragment fails on its 6-byte header; the 1000 before it were read.
    expect(client.errorOffset).toBeGreaterThanOrEqual(MAX_LENGTH * 7 + 6);
    expect(client.server?.events.filter(([type]) => type === "message")).toEqual([]);
  });

  testCase("the next message starts its count afresh", async () => {
    const { frames } = await exchange(server, (c) => c.send(
      clientFrame({ opcode: BINARY, payload: stars(MAX_LENGTH) }),
      clientFrame({ opcode: BINARY, fin: false, payload: stars(MAX_LENGTH / 2) }),
      clientFrame({ opcode: CONTINUATION, payload: stars(MAX_LENGTH / 2) }),
      NORMAL_CLOSE,
    ));
    expectBeforeClose(frames, [[BINARY, stars(MAX_LENGTH)], [BINARY, stars(MAX_LENGTH)]]);
  });

  testCase("a client refuses a server frame announcing 2^62 bytes with 1009", () => {
    const io = new CollectingIO();
    const client = Driver.client("ws://example.com/", io, { maxLength: MAX_LENGTH });
    const events = record(client);
    client.start();
    const response = upgradeResponse(requestKey(io.text()));
    io.take();
    client.parse(concat(utf8(response), frame({ opcode: BINARY, length: 2 ** 62, lengthForm: 64 })));
    expect(events.map(([type]) => type)).toEqual(["open", "error", "close"]);
    expect(events[2][1]).toMatchObject({ code: 1009 });
    const close = closeFrameOf(io.take());
    expect(close?.code).toBe(1009);
    expect(close?.reason).toContain("maxLength");
  });
});
