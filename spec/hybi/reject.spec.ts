/**
 * `driver.reject(status, options)`: the application refuses the opening handshake with a status of
 * its own (RFC 9110 §15.5, §15.6), in place of `start()`, on every server driver: RFC 6455 through
 * `Driver.server` and `Driver.fromRequest`, the drafts, and HTTP/2 (RFC 8441).
 */
import { Driver } from "../../lib/driver";
import type { Http2ServerIO } from "../../lib/hybi/http2";
import type { ServerDriver } from "../../lib/types";
import { CollectingIO, SAMPLE_KEY, record, upgradeRequest, utf8 } from "../support/wire";

const HIXIE_76_REQUEST =
  "GET /demo HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n" +
  "Sec-WebSocket-Protocol: sample\r\nUpgrade: WebSocket\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nOrigin: http://example.com\r\n\r\n^n:ds[4U";

/** A server driver that has read `request`, with the handler given the chance to reject it. */
function serve(request: string, onConnect: (driver: ServerDriver) => void, options = {}) {
  const io = new CollectingIO();
  const driver = Driver.server(io, options);
  const events = record(driver);
  driver.on("connect", () => onConnect(driver));
  driver.parse(utf8(request));
  return { io, driver, events };
}

describe("reject: the status, the headers and the body the application chose", () => {
  it("answers 401 with WWW-Authenticate, a body, Content-Length and Connection: close", () => {
    const { io, driver, events } = serve(upgradeRequest(), (d) => {
      expect(d.reject(401, { headers: { "WWW-Authenticate": 'Bearer realm="chat"' }, body: "token expired" })).toBe(true);
    });
    expect(io.text()).toBe(
      "HTTP/1.1 401 Unauthorized\r\n" +
      'WWW-Authenticate: Bearer realm="chat"\r\n' +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      "Content-Length: 13\r\n" +
      "Connection: close\r\n" +
      "\r\n" +
      "token expired");
    expect(events).toEqual([["connect", {}], ["close", { code: 1008, reason: "Refused with 401 Unauthorized" }]]);
    expect(driver.readyState).toBe(3);
  });

  it("sends the reason phrase as the body by default, and the headers added with setHeader", () => {
    const { io } = serve(upgradeRequest(), (d) => {
      d.setHeader("Retry-After", "30");
      d.reject(429);
    });
    expect(io.text()).toBe(
      "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Type: text/plain; charset=utf-8\r\n" +
      "Content-Length: 17\r\nConnection: close\r\n\r\nToo Many Requests");
  });

  it("keeps the application's Content-Type, and sends bytes as they are", () => {
    const { io } = serve(upgradeRequest(), (d) => d.reject(403, { headers: { "Content-Type": "application/json" }, body: utf8('{"e":1}') }));
    expect(io.text()).toBe("HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{\"e\":1}");
  });

  it("names an unlisted status by its class", () => {
    const { io } = serve(upgradeRequest(), (d) => d.reject(499, { body: "" }));
    expect(io.text()).toBe("HTTP/1.1 499 Client Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
});

describe("reject: once, in place of start(), and nothing after it", () => {
  it("returns false once the handshake was answered, and start() returns false after it", () => {
    const opened = serve(upgradeRequest(), (d) => d.start());
    expect(opened.driver.reject(401)).toBe(false);
    const refused = serve(upgradeRequest(), (d) => d.reject(401));
    expect(refused.driver.start()).toBe(false);
    expect(refused.driver.reject(403)).toBe(false);
    expect(refused.driver.text("hello")).toBe(false);
  });

  it("returns false before the request is read", () => {
    const driver = Driver.server(new CollectingIO());
    expect(driver.reject(401)).toBe(false);
  });

  it("drops sends queued before it", () => {
    const { io } = serve(upgradeRequest(), (d) => {
      d.text("queued");
      d.reject(503);
    });
    expect(io.text()).not.toContain("queued");
    expect(io.text()).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
  });

  it("answers a request read by the embedder's HTTP stack (Driver.fromRequest)", () => {
    const io = new CollectingIO();
    const driver = Driver.fromRequest({
      method: "GET", url: "/chat",
      headers: { host: "example.com", upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": SAMPLE_KEY, "sec-websocket-version": "13" },
    }, io);
    const events = record(driver);
    expect(driver.reject(401)).toBe(true);
    expect(io.text()).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(events).toEqual([["close", { code: 1008, reason: "Refused with 401 Unauthorized" }]]);
  });

  it("answers a draft-76 request the same way", () => {
    const { io, driver, events } = serve(HIXIE_76_REQUEST, (d) => d.reject(401), { allowDrafts: true });
    expect(driver.version).toBe("hixie-76");
    expect(io.text()).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(events).toEqual([["connect", {}], ["close", { code: 1008, reason: "Refused with 401 Unauthorized" }]]);
  });
});

describe("reject: the application's mistakes are thrown before anything is written", () => {
  it.each([200, 101, 302, 399, 600, 401.5, Number.NaN])("a status of %s is a RangeError", (status) => {
    const { io, driver, events } = serve(upgradeRequest(), () => {});
    expect(() => driver.reject(status)).toThrow(RangeError);
    expect(io.text()).toBe("");
    expect(events).toEqual([["connect", {}]]);
    // The handshake is still the application's to answer.
    expect(driver.start()).toBe(true);
  });

  it.each([
    ["a value with CR LF", { "X-Reason": "a\r\nSet-Cookie: x=1" }],
    ["a name that is not a token", { "Bad Name": "x" }],
    ["Content-Length, which the driver sets", { "Content-Length": "5" }],
    ["Connection, which the driver sets", { Connection: "keep-alive" }],
  ])("%s is a TypeError", (_name, headers) => {
    const { io, driver } = serve(upgradeRequest(), () => {});
    expect(() => driver.reject(400, { headers })).toThrow(TypeError);
    expect(io.text()).toBe("");
  });
});

describe("reject over HTTP/2 (RFC 8441): the status and headers as the stream's response, the body as DATA", () => {
  it("responds 401 with the headers in lower case, then the body", () => {
    const responses: Array<Array<[string, string]>> = [];
    const data: string[] = [];
    const io: Http2ServerIO = {
      respond: (headers) => { responses.push(headers.map(([name, value]) => [name, value])); },
      write: (chunk) => { data.push(new TextDecoder().decode(chunk)); return true; },
    };
    const driver = Driver.http2Server([
      [":method", "CONNECT"], [":protocol", "websocket"], [":scheme", "https"], [":authority", "example.com"], [":path", "/chat"],
      ["sec-websocket-version", "13"],
    ], io);
    const events = record(driver);
    expect(driver.reject(401, { headers: { "WWW-Authenticate": "Bearer" }, body: "no" })).toBe(true);
    expect(responses).toEqual([[[":status", "401"], ["www-authenticate", "Bearer"], ["content-type", "text/plain; charset=utf-8"]]]);
    expect(data).toEqual(["no"]);
    expect(events).toEqual([["close", { code: 1008, reason: "Refused with 401 Unauthorized" }]]);
  });
});
