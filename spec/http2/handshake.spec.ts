/**
 * RFC 8441 without any HTTP/2 stack: the extended CONNECT and its answer as header lists through
 * the `io`, then the same RFC 6455 frames as over HTTP/1.1.
 */
import { Driver } from "../../lib/driver";
import { deflate } from "../../lib/extensions/permessage-deflate";
import type { HeaderList } from "../../lib/hybi/handshake-http2";
import { CollectingIO, clientFrame, closeFrameOf, frame, readFrames, record, utf8 } from "../support/wire";

/** A server io: the response's header list, then the stream's DATA. */
class StreamIO extends CollectingIO {
  responses: HeaderList[] = [];
  requests: HeaderList[] = [];
  respond(headers: HeaderList): void {
    this.responses.push(headers);
  }
  request(headers: HeaderList): void {
    this.requests.push(headers);
  }
}

/** The extended CONNECT Chromium sends (measured: Chromium 150 on a node:http2 page), as a header list. */
const CHROMIUM_CONNECT: HeaderList = [
  [":method", "CONNECT"],
  [":authority", "localhost:8443"],
  [":scheme", "https"],
  [":path", "/chat?room=1"],
  [":protocol", "websocket"],
  ["pragma", "no-cache"],
  ["cache-control", "no-cache"],
  ["origin", "https://localhost:8443"],
  ["sec-websocket-version", "13"],
  ["user-agent", "Mozilla/5.0"],
  ["sec-websocket-extensions", "permessage-deflate; client_max_window_bits"],
  ["sec-websocket-protocol", "chat, superchat"],
];

function withHeaders(changes: Record<string, string | null>): HeaderList {
  const list: HeaderList = CHROMIUM_CONNECT.filter(([name]) => !(name in changes)).map(([n, v]) => [n, v]);
  for (const [name, value] of Object.entries(changes)) if (value !== null) list.push([name, value]);
  return list;
}

function serve(headers: HeaderList | Record<string, string>, options = {}) {
  const io = new StreamIO();
  const driver = Driver.http2Server(headers, io, options);
  const events = record(driver);
  const started = driver.start();
  return { io, driver, events, started };
}

describe("RFC 8441 §5: the server answers an extended CONNECT with 200", () => {
  it("accepts Chromium's request: :status 200 with the subprotocol chosen, no key, no Upgrade", () => {
    const { io, driver, events } = serve(CHROMIUM_CONNECT, { protocols: ["superchat", "chat"] });
    expect(io.responses).toEqual([[[":status", "200"], ["sec-websocket-protocol", "superchat"]]]);
    expect(io.chunks).toEqual([]);
    expect(driver.readyState).toBe(1);
    expect(driver.protocol).toBe("superchat");
    expect(driver.version).toBe("hybi-13");
    expect(events).toEqual([["open", {}]]);
    expect(driver.request).toMatchObject({ method: "CONNECT", url: "/chat?room=1", httpVersion: "2.0" });
    // Code written for an upgrade finds the host where it looks: :authority (RFC 9113 §8.3.1).
    expect(driver.request?.headers.host).toBe("localhost:8443");
    expect(driver.request?.headers[":protocol"]).toBe("websocket");
  });

  it("takes Node's headers object as well as a list", () => {
    const { io, driver } = serve(Object.fromEntries(CHROMIUM_CONNECT));
    expect(io.responses).toEqual([[[":status", "200"]]]);
    expect(driver.readyState).toBe(1);
  });

  it("negotiates permessage-deflate (RFC 7692) and sends custom headers in lower case, never connection-specific ones", () => {
    const io = new StreamIO();
    const driver = Driver.http2Server(CHROMIUM_CONNECT, io);
    driver.addExtension(deflate());
    expect(driver.setHeader("X-Served-By", "wsdriver")).toBe(true);
    expect(driver.setHeader("Connection", "keep-alive")).toBe(true);
    driver.start();
    expect(io.responses).toEqual([[
      [":status", "200"], ["sec-websocket-extensions", "permessage-deflate"], ["x-served-by", "wsdriver"],
    ]]);
    // A compressed frame from the client (RFC 7692 §7.2.3.1: "Hello", rsv1) is read.
    const events = record(driver);
    driver.parse(clientFrame({ opcode: 1, rsv: 0x40, payload: Uint8Array.of(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00) }));
    expect(events).toEqual([["message", { data: "Hello" }]]);
  });

  it("reads frames that arrived before start(), then speaks RFC 6455 frames on the stream", () => {
    const io = new StreamIO();
    const driver = Driver.http2Server(CHROMIUM_CONNECT, io);
    const events = record(driver);
    driver.parse(clientFrame({ opcode: 1, payload: "early" }));
    driver.on("message", ({ data }) => driver.text(`echo ${typeof data === "string" ? data : data.join(".")}`));
    driver.start();
    driver.parse(clientFrame({ opcode: 2, payload: Uint8Array.of(1, 2, 3) }));
    expect(events.map(([type]) => type)).toEqual(["open", "message", "message"]);
    const frames = readFrames(io.all());
    expect(frames.map((f) => [f.opcode, f.masked, new TextDecoder().decode(f.payload)])).toEqual([
      [1, false, "echo early"], [1, false, "echo 1.2.3"],
    ]);
  });
});

describe("RFC 8441 §4–5 and RFC 9113 §8: a malformed extended CONNECT is refused with 400 and says why", () => {
  const cases: Array<[string, HeaderList, RegExp]> = [
    ["no :method", withHeaders({ ":method": null }), /Missing :method/],
    ["GET instead of CONNECT", withHeaders({ ":method": "GET" }), /:method CONNECT, not GET/],
    ["a plain CONNECT without :protocol", withHeaders({ ":protocol": null }), /Missing :protocol/],
    ["another :protocol", withHeaders({ ":protocol": "webtransport" }), /:protocol must be 'websocket', not 'webtransport'/],
    ["no :scheme", withHeaders({ ":scheme": null }), /Missing :scheme/],
    ["a :scheme that is not http(s)", withHeaders({ ":scheme": "ws" }), /:scheme must be 'https' or 'http', not 'ws'/],
    ["no :path", withHeaders({ ":path": null }), /Missing :path/],
    ["a :path not starting with /", withHeaders({ ":path": "chat" }), /:path must start with '\/'/],
    ["no :authority", withHeaders({ ":authority": null }), /Missing :authority/],
    ["a Connection header", withHeaders({ connection: "Upgrade" }), /connection is a connection-specific header/],
    ["an Upgrade header", withHeaders({ upgrade: "websocket" }), /upgrade is a connection-specific header/],
    ["a Sec-WebSocket-Key", withHeaders({ "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" }), /sec-websocket-key is not used over HTTP\/2/],
    ["no sec-websocket-version", withHeaders({ "sec-websocket-version": null }), /Missing sec-websocket-version/],
    ["version 8", withHeaders({ "sec-websocket-version": "8" }), /Unsupported sec-websocket-version: 8/],
    ["a pseudo-header twice", [...CHROMIUM_CONNECT, [":path", "/other"]], /Pseudo-header :path given twice/],
    ["a malformed extension offer", withHeaders({ "sec-websocket-extensions": "permessage-deflate; =" }), /./],
  ];

  it.each(cases)("%s", (_name, headers, message) => {
    const { io, driver, events, started } = serve(headers);
    expect(started).toBe(false);
    const [response] = io.responses;
    expect(response[0]).toEqual([":status", "400"]);
    expect(response).toContainEqual(["content-type", "text/plain; charset=utf-8"]);
    // The body says why, as the error event does.
    expect(new TextDecoder().decode(io.all())).toMatch(message);
    expect(driver.readyState).toBe(3);
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
    const error = events[0][1] as Error;
    expect(error.name).toBe("HandshakeError");
    expect(error.message).toMatch(message);
    expect(events[1][1]).toEqual({ code: 1002, reason: error.message });
  });

  it("checks the Origin against the origins option as over HTTP/1.1 (RFC 6455 §10.2): 403 for another site", () => {
    const allowed = serve(CHROMIUM_CONNECT, { origins: ["https://localhost:8443"] });
    expect(allowed.io.responses[0][0]).toEqual([":status", "200"]);
    const { io, events } = serve(withHeaders({ origin: "https://evil.example" }), { origins: ["https://localhost:8443"] });
    expect(io.responses[0][0]).toEqual([":status", "403"]);
    expect(new TextDecoder().decode(io.all())).toBe("Origin 'https://evil.example' is not allowed");
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
  });

  it("names the version it serves when it refuses another (RFC 6455 §4.2.2)", () => {
    const { io } = serve(withHeaders({ "sec-websocket-version": "8" }));
    expect(io.responses[0]).toContainEqual(["sec-websocket-version", "13"]);
  });
});

/** A client io whose extended CONNECT has been sent. */
function startClient(url = "wss://example.com:8443/chat?x=1", options = {}) {
  const io = new StreamIO();
  const driver = Driver.http2Client(url, io, options);
  const events = record(driver);
  return { io, driver, events };
}

describe("RFC 8441 §5: the client's extended CONNECT", () => {
  it("sends the pseudo-headers first, version 13, and no key, Upgrade or Connection", () => {
    const { io, driver } = startClient("wss://user:pw@example.com:8443/chat?x=1", {
      protocols: ["chat", "superchat"], origin: "https://example.com", headers: { "X-Trace": "1", Host: "alias.example" },
    });
    driver.addExtension(deflate());
    expect(driver.start()).toBe(true);
    expect(driver.start()).toBe(false);
    expect(io.requests).toEqual([[
      [":method", "CONNECT"],
      [":protocol", "websocket"],
      [":scheme", "https"],
      [":path", "/chat?x=1"],
      [":authority", "alias.example"],
      ["sec-websocket-version", "13"],
      ["sec-websocket-protocol", "chat, superchat"],
      ["sec-websocket-extensions", "permessage-deflate; client_max_window_bits"],
      ["origin", "https://example.com"],
      ["authorization", `Basic ${btoa("user:pw")}`],
      ["x-trace", "1"],
    ]]);
    expect(io.chunks).toEqual([]);
  });

  it("maps ws: to :scheme http", () => {
    const { io, driver } = startClient("ws://127.0.0.1:8080/");
    driver.start();
    expect(io.requests[0].slice(0, 5)).toEqual([
      [":method", "CONNECT"], [":protocol", "websocket"], [":scheme", "http"], [":path", "/"], [":authority", "127.0.0.1:8080"],
    ]);
  });
});

describe("RFC 8441 §5: the client opens on any 2xx and checks the negotiation", () => {
  it("opens on 200, sends what was queued masked, and reads the server's frames", () => {
    const { io, driver, events } = startClient("wss://example.com/", { protocols: ["chat"] });
    driver.text("queued");
    driver.start();
    driver.receiveHeaders({ ":status": 200, "sec-websocket-protocol": "chat" } as unknown as Record<string, string>);
    expect(driver.readyState).toBe(1);
    expect(driver.protocol).toBe("chat");
    expect(driver.statusCode).toBe(200);
    const [sent] = readFrames(io.take());
    expect(sent).toMatchObject({ opcode: 1, masked: true });
    expect(new TextDecoder().decode(sent.payload)).toBe("queued");
    driver.parse(frame({ opcode: 1, payload: "hi" }));
    expect(events).toEqual([["open", {}], ["message", { data: "hi" }]]);
  });

  it("skips an interim 1xx and opens on a later 2xx", () => {
    const { driver, events } = startClient();
    driver.start();
    driver.receiveHeaders([[":status", "103"], ["link", "</style.css>; rel=preload"]]);
    expect(driver.readyState).toBe(0);
    driver.receiveHeaders([[":status", "204"]]);
    expect(events).toEqual([["open", {}]]);
  });

  const failures: Array<[string, HeaderList, number, RegExp]> = [
    ["a 404", [[":status", "404"]], 404, /Unexpected response code: 404/],
    ["a 101, which HTTP/2 has no use for (RFC 9113 §8.6)", [[":status", "101"]], 101, /Unexpected response code: 101/],
    ["no :status", [["sec-websocket-protocol", "chat"]], 0, /Missing or invalid :status/],
    ["a subprotocol not offered", [[":status", "200"], ["sec-websocket-protocol", "other"]], 200, /'other' was not offered/],
    ["an extension not offered", [[":status", "200"], ["sec-websocket-extensions", "permessage-deflate"]], 200, /permessage-deflate/],
  ];

  it.each(failures)("fails on %s", (_name, headers, status, message) => {
    const { driver, events } = startClient("wss://example.com/", { protocols: ["chat"] });
    driver.start();
    driver.receiveHeaders(headers);
    expect(driver.readyState).toBe(3);
    expect(driver.statusCode).toBe(status);
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
    expect((events[0][1] as Error).message).toMatch(message);
    expect(events[1][1]).toMatchObject({ code: 1002 });
    // A refusal's body that follows is not read as frames.
    driver.parse(utf8("Not Found"));
    expect(events).toHaveLength(2);
  });

  it("fails on DATA before the response headers (RFC 9113 §8.1)", () => {
    const { driver, events } = startClient();
    driver.start();
    driver.parse(frame({ opcode: 1, payload: "too soon" }));
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
    expect((events[0][1] as Error).message).toBe("Stream data arrived before the response headers");
  });
});

describe("RFC 6455 over the stream: server and client drivers wired in memory", () => {
  it("carries text, binary, compressed messages and the closing handshake with its code", () => {
    const serverIO = new StreamIO();
    const server = { driver: null as ReturnType<typeof Driver.http2Server> | null };
    const client = Driver.http2Client("wss://example.com/", {
      write: (chunk) => server.driver!.parse(Uint8Array.from(chunk)),
      request: (headers) => {
        const driver = Driver.http2Server(headers, {
          write: (chunk) => client.parse(Uint8Array.from(chunk)),
          respond: (response) => { serverIO.respond(response); queueMicrotask(() => client.receiveHeaders(response)); },
        });
        driver.addExtension(deflate());
        driver.on("message", ({ data }) => (typeof data === "string" ? driver.text(data.toUpperCase()) : driver.binary(data.reverse())));
        server.driver = driver;
        driver.start();
      },
    });
    client.addExtension(deflate());
    const events = record(client);
    client.on("open", () => {
      client.text("hello ".repeat(100));
      client.binary(Uint8Array.of(1, 2, 3));
      client.close("done", 4001);
    });
    client.start();
    return new Promise<void>((resolve) => client.on("close", () => resolve())).then(() => {
      expect(serverIO.responses[0]).toContainEqual(["sec-websocket-extensions", "permessage-deflate"]);
      expect(events).toEqual([
        ["open", {}],
        ["message", { data: "HELLO ".repeat(100) }],
        ["message", { data: Uint8Array.of(3, 2, 1) }],
        ["close", { code: 4001, reason: "" }],
      ]);
      expect(server.driver!.readyState).toBe(3);
    });
  });

  it("a protocol violation on the stream is a close frame with its code, as over HTTP/1.1", () => {
    const { io, driver, events } = serve(CHROMIUM_CONNECT);
    // RFC 6455 §5.1: a client frame must be masked.
    driver.parse(frame({ opcode: 1, payload: "unmasked" }));
    expect(closeFrameOf(io.all())).toMatchObject({ code: 1002 });
    expect(events.map(([type]) => type)).toEqual(["open", "error", "close"]);
  });
});
