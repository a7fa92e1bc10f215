/**
 * The `origins` and `requireOrigin` options: which pages may open a connection (RFC 6455 §10.2,
 * §4.2.2 step 4: an unacceptable origin is answered 403), compared as RFC 6454 §6.2 serialises
 * origins. Every request here is real bytes through Driver.server, or a request object through
 * Driver.fromRequest, and every answer is read off the wire.
 */
import { Driver } from "../../lib/driver";
import { HandshakeError } from "../../lib/errors";
import { serializeOrigin } from "../../lib/http/origin";
import type { ServerOptions } from "../../lib/options";
import { DRAFT75_REQUEST, DRAFT76_BODY, DRAFT76_HEAD } from "../hixie/support";
import { CollectingIO, type Recorded, SAMPLE_KEY, clientFrame, concat, record, upgradeRequest, utf8 } from "../support/wire";

const APP = "https://app.example";

/** Feeds `bytes` to a Driver.server that starts on connect; what it wrote and emitted. */
function serve(bytes: string | Uint8Array, options: ServerOptions): { io: CollectingIO; events: Recorded[]; status: string } {
  const io = new CollectingIO();
  const driver = Driver.server(io, options);
  const events = record(driver);
  driver.on("connect", () => driver.start());
  driver.parse(typeof bytes === "string" ? utf8(bytes) : bytes);
  return { io, events, status: io.text().split("\r\n")[0]! };
}

const withOrigin = (origin: string | null, extra: Record<string, string | null> = {}): string =>
  upgradeRequest({ Origin: origin, ...extra });

/** The `error` event's HandshakeError, checked to be the only error. */
function refusal(events: Recorded[]): HandshakeError {
  const errors = events.filter(([type]) => type === "error").map(([, error]) => error);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toBeInstanceOf(HandshakeError);
  return errors[0] as HandshakeError;
}

describe("RFC 6454 §6.2: origins are compared as serialised", () => {
  it.each([
    ["https://app.example", "https://app.example"],
    ["HTTPS://App.Example", "https://app.example"],
    ["https://app.example:443", "https://app.example"],
    ["http://app.example:80", "http://app.example"],
    ["wss://app.example:443", "wss://app.example"],
    ["https://app.example:8443", "https://app.example:8443"],
    ["http://[::1]:8080", "http://[::1]:8080"],
    ["http://127.0.0.1", "http://127.0.0.1"],
    ["https://bücher.example", "https://xn--bcher-kva.example"],
    ["chrome-extension://ABCDEF", "chrome-extension://abcdef"],
  ])("%s is %s", (value, serialised) => {
    expect(serializeOrigin(value)).toBe(serialised);
  });

  it.each([
    "app.example", "https://app.example/", "https://app.example/chat", "https://user@app.example", "https://app.example?x",
    "https://", "https://app.example:99999", "https://app.example, https://evil.example", "null", "",
  ])("%j is not one origin", (value) => {
    expect(serializeOrigin(value)).toBeNull();
  });
});

describe("origins: a list, against RFC 6455 requests read by Driver.server", () => {
  const options: ServerOptions = { origins: [APP, "HTTP://LOCALHOST:8080"] };

  it("answers 101 to an allowed origin, written as the list writes it or as a browser serialises it", () => {
    expect(serve(withOrigin(APP), options).status).toBe("HTTP/1.1 101 Switching Protocols");
    expect(serve(withOrigin("https://APP.example:443"), options).status).toBe("HTTP/1.1 101 Switching Protocols");
    expect(serve(withOrigin("http://localhost:8080"), options).status).toBe("HTTP/1.1 101 Switching Protocols");
  });

  it("answers 403 to a foreign origin, emits error then close, and reads nothing after the head", () => {
    // A masked text frame "hi" sent with the head: it must not become a message.
    const bytes = concat(utf8(withOrigin("https://evil.example")), clientFrame({ opcode: 1, payload: utf8("hi") }));
    const { io, events } = serve(bytes, options);
    expect(io.text()).toBe(
      "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 44\r\nConnection: close\r\n\r\n" +
      "Origin 'https://evil.example' is not allowed");
    expect(events.map(([type]) => type)).toEqual(["connect", "error", "close"]);
    const error = refusal(events);
    expect(error.status).toBe(403);
    expect(error.message).toBe("Origin 'https://evil.example' is not allowed");
    expect(events[2]).toEqual(["close", { code: 1002, reason: "Origin 'https://evil.example' is not allowed" }]);
  });

  it.each([
    ["another scheme", "http://app.example"],
    ["another port", "https://app.example:8443"],
    ["a subdomain", "https://sub.app.example"],
    ["a suffix", "https://app.example.evil.example"],
  ])("refuses %s (%s): matches are exact", (_, origin) => {
    const { status, events } = serve(withOrigin(origin), options);
    expect(status).toBe("HTTP/1.1 403 Forbidden");
    expect(refusal(events).message).toBe(`Origin '${origin}' is not allowed`);
  });

  it("refuses a value that is not one origin, two Origin headers joined included", () => {
    const path = serve(withOrigin("https://app.example/chat"), options);
    expect(path.status).toBe("HTTP/1.1 403 Forbidden");
    expect(refusal(path.events).message).toBe("Origin 'https://app.example/chat' is not an origin (scheme://host[:port])");
    const twice = upgradeRequest({ Origin: APP }).replace("\r\n\r\n", "\r\nOrigin: https://evil.example\r\n\r\n");
    expect(serve(twice, options).status).toBe("HTTP/1.1 403 Forbidden");
  });

  it("allows a request without Origin (not a browser)", () => {
    const { status, events } = serve(withOrigin(null), options);
    expect(status).toBe("HTTP/1.1 101 Switching Protocols");
    expect(events.map(([type]) => type)).toEqual(["connect", "open"]);
  });

  it("refuses the literal null origin unless the list holds \"null\"", () => {
    const refused = serve(withOrigin("null"), options);
    expect(refused.status).toBe("HTTP/1.1 403 Forbidden");
    expect(refusal(refused.events).message)
      .toBe("Origin 'null' (an opaque origin: a sandboxed frame, a file: or data: page) is not allowed");
    expect(serve(withOrigin("null"), { origins: [APP, "null"] }).status).toBe("HTTP/1.1 101 Switching Protocols");
  });

  it("with an empty list, allows only requests without Origin", () => {
    expect(serve(withOrigin(APP), { origins: [] }).status).toBe("HTTP/1.1 403 Forbidden");
    expect(serve(withOrigin(null), { origins: [] }).status).toBe("HTTP/1.1 101 Switching Protocols");
  });

  it("checks the origin after the request's own rules: a malformed request is a 400 whatever its origin", () => {
    const { status } = serve(withOrigin("https://evil.example", { "Sec-WebSocket-Key": null }), options);
    expect(status).toBe("HTTP/1.1 400 Bad Request");
  });
});

describe("requireOrigin: a request without Origin is refused", () => {
  it("answers 403 and says the header is missing", () => {
    const { status, events } = serve(withOrigin(null), { origins: [APP], requireOrigin: true });
    expect(status).toBe("HTTP/1.1 403 Forbidden");
    expect(refusal(events).message).toBe("Missing Origin header: the server requires one (requireOrigin)");
    expect(serve(withOrigin(APP), { origins: [APP], requireOrigin: true }).status).toBe("HTTP/1.1 101 Switching Protocols");
  });

  it("on its own, allows every origin but requires one", () => {
    expect(serve(withOrigin("https://any.example"), { requireOrigin: true }).status).toBe("HTTP/1.1 101 Switching Protocols");
    expect(serve(withOrigin(null), { requireOrigin: true }).status).toBe("HTTP/1.1 403 Forbidden");
  });
});

describe("origins: a function of the origin", () => {
  it("is given the serialised origin, and its true or false decides", () => {
    const seen: string[] = [];
    const origins = (origin: string): boolean => {
      seen.push(origin);
      return origin.endsWith(".app.example");
    };
    expect(serve(withOrigin("HTTPS://EU.App.Example:443"), { origins }).status).toBe("HTTP/1.1 101 Switching Protocols");
    expect(serve(withOrigin("https://evil.example"), { origins }).status).toBe("HTTP/1.1 403 Forbidden");
    expect(serve(withOrigin("null"), { origins }).status).toBe("HTTP/1.1 403 Forbidden");
    expect(seen).toEqual(["https://eu.app.example", "https://evil.example", "null"]);
  });

  it("is not called for a request without Origin, which is allowed", () => {
    const origins = jest.fn(() => false);
    expect(serve(withOrigin(null), { origins }).status).toBe("HTTP/1.1 101 Switching Protocols");
    expect(origins).not.toHaveBeenCalled();
  });

  it("that throws: 500, a body that tells the peer nothing of it, and an error event that tells the server", () => {
    const thrown = new Error("database unreachable");
    const { io, events } = serve(withOrigin(APP), { origins: () => { throw thrown; } });
    expect(io.text()).toBe(
      "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 21\r\n" +
      "Connection: close\r\n\r\nInternal Server Error");
    expect(events.map(([type]) => type)).toEqual(["connect", "error", "close"]);
    const error = refusal(events);
    expect(error.status).toBe(500);
    expect(error.message).toBe("The origins function threw on Origin 'https://app.example': database unreachable");
    expect(error.cause).toBe(thrown);
  });

  it.each([
    ["a Promise (an async function)", async () => true, "a Promise"],
    ["a truthy string", () => "yes", "yes"],
    ["undefined", () => undefined, "undefined"],
  ])("that returns %s: 500, not a yes", (_, origins, what) => {
    const { status, events } = serve(withOrigin(APP), { origins: origins as unknown as (origin: string) => boolean });
    expect(status).toBe("HTTP/1.1 500 Internal Server Error");
    expect(refusal(events).message)
      .toBe(`The origins function must return true or false at once, and returned ${what} for Origin 'https://app.example'`);
  });
});

describe("Sec-WebSocket-Origin: the origin header of versions 7 and 8", () => {
  const v8 = (headers: Record<string, string | null>): string =>
    upgradeRequest({ "Sec-WebSocket-Version": "8", ...headers });
  const options: ServerOptions = { origins: [APP] };

  it("is checked as Origin is", () => {
    expect(serve(v8({ "Sec-WebSocket-Origin": APP }), options).status).toBe("HTTP/1.1 101 Switching Protocols");
    const { status, events } = serve(v8({ "Sec-WebSocket-Origin": "https://evil.example" }), options);
    expect(status).toBe("HTTP/1.1 403 Forbidden");
    expect(refusal(events).message).toBe("Sec-WebSocket-Origin 'https://evil.example' is not allowed");
  });

  it("must pass too when Origin is there as well", () => {
    expect(serve(v8({ Origin: APP, "Sec-WebSocket-Origin": "https://evil.example" }), options).status).toBe("HTTP/1.1 403 Forbidden");
    expect(serve(v8({ Origin: "https://evil.example", "Sec-WebSocket-Origin": APP }), options).status).toBe("HTTP/1.1 403 Forbidden");
  });

  it("counts as an origin for requireOrigin", () => {
    expect(serve(v8({ "Sec-WebSocket-Origin": APP }), { requireOrigin: true }).status).toBe("HTTP/1.1 101 Switching Protocols");
  });
});

describe("the drafts: hixie-76 and hixie-75 requests carry Origin", () => {
  const drafts = (origins: readonly string[]): ServerOptions => ({ allowDrafts: true, origins });

  it("draft-76 from an allowed origin opens; from a foreign one, 403 and its key body is not read", () => {
    const allowed = serve(DRAFT76_HEAD + DRAFT76_BODY, drafts(["http://example.com"]));
    expect(allowed.status).toBe("HTTP/1.1 101 WebSocket Protocol Handshake");
    const refused = serve(DRAFT76_HEAD + DRAFT76_BODY + "\x00hi\xff", drafts([APP]));
    expect(refused.status).toBe("HTTP/1.1 403 Forbidden");
    expect(refused.events.map(([type]) => type)).toEqual(["connect", "error", "close"]);
    expect(refusal(refused.events).message).toBe("Origin 'http://example.com' is not allowed");
  });

  it("draft-75 likewise", () => {
    expect(serve(DRAFT75_REQUEST, drafts(["http://example.com"])).status).toBe("HTTP/1.1 101 Web Socket Protocol Handshake");
    expect(serve(DRAFT75_REQUEST, drafts([APP])).status).toBe("HTTP/1.1 403 Forbidden");
  });

  it("a draft request with the null origin, or a throwing function", () => {
    const nullOrigin = DRAFT75_REQUEST.replace("Origin: http://example.com", "Origin: null");
    expect(serve(nullOrigin, drafts([APP])).status).toBe("HTTP/1.1 403 Forbidden");
    const { status, events } = serve(DRAFT75_REQUEST, { allowDrafts: true, origins: () => { throw new TypeError("boom"); } });
    expect(status).toBe("HTTP/1.1 500 Internal Server Error");
    expect(refusal(events).message).toBe("The origins function threw on Origin 'http://example.com': boom");
  });
});

describe("Driver.fromRequest: a request read by the embedder's HTTP stack", () => {
  const request = (origin?: string) => ({
    method: "GET",
    url: "/chat",
    headers: {
      Host: "server.example.com", Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": SAMPLE_KEY,
      "Sec-WebSocket-Version": "13", ...(origin === undefined ? {} : { Origin: origin }),
    },
  });

  function answer(origin: string | undefined, options: ServerOptions): { status: string; events: Recorded[] } {
    const io = new CollectingIO();
    const driver = Driver.fromRequest(request(origin), io, options);
    const events = record(driver);
    driver.start();
    // Frames that follow a refusal are not read.
    driver.parse(clientFrame({ opcode: 1, payload: utf8("hi") }));
    return { status: io.text().split("\r\n")[0]!, events };
  }

  it("applies the same rules: foreign, allowed, absent, null and a throwing function", () => {
    const options: ServerOptions = { origins: [APP] };
    expect(answer("https://evil.example", options).status).toBe("HTTP/1.1 403 Forbidden");
    expect(answer("https://evil.example", options).events.map(([type]) => type)).toEqual(["error", "close"]);
    expect(answer(APP, options).status).toBe("HTTP/1.1 101 Switching Protocols");
    expect(answer(APP, options).events.map(([type]) => type)).toEqual(["open", "message"]);
    expect(answer(undefined, options).status).toBe("HTTP/1.1 101 Switching Protocols");
    expect(answer("null", options).status).toBe("HTTP/1.1 403 Forbidden");
    expect(answer(APP, { origins: () => { throw new Error("x"); } }).status).toBe("HTTP/1.1 500 Internal Server Error");
  });

  it("reads Origin from a web Headers object", () => {
    const io = new CollectingIO();
    const headers = new Headers(request("https://evil.example").headers);
    const driver = Driver.fromRequest({ method: "GET", url: "http://server.example.com/chat", headers }, io, { origins: [APP] });
    driver.start();
    expect(io.text()).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
  });
});

describe("a list changed in place between connections", () => {
  it("is read again: an origin taken out is refused, one put in is allowed, a bad one is a TypeError", () => {
    const origins = ["HTTPS://APP.example", "https://old.example"];
    const options: ServerOptions = { origins };
    expect(serve(withOrigin("https://old.example"), options).status).toBe("HTTP/1.1 101 Switching Protocols");
    expect(serve(withOrigin("https://app.example"), options).status).toBe("HTTP/1.1 101 Switching Protocols");
    origins[1] = "https://new.example";
    expect(serve(withOrigin("https://old.example"), options).status).toBe("HTTP/1.1 403 Forbidden");
    expect(serve(withOrigin("https://NEW.example:443"), options).status).toBe("HTTP/1.1 101 Switching Protocols");
    // Made before the bad entry came: its start() refuses with 500 rather than throw.
    const io = new CollectingIO();
    const early = Driver.server(io, options);
    early.on("connect", () => early.start());
    origins.push("new.example");
    expect(() => Driver.server(new CollectingIO(), options)).toThrow(/origins: "new.example" is not an origin/);
    early.parse(utf8(withOrigin("https://evil.example")));
    expect(io.text()).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
  });
});

describe("options that are not origins are refused when the driver is made", () => {
  it.each([
    [["https://app.example/"], /origins: "https:\/\/app.example\/" is not an origin/],
    [["app.example"], /origins: "app.example" is not an origin/],
    [["*"], /origins: "\*" is not an origin/],
    ["https://app.example", /origins must be a list of origins or a function of the origin, got string/],
  ])("%j", (origins, message) => {
    const options = { origins } as unknown as ServerOptions;
    expect(() => Driver.server(new CollectingIO(), options)).toThrow(TypeError);
    expect(() => Driver.server(new CollectingIO(), options)).toThrow(message);
    expect(() => Driver.fromRequest({ headers: {} }, new CollectingIO(), options)).toThrow(message);
  });
});
