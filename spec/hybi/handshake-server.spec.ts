import { Driver } from "../../lib/driver";
import { HandshakeError } from "../../lib/errors";
import { CollectingIO, SAMPLE_KEY, clientFrame, concat, record, upgradeRequest, utf8 } from "../support/wire";

/** The example request of RFC 6455 §1.3, with the subprotocols and Origin it names. */
const RFC_REQUEST =
  "GET /chat HTTP/1.1\r\n" +
  "Host: server.example.com\r\n" +
  "Upgrade: websocket\r\n" +
  "Connection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
  "Origin: http://example.com\r\n" +
  "Sec-WebSocket-Protocol: chat, superchat\r\n" +
  "Sec-WebSocket-Version: 13\r\n" +
  "\r\n";

function serve(request: string, options = {}) {
  const io = new CollectingIO();
  const driver = Driver.server(io, options);
  const events = record(driver);
  driver.on("connect", () => driver.start());
  driver.parse(utf8(request));
  return { io, driver, events, response: io.text() };
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1]);
}

describe("RFC 6455 §1.3: the opening handshake example", () => {
  it("answers the RFC's request byte for byte", () => {
    const { response, driver, events } = serve(RFC_REQUEST, { protocols: ["chat"] });
    expect(response).toBe(
      "HTTP/1.1 101 Switching Protocols\r\n" +
      "Upgrade: websocket\r\n" +
      "Connection: Upgrade\r\n" +
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
      "Sec-WebSocket-Protocol: chat\r\n" +
      "\r\n");
    expect(driver.readyState).toBe(1);
    expect(driver.protocol).toBe("chat");
    expect(driver.version).toBe("hybi-13");
    expect(events.map(([type]) => type)).toEqual(["connect", "open"]);
  });

  it("exposes the request on connect, with lower-case header names", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    let seen: unknown;
    driver.on("connect", () => { seen = driver.request; });
    driver.parse(utf8(RFC_REQUEST));
    expect(seen).toMatchObject({ method: "GET", url: "/chat", httpVersion: "1.1" });
    expect(driver.request?.headers["sec-websocket-protocol"]).toBe("chat, superchat");
    expect(driver.request?.headers["origin"]).toBe("http://example.com");
    expect(Driver.isWebSocket(driver.request)).toBe(true);
    expect(io.chunks).toHaveLength(0); // nothing is sent before start()
  });

  it("reads the request in any split, one byte at a time included", () => {
    const whole = utf8(RFC_REQUEST);
    for (const size of [1, 2, 3, 7, 50]) {
      const io = new CollectingIO();
      const driver = Driver.server(io, { protocols: ["superchat"] });
      const events = record(driver);
      driver.on("connect", () => driver.start());
      for (let i = 0; i < whole.length; i += size) driver.parse(whole.subarray(i, i + size));
      expect(events.map(([type]) => type)).toEqual(["connect", "open"]);
      expect(io.text()).toContain("Sec-WebSocket-Protocol: superchat\r\n");
    }
  });

  it("accepts a Node Buffer and an ArrayBuffer as input", () => {
    const a = serve("");
    a.driver.parse(Buffer.from(RFC_REQUEST, "latin1"));
    expect(a.driver.readyState).toBe(1);
    const b = serve("");
    b.driver.parse(utf8(RFC_REQUEST).buffer as ArrayBuffer);
    expect(b.driver.readyState).toBe(1);
  });
});

describe("RFC 6455 §4.2.2: subprotocol selection", () => {
  it("chooses the server's first preference that the client offered", () => {
    const { driver, response } = serve(RFC_REQUEST, { protocols: ["superchat", "chat"] });
    expect(driver.protocol).toBe("superchat");
    expect(response).toContain("Sec-WebSocket-Protocol: superchat\r\n");
  });

  it("sends no Sec-WebSocket-Protocol when nothing matches, and still opens", () => {
    const { driver, response } = serve(RFC_REQUEST, { protocols: ["mqtt"] });
    expect(driver.readyState).toBe(1);
    expect(driver.protocol).toBe("");
    expect(response).not.toContain("Sec-WebSocket-Protocol");
  });

  it("sends none when the client offers none", () => {
    const { driver, response } = serve(upgradeRequest(), { protocols: ["chat"] });
    expect(driver.protocol).toBe("");
    expect(response).not.toContain("Sec-WebSocket-Protocol");
  });
});

describe("RFC 6455 §4.2.1: requests that are refused", () => {
  const cases: Array<[string, string, number, RegExp]> = [
    ["a method other than GET", upgradeRequest({}, "POST /chat HTTP/1.1"), 400, /GET/],
    ["HTTP/1.0", upgradeRequest({}, "GET /chat HTTP/1.0"), 400, /HTTP\/1\.1/],
    // RFC 6455 §4.2.1 item 2, and RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400.
    ["no Host header", upgradeRequest({ Host: null }), 400, /Host/],
    ["an empty Host header", upgradeRequest({ Host: "" }), 400, /Host/],
    ["no Upgrade header", upgradeRequest({ Upgrade: null }), 400, /Upgrade/],
    ["an Upgrade other than websocket", upgradeRequest({ Upgrade: "h2c" }), 400, /Upgrade/],
    ["no Connection header", upgradeRequest({ Connection: null }), 400, /Connection/],
    ["a Connection without upgrade", upgradeRequest({ Connection: "keep-alive" }), 400, /Connection/],
    ["no Sec-WebSocket-Key", upgradeRequest({ "Sec-WebSocket-Key": null }), 400, /Sec-WebSocket-Key/],
    ["a key that is not base64", upgradeRequest({ "Sec-WebSocket-Key": "not base64!!" }), 400, /Sec-WebSocket-Key/],
    ["a key of 15 bytes", upgradeRequest({ "Sec-WebSocket-Key": "AAAAAAAAAAAAAAAAAAAA" }), 400, /16 bytes/],
    ["no Sec-WebSocket-Version", upgradeRequest({ "Sec-WebSocket-Version": null }), 426, /Sec-WebSocket-Version/],
    ["version 12", upgradeRequest({ "Sec-WebSocket-Version": "12" }), 426, /12/],
  ];

  for (const [name, request, status, message] of cases) {
    it(`answers ${status} to ${name}, emits error and close, and does not open`, () => {
      const { response, driver, events } = serve(request);
      expect(statusOf(response)).toBe(status);
      expect(driver.readyState).toBe(3);
      const error = events.find(([type]) => type === "error")?.[1] as HandshakeError;
      expect(error).toBeInstanceOf(HandshakeError);
      expect(error.status).toBe(status);
      expect(error.message).toMatch(message);
      expect(events.map(([type]) => type)).toEqual(["connect", "error", "close"]);
      // The body says what was wrong, and the connection is not kept.
      expect(response).toContain("Connection: close\r\n");
      expect(response.endsWith(error.message)).toBe(true);
    });
  }

  it("names the supported versions in a 426 (RFC 6455 §4.4)", () => {
    const { response } = serve(upgradeRequest({ "Sec-WebSocket-Version": "99" }));
    expect(response).toContain("Sec-WebSocket-Version: 13, 8, 7\r\n");
  });

  it("accepts Connection and Upgrade as token lists in any case", () => {
    const { driver } = serve(upgradeRequest({ Connection: "keep-alive, UPGRADE", Upgrade: "WebSocket" }));
    expect(driver.readyState).toBe(1);
  });

  it("serves versions 8 and 7, whose framing is the same", () => {
    for (const version of ["8", "7"]) {
      const { driver } = serve(upgradeRequest({ "Sec-WebSocket-Version": version }));
      expect(driver.readyState).toBe(1);
      expect(driver.version).toBe(`hybi-${version}`);
    }
  });

  it("returns false from start() after a refusal, and sends nothing more", () => {
    const { driver, io } = serve(upgradeRequest({ Upgrade: null }));
    const before = io.chunks.length;
    expect(driver.start()).toBe(false);
    expect(driver.text("x")).toBe(false);
    expect(io.chunks.length).toBe(before);
  });
});

describe("a transport that ends while the refusal is written", () => {
  // An adapter calls `end()` from inside `io.write` when its socket refuses the write. Whatever the
  // refusal was, the connection must end with exactly one `close`, and nothing after it.
  for (const [name, request] of [
    ["a refused upgrade (400)", upgradeRequest({ Upgrade: "h2c" })],
    ["a head that cannot be read (400)", "GARBAGE\r\n\r\n"],
  ] as const) {
    it(`${name}: one close, last`, () => {
      const io = new CollectingIO();
      const driver = Driver.server({
        write: (chunk) => {
          io.write(chunk);
          driver.end();
          return false;
        },
      });
      const events = record(driver);
      driver.on("connect", () => driver.start());
      driver.parse(utf8(request));
      expect(io.text()).toMatch(/^HTTP\/1\.1 400 /);
      expect(events.filter(([type]) => type === "close")).toHaveLength(1);
      expect(events[events.length - 1][0]).toBe("close");
      expect(driver.readyState).toBe(3);
    });
  }
});

describe("HTTP heads that cannot be read", () => {
  it("answers 400 to a malformed request line", () => {
    const { response, events } = serve("GARBAGE\r\n\r\n");
    expect(statusOf(response)).toBe(400);
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
    expect((events[0][1] as Error).message).toMatch(/Malformed HTTP request/);
  });

  it("answers 431 once the head passes maxHeaderSize, without waiting for its end", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io, { maxHeaderSize: 1024 });
    const events = record(driver);
    driver.parse(utf8("GET / HTTP/1.1\r\nX-Big: "));
    expect(io.chunks).toHaveLength(0);
    driver.parse(utf8("a".repeat(1100)));
    expect(statusOf(io.text())).toBe(431);
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
    expect((events[0][1] as Error).message).toMatch(/maxHeaderSize \(1024 bytes\)/);
    // Later bytes are ignored.
    driver.parse(utf8("\r\n\r\n"));
    expect(events).toHaveLength(2);
  });

  it("accepts a head of exactly maxHeaderSize bytes", () => {
    const request = upgradeRequest();
    const { driver } = serve(request, { maxHeaderSize: utf8(request).length });
    expect(driver.readyState).toBe(1);
  });

  it("emits close with 1006 when the transport ends before the request is complete", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    const events = record(driver);
    driver.parse(utf8("GET / HTTP/1.1\r\n"));
    driver.end();
    expect(events).toEqual([["close", { code: 1006, reason: "" }]]);
  });
});

describe("custom headers (setHeader)", () => {
  it("adds headers to the 101 response when set before start()", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    expect(driver.setHeader("X-Server", "wsdriver")).toBe(true);
    driver.on("connect", () => {
      expect(driver.setHeader("Set-Cookie", "a=b")).toBe(true);
      driver.start();
    });
    driver.parse(utf8(upgradeRequest()));
    expect(io.text()).toMatch(/\r\nX-Server: wsdriver\r\nSet-Cookie: a=b\r\n\r\n$/);
  });

  it("refuses headers after start() and headers that would inject lines", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    driver.on("connect", () => {
      expect(driver.setHeader("X-Evil", "a\r\nInjected: yes")).toBe(false);
      expect(driver.setHeader("Bad Name", "x")).toBe(false);
      driver.start();
    });
    driver.parse(utf8(upgradeRequest()));
    expect(driver.setHeader("X-Late", "1")).toBe(false);
    expect(io.text()).not.toMatch(/Injected|Bad Name|X-Late/);
  });
});

describe("Driver.fromRequest: a request read by the embedder's HTTP stack", () => {
  const headers = {
    Host: "server.example.com",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "sec-websocket-key": SAMPLE_KEY,
    "SEC-WEBSOCKET-VERSION": "13",
    "Sec-WebSocket-Protocol": ["chat", "superchat"],
  };

  it("takes headers as a plain object in any case", () => {
    const io = new CollectingIO();
    const driver = Driver.fromRequest({ method: "GET", url: "/chat", headers }, io, { protocols: ["superchat"] });
    const events = record(driver);
    expect(driver.start()).toBe(true);
    expect(io.text()).toContain("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n");
    expect(driver.protocol).toBe("superchat");
    expect(events.map(([type]) => type)).toEqual(["open"]);
  });

  it("takes a web Headers object and an absolute URL (Deno, Bun)", () => {
    const io = new CollectingIO();
    const request = { method: "GET", url: "http://server.example.com/chat?room=1", headers: new Headers(headers as unknown as Record<string, string>) };
    expect(Driver.isWebSocket(request)).toBe(true);
    const driver = Driver.fromRequest(request, io);
    expect(driver.request?.url).toBe("/chat?room=1");
    expect(driver.start()).toBe(true);
    expect(driver.readyState).toBe(1);
  });

  it("parses frames passed after start(), such as the head bytes of Node's upgrade event", () => {
    const io = new CollectingIO();
    const driver = Driver.fromRequest({ method: "GET", url: "/", headers }, io);
    const events = record(driver);
    driver.start();
    driver.parse(clientFrame({ opcode: 1, payload: "early" }));
    expect(events).toContainEqual(["message", { data: "early" }]);
  });

  it("holds frames that arrive before start() until the handshake is answered", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    const events = record(driver);
    driver.parse(concat(utf8(upgradeRequest()), clientFrame({ opcode: 1, payload: "with the head" })));
    expect(events.map(([type]) => type)).toEqual(["connect"]);
    driver.start();
    expect(events.slice(1)).toEqual([["open", {}], ["message", { data: "with the head" }]]);
  });
});

describe("Driver.isWebSocket", () => {
  it("tells upgrade requests from others", () => {
    expect(Driver.isWebSocket({ method: "GET", headers: { connection: "Upgrade", upgrade: "websocket" } })).toBe(true);
    expect(Driver.isWebSocket({ method: "GET", headers: { Connection: "keep-alive, Upgrade", Upgrade: "WebSocket" } })).toBe(true);
    expect(Driver.isWebSocket({ method: "POST", headers: { connection: "Upgrade", upgrade: "websocket" } })).toBe(false);
    expect(Driver.isWebSocket({ method: "GET", headers: { connection: "keep-alive" } })).toBe(false);
    expect(Driver.isWebSocket({ method: "GET", headers: { connection: "Upgrade", upgrade: "h2c" } })).toBe(false);
    expect(Driver.isWebSocket(undefined)).toBe(false);
  });

  it("lets a server answer plain HTTP itself when the request is not an upgrade", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    let upgrade: boolean | undefined;
    driver.on("connect", () => { upgrade = Driver.isWebSocket(driver.request); });
    driver.parse(utf8("GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"));
    expect(upgrade).toBe(false);
    expect(driver.request?.url).toBe("/index.html");
    expect(io.chunks).toHaveLength(0);
  });
});

describe("RFC 9112 §3, §5: the request head's grammar", () => {
  const bad: Array<[string, string, RegExp]> = [
    ["a request line with no version", "GET /chat\r\nHost: x\r\n\r\n", /invalid request line/],
    ["a header line with no colon", upgradeRequest().replace("\r\n\r\n", "\r\nnonsense\r\n\r\n"), /not name: value/],
    ["whitespace before a header's colon", upgradeRequest({ "Upgrade ": "websocket" }), /not name: value/],
    ["a folded header line", upgradeRequest().replace("\r\n\r\n", "\r\nX-A: 1\r\n\t2\r\n\r\n"), /folded header line/],
    // §3.2: "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request
    // message that lacks a Host header field and to any request message that contains more than
    // one Host header field line".
    ["two Host header lines", upgradeRequest().replace("\r\n\r\n", "\r\nHost: other.example\r\n\r\n"), /more than one Host/],
    ["two Host header lines in different case", upgradeRequest().replace("\r\n\r\n", "\r\nhOST: server.example.com\r\n\r\n"), /more than one Host/],
  ];
  for (const [name, request, message] of bad) {
    it(`answers 400 to ${name}`, () => {
      const { response, events } = serve(request);
      expect(statusOf(response)).toBe(400);
      expect((events.find(([type]) => type === "error")?.[1] as Error).message).toMatch(message);
    });
  }
});
