/**
 * Event handlers: `on` and `off` follow mitt's rules (order, duplicates, what `off` removes, which
 * handlers one event runs), through the single-handler fast path too; and request headers inherit
 * nothing. Every test drives a real server with real frames.
 */
import { Driver } from "../../lib/driver";
import { CollectingIO, clientFrame, openServer, requestKey, upgradeRequest, upgradeResponse, utf8 } from "../support/wire";

/** A masked text frame from the client (RFC 6455 §5.1, §5.6). */
const textFrame = (text: string): Uint8Array => clientFrame({ opcode: 1, payload: utf8(text) });

describe("handlers run in the order they were added", () => {
  it("calls each handler of an event once per registration, first added first", () => {
    const { driver } = openServer();
    const calls: string[] = [];
    const a = () => calls.push("a");
    driver.on("message", a);
    driver.on("message", () => calls.push("b"));
    driver.on("message", a);
    driver.parse(textFrame("x"));
    expect(calls).toEqual(["a", "b", "a"]);
  });

  it("hands every handler the same event", () => {
    const { driver } = openServer();
    const seen: unknown[] = [];
    driver.on("message", (event) => seen.push(event.data));
    driver.on("message", (event) => seen.push(event.data));
    driver.parse(textFrame("hello"));
    expect(seen).toEqual(["hello", "hello"]);
  });
});

describe("off removes handlers", () => {
  it("removes the first registration of a handler, and only that one", () => {
    const { driver } = openServer();
    const calls: string[] = [];
    const a = () => calls.push("a");
    driver.on("message", a);
    driver.on("message", () => calls.push("b"));
    driver.on("message", a);
    driver.off("message", a);
    driver.parse(textFrame("x"));
    expect(calls).toEqual(["b", "a"]);
  });

  it("removes a lone handler", () => {
    const { driver } = openServer();
    const calls: string[] = [];
    const a = () => calls.push("a");
    driver.on("message", a);
    driver.off("message", a);
    driver.parse(textFrame("x"));
    expect(calls).toEqual([]);
    driver.on("message", a);
    driver.parse(textFrame("y"));
    expect(calls).toEqual(["a"]);
  });

  it("leaves the handlers alone when the one given was never added", () => {
    const { driver } = openServer();
    const calls: string[] = [];
    driver.on("message", () => calls.push("a"));
    driver.off("message", () => calls.push("never added"));
    driver.off("ping");
    driver.parse(textFrame("x"));
    expect(calls).toEqual(["a"]);
  });

  it("removes every handler of the event when no handler is given, and no other event's", () => {
    const { driver } = openServer();
    const calls: string[] = [];
    driver.on("message", () => calls.push("a"));
    driver.on("message", () => calls.push("b"));
    driver.on("ping", () => calls.push("ping"));
    driver.off("message");
    driver.parse(textFrame("x"));
    driver.parse(clientFrame({ opcode: 9, payload: utf8("p") }));
    expect(calls).toEqual(["ping"]);
  });
});

describe("the handlers of an event are fixed when it is emitted", () => {
  it("runs a handler added during an event from the next event on", () => {
    const { driver } = openServer();
    const calls: string[] = [];
    driver.on("message", () => {
      calls.push("a");
      driver.on("message", () => calls.push("late"));
    });
    driver.parse(textFrame("1"));
    expect(calls).toEqual(["a"]);
  });

  it("still runs, this once, a handler removed during the event", () => {
    const { driver } = openServer();
    const calls: string[] = [];
    const b = () => calls.push("b");
    driver.on("message", () => {
      calls.push("a");
      driver.off("message", b);
    });
    driver.on("message", b);
    driver.parse(textFrame("1"));
    driver.parse(textFrame("2"));
    expect(calls).toEqual(["a", "b", "a"]);
  });
});

describe("Driver.server: one set of handlers before and after the request is read", () => {
  it("delivers to handlers added before and after connect, and off works across it", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    const calls: string[] = [];
    const early = () => calls.push("early");
    driver.on("message", early);
    driver.on("connect", () => {
      driver.on("message", () => calls.push("late"));
      driver.start();
    });
    driver.parse(utf8(upgradeRequest()));
    driver.parse(textFrame("1"));
    driver.off("message", early);
    driver.parse(textFrame("2"));
    expect(calls).toEqual(["early", "late", "late"]);
  });

  it("emits close to handlers added before the request when the transport ends first", () => {
    const driver = Driver.server(new CollectingIO());
    const closes: number[] = [];
    driver.on("close", (event) => closes.push(event.code));
    driver.parse(utf8("GET /chat HTTP/1.1\r\nHost: a\r\n"));
    driver.end();
    expect(closes).toEqual([1006]);
    expect(driver.request).toBeUndefined();
  });
});

describe("connect and open fire once per connection", () => {
  it("runs each connect and open handler once; one added afterwards never runs, and off of a spent one changes nothing", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    const calls: string[] = [];
    const onConnect = () => {
      calls.push("connect");
      driver.start();
    };
    const onOpen = () => calls.push("open");
    driver.on("connect", onConnect);
    driver.on("open", onOpen);
    driver.on("message", (event) => calls.push(`message ${String(event.data)}`));
    driver.parse(utf8(upgradeRequest()));
    expect(calls).toEqual(["connect", "open"]);
    driver.off("connect", onConnect);
    driver.off("open");
    driver.on("open", () => calls.push("late open"));
    driver.on("connect", () => calls.push("late connect"));
    driver.parse(textFrame("1"));
    expect(calls).toEqual(["connect", "open", "message 1"]);
    expect(driver.readyState).toBe(1);
  });

  it("runs every open handler of a client, in order, once", () => {
    const io = new CollectingIO();
    const driver = Driver.client("ws://example.com/", io);
    const calls: string[] = [];
    driver.on("open", () => calls.push("a"));
    driver.on("open", () => calls.push("b"));
    driver.start();
    driver.parse(utf8(upgradeResponse(requestKey(io.text()))));
    expect(calls).toEqual(["a", "b"]);
    expect(driver.readyState).toBe(1);
  });
});

describe("request headers inherit nothing", () => {
  it("reads any header name as a plain key, __proto__ and constructor included", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    const request = upgradeRequest({ "X-Extra": "x" }).replace("\r\n\r\n", "\r\n__proto__: p\r\n\r\n");
    driver.parse(utf8(request));
    const headers = driver.request?.headers as Record<string, string>;
    expect(headers["__proto__"]).toBe("p");
    expect(Object.getPrototypeOf(headers)).not.toBe("p");
    expect(headers["x-extra"]).toBe("x");
    expect("constructor" in headers).toBe(false);
    expect("toString" in headers).toBe(false);
    expect(Object.keys(headers)).toEqual([
      "host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "x-extra", "__proto__",
    ]);
  });

  it("does the same for a request read by the embedder's HTTP stack", () => {
    const driver = Driver.fromRequest({ method: "GET", url: "/", headers: { Host: "a", Constructor: "c" } }, new CollectingIO());
    const headers = driver.request?.headers as Record<string, string>;
    expect(headers["constructor"]).toBe("c");
    expect("hasOwnProperty" in headers).toBe(false);
    expect(headers["toString"]).toBeUndefined();
  });
});

describe("request header values are kept exactly as read", () => {
  it("reads each request's own Host, Origin and User-Agent, across many requests with different values", () => {
    // Values that repeat are shared between requests, from a table that is emptied when it fills
    // up: 600 requests with 300 different hosts go round it more than once.
    for (let i = 0; i < 600; i++) {
      const n = i % 300;
      const driver = Driver.server(new CollectingIO());
      driver.parse(utf8(upgradeRequest({ Host: `h${n}.example`, Origin: `https://o${n}.example`, "User-Agent": `agent/${n}` })));
      const headers = driver.request?.headers as Record<string, string>;
      expect([headers["host"], headers["origin"], headers["user-agent"]]).toEqual([`h${n}.example`, `https://o${n}.example`, `agent/${n}`]);
      const adopted = Driver.fromRequest({ method: "GET", url: "/", headers: { host: `h${n}.example`, "user-agent": `agent/${n}` } }, new CollectingIO());
      expect(adopted.request?.headers["host"]).toBe(`h${n}.example`);
      expect(adopted.request?.headers["user-agent"]).toBe(`agent/${n}`);
    }
  });

  it("keeps the HTTP version a request read by the embedder's stack gives, and gives none when it gives none", () => {
    const io = new CollectingIO();
    // As Node's IncomingMessage has it.
    const current = { method: "GET", url: "/", headers: { host: "a" }, httpVersion: "1.1" };
    const older = { method: "GET", url: "/", headers: { host: "a" }, httpVersion: "1.0" };
    expect(Driver.fromRequest(current, io).request?.httpVersion).toBe("1.1");
    expect(Driver.fromRequest(older, io).request?.httpVersion).toBe("1.0");
    const without = Driver.fromRequest({ method: "GET", url: "/", headers: { host: "a" } }, io);
    expect(without.request && "httpVersion" in without.request).toBe(false);
  });

  it("keeps long values, latin-1 bytes included, and the shared common ones", () => {
    const driver = Driver.server(new CollectingIO());
    const head = upgradeRequest({ "User-Agent": "a long user agent string, v1.2.3" });
    const bytes = utf8(head.replace("\r\n\r\n", "\r\nX-Latin: caf\u0000 over thirteen bytes\r\n\r\n"));
    // One byte above 0x7f where the placeholder is: header bytes are read as latin-1.
    bytes[bytes.indexOf(0)] = 0xe9;
    driver.parse(bytes);
    const headers = driver.request?.headers as Record<string, string>;
    expect(headers["user-agent"]).toBe("a long user agent string, v1.2.3");
    expect(headers["x-latin"]).toBe("caf\u00e9 over thirteen bytes");
    expect(headers["sec-websocket-key"]).toBe("dGhlIHNhbXBsZSBub25jZQ==");
    expect(headers["upgrade"]).toBe("websocket");
    expect(headers["connection"]).toBe("Upgrade");
    expect(driver.request?.httpVersion).toBe("1.1");
  });
});
