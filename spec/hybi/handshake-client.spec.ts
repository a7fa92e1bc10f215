import { Driver } from "../../lib/driver";
import { HandshakeError } from "../../lib/errors";
import { acceptKey } from "../../lib/hybi/accept";
import { CollectingIO, concat, frame, record, requestKey, upgradeResponse, utf8 } from "../support/wire";

function connect(url = "ws://example.com/chat", options = {}) {
  const io = new CollectingIO();
  const driver = Driver.client(url, io, options);
  const events = record(driver);
  driver.start();
  const request = io.text();
  return { io, driver, events, request, key: requestKey(request) };
}

describe("RFC 6455 §4.1: the client's opening handshake", () => {
  it("writes a GET with Host, Upgrade, Connection, a key and version 13", () => {
    const { request, key } = connect("ws://example.com:8080/chat?room=1");
    expect(request).toBe(
      "GET /chat?room=1 HTTP/1.1\r\n" +
      "Host: example.com:8080\r\n" +
      "Upgrade: websocket\r\n" +
      "Connection: Upgrade\r\n" +
      `Sec-WebSocket-Key: ${key}\r\n` +
      "Sec-WebSocket-Version: 13\r\n" +
      "\r\n");
  });

  it("uses a fresh random 16-byte key for every connection", () => {
    const keys = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { key } = connect();
      expect(Buffer.from(key, "base64")).toHaveLength(16);
      keys.add(key);
    }
    expect(keys.size).toBe(50);
  });

  it("leaves the default port out of Host, and writes / for an empty path", () => {
    expect(connect("ws://example.com").request).toMatch(/^GET \/ HTTP\/1\.1\r\nHost: example\.com\r\n/);
    expect(connect("wss://example.com:443/x").request).toMatch(/^GET \/x HTTP\/1\.1\r\nHost: example\.com\r\n/);
  });

  it("offers subprotocols, Origin, custom headers, and Basic credentials from the URL", () => {
    const io = new CollectingIO();
    const driver = Driver.client("ws://us%65r:p%40ss@example.com/", io, {
      protocols: ["chat", "superchat"], origin: "http://example.com", headers: { "X-Token": "abc" },
    });
    expect(driver.setHeader("User-Agent", "wsdriver-test")).toBe(true);
    driver.start();
    const request = io.text();
    expect(request).toContain("Sec-WebSocket-Protocol: chat, superchat\r\n");
    expect(request).toContain("Origin: http://example.com\r\n");
    expect(request).toContain("x-token: abc\r\n");
    expect(request).toContain("User-Agent: wsdriver-test\r\n");
    expect(request).toContain(`Authorization: Basic ${Buffer.from("user:p@ss").toString("base64")}\r\n`);
    expect(driver.setHeader("X-Late", "1")).toBe(false);
    expect(driver.start()).toBe(false);
  });

  it("refuses URLs that are not ws: or wss:, and invalid subprotocol names", () => {
    expect(() => Driver.client("http://example.com/", new CollectingIO())).toThrow(/ws: or wss:/);
    expect(() => Driver.client("ws://example.com/", new CollectingIO(), { protocols: ["a b"] })).toThrow(/subprotocol/);
  });
});

describe("RFC 6455 §4.1: the server's response", () => {
  it("opens on a valid 101 and exposes statusCode and headers", () => {
    const { driver, events, key } = connect();
    driver.parse(utf8(upgradeResponse(key, "X-Extra: yes\r\n")));
    expect(events.map(([type]) => type)).toEqual(["open"]);
    expect(driver.readyState).toBe(1);
    expect(driver.statusCode).toBe(101);
    expect(driver.headers["x-extra"]).toBe("yes");
    expect(driver.headers["sec-websocket-accept"]).toBe(acceptKey(key));
  });

  it("reads the response in any split, and frames that follow it in the same chunk", () => {
    for (const size of [1, 5, 64]) {
      const { driver, events, key } = connect();
      const bytes = concat(utf8(upgradeResponse(key)), frame({ opcode: 1, payload: "hi" }));
      for (let i = 0; i < bytes.length; i += size) driver.parse(bytes.subarray(i, i + size));
      expect(events).toEqual([["open", {}], ["message", { data: "hi" }]]);
    }
  });

  it("reads past interim 1xx responses to the 101 (RFC 9110 §15.2), in any split", () => {
    // "A client MUST be able to parse one or more 1xx responses received prior to a final
    // response, even if the client does not expect one": 100 Continue, 103 Early Hints.
    const interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";
    for (const size of [1, 7, 1000]) {
      const { driver, events, key } = connect();
      const bytes = concat(utf8(interim + upgradeResponse(key)), frame({ opcode: 1, payload: "hi" }));
      for (let i = 0; i < bytes.length; i += size) driver.parse(bytes.subarray(i, i + size));
      expect(events).toEqual([["open", {}], ["message", { data: "hi" }]]);
      expect(driver.statusCode).toBe(101);
      expect(driver.headers["link"]).toBeUndefined();
    }
  });

  it("fails on an interim response followed by a refusal, with the final status", () => {
    const { driver, events } = connect();
    driver.parse(utf8("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"));
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
    expect((events[0][1] as HandshakeError).status).toBe(403);
    expect(driver.statusCode).toBe(403);
  });

  it("takes the subprotocol the server chose among those offered", () => {
    const { driver, key } = connect("ws://example.com/", { protocols: ["chat", "superchat"] });
    driver.parse(utf8(upgradeResponse(key, "Sec-WebSocket-Protocol: superchat\r\n")));
    expect(driver.protocol).toBe("superchat");
  });

  it("opens with no subprotocol when the server chose none", () => {
    const { driver, key } = connect("ws://example.com/", { protocols: ["chat"] });
    driver.parse(utf8(upgradeResponse(key)));
    expect(driver.readyState).toBe(1);
    expect(driver.protocol).toBe("");
  });

  const failures: Array<[string, (key: string) => string, RegExp, number]> = [
    ["a status other than 101", () => "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", /Unexpected response code: 403 Forbidden/, 403],
    ["a wrong Sec-WebSocket-Accept", () => upgradeResponse("AAAAAAAAAAAAAAAAAAAAAA=="), /Sec-WebSocket-Accept mismatch/, 101],
    ["no Sec-WebSocket-Accept", () => "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", /Sec-WebSocket-Accept/, 101],
    ["no Upgrade header", (key) => `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`, /Upgrade/, 101],
    ["no Connection header", (key) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`, /Connection/, 101],
    ["a subprotocol that was not offered", (key) => upgradeResponse(key, "Sec-WebSocket-Protocol: other\r\n"), /'other' was not offered/, 101],
  ];

  for (const [name, response, message, status] of failures) {
    it(`fails on ${name}: error and close, statusCode and headers still readable`, () => {
      const { driver, events, key, io } = connect("ws://example.com/", { protocols: ["chat"] });
      io.take();
      driver.text("queued");
      driver.parse(utf8(response(key)));
      expect(events.map(([type]) => type)).toEqual(["error", "close"]);
      const error = events[0][1] as HandshakeError;
      expect(error).toBeInstanceOf(HandshakeError);
      expect(error.message).toMatch(message);
      expect(driver.readyState).toBe(3);
      expect(driver.statusCode).toBe(status);
      expect(Object.keys(driver.headers).length).toBeGreaterThan(0);
      // The queued message is never sent, and nothing more can be.
      expect(io.chunks).toHaveLength(0);
      expect(driver.text("later")).toBe(false);
    });
  }

  it("fails on a response head over maxHeaderSize", () => {
    const { driver, events } = connect("ws://example.com/", { maxHeaderSize: 512 });
    driver.parse(utf8("HTTP/1.1 101 Switching Protocols\r\nX-Big: " + "a".repeat(600)));
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
    expect((events[0][1] as Error).message).toMatch(/maxHeaderSize/);
  });

  it("fails on a response that is not HTTP", () => {
    const { driver, events } = connect();
    driver.parse(utf8("SSH-2.0-OpenSSH_9.6\r\n\r\n"));
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
    expect((events[0][1] as Error).message).toMatch(/Malformed HTTP response/);
  });
});

describe("RFC 9112 §4, §5: the response head's grammar", () => {
  const bad: Array<[string, (key: string) => string, RegExp]> = [
    ["a four-digit status", (key) => upgradeResponse(key).replace("101 Switching", "1010 Switching"), /invalid status line/],
    ["a header line with no colon", (key) => upgradeResponse(key, "Just some words\r\n"), /not name: value/],
    ["whitespace before a header's colon", (key) => upgradeResponse(key, "X-Thing : 1\r\n"), /not name: value/],
    ["a folded header line", (key) => upgradeResponse(key, "X-Thing: a\r\n  b\r\n"), /folded header line/],
    // RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ). http-parser-js ends a line at a
    // bare LF, so one in the status line made a header line of what followed, unchecked.
    ["a bare LF in the status line", (key) => upgradeResponse(key).replace("Protocols\r\n", "Protocols\nX-Thing : 1\r\n"), /invalid status line/],
    ["a bare CR in the status line", (key) => upgradeResponse(key).replace("Switching Protocols", "Switching\rProtocols"), /invalid status line/],
    ["a NUL in the status line", (key) => upgradeResponse(key).replace("Switching Protocols", "Switching\0Protocols"), /invalid status line/],
  ];
  for (const [name, response, message] of bad) {
    it(`fails on ${name}`, () => {
      const { driver, events, key } = connect();
      driver.parse(utf8(response(key)));
      expect(events.map(([type]) => type)).toEqual(["error", "close"]);
      expect((events[0][1] as Error).message).toMatch(message);
      expect(driver.readyState).toBe(3);
    });
  }
});

describe("RFC 6455 §4.1: the subprotocols offered", () => {
  it("refuses the same subprotocol offered twice (the elements \"MUST all be unique strings\")", () => {
    const io = new CollectingIO();
    expect(() => Driver.client("ws://example.com/", io, { protocols: ["chat", "superchat", "chat"] })).toThrow(/chat/);
    expect(() => Driver.client("ws://example.com/", io, { protocols: ["chat", "chat"] })).toThrow(TypeError);
    expect(io.chunks).toHaveLength(0);
  });
});

describe("RFC 9110 §5.3, RFC 9112 §3.2: a custom header named like one the driver writes", () => {
  const lines = (request: string, name: string) =>
    request.split("\r\n").filter((line) => line.toLowerCase().startsWith(name.toLowerCase() + ":"));

  it("a custom Host replaces the URL's, in its place: one Host line (a server must refuse two)", () => {
    const viaOption = connect("ws://127.0.0.1:8080/chat", { headers: { Host: "chat.example" } }).request;
    expect(lines(viaOption, "Host")).toEqual(["Host: chat.example"]);
    expect(viaOption).toMatch(/^GET \/chat HTTP\/1\.1\r\nHost: chat\.example\r\n/);
    const io = new CollectingIO();
    const driver = Driver.client("ws://127.0.0.1:8080/chat", io);
    expect(driver.setHeader("host", "chat.example:8080")).toBe(true);
    driver.start();
    expect(lines(io.text(), "Host")).toEqual(["Host: chat.example:8080"]);
  });

  it("a custom Origin or Authorization replaces the one from the options or the URL", () => {
    const { request } = connect("ws://user:pass@example.com/", {
      origin: "http://a.example", headers: { Origin: "http://b.example", Authorization: "Bearer t0ken" },
    });
    expect(lines(request, "Origin")).toEqual(["Origin: http://b.example"]);
    expect(lines(request, "Authorization")).toEqual(["Authorization: Bearer t0ken"]);
  });
});

describe("RFC 9110 §5.5: client options that would break the request head", () => {
  it("refuses URL credentials that are not valid percent-encoding when made, not from start()", () => {
    // They become `Authorization: Basic` (decoded, then UTF-8): `%zz` cannot be decoded. start()
    // used to throw a URIError, out of the socket's connect callback in the Node adapter.
    for (const url of ["ws://%zz@example.com/", "ws://user:%E0%A4%A@example.com/"]) {
      const io = new CollectingIO();
      expect(() => Driver.client(url, io)).toThrow(TypeError);
      expect(io.chunks).toHaveLength(0);
    }
  });

  it("refuses an origin holding CR, LF or NUL, which would inject header lines", () => {
    for (const origin of ["http://a.example\r\nX-Injected: 1", "http://a.example\nX-Injected: 1", "http://a.example\0"]) {
      const io = new CollectingIO();
      expect(() => Driver.client("ws://example.com/", io, { origin })).toThrow(TypeError);
      expect(io.chunks).toHaveLength(0);
    }
  });
});
