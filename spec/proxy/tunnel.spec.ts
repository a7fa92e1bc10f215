import fc from "fast-check";
import { fuzzParameters } from "../fuzz/arbitraries";
import { Driver } from "../../lib/driver";
import { HandshakeError } from "../../lib/errors";
import { ProxyError } from "../../lib/proxy";
import { CollectingIO, ascii, latin1, tunnel } from "./support";

const basic = (credentials: string): string => `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`;

describe("RFC 9110 §9.3.6: the CONNECT request", () => {
  it("names the WebSocket server's host and port, and repeats them in Host", () => {
    const { request } = tunnel("ws://example.com:8080/chat?room=1");
    expect(request).toBe(
      "CONNECT example.com:8080 HTTP/1.1\r\n" +
      "Host: example.com:8080\r\n" +
      "\r\n");
  });

  it("always gives the port (RFC 9112 §3.2.3): 80 for ws:, 443 for wss:", () => {
    expect(tunnel("ws://example.com/").request).toMatch(/^CONNECT example\.com:80 HTTP\/1\.1\r\nHost: example\.com:80\r\n/);
    expect(tunnel("wss://example.com/").request).toMatch(/^CONNECT example\.com:443 HTTP\/1\.1\r\nHost: example\.com:443\r\n/);
    expect(tunnel("wss://example.com:8443/").request).toMatch(/^CONNECT example\.com:8443 HTTP\/1\.1\r\n/);
  });

  it("keeps an IPv6 literal in brackets", () => {
    expect(tunnel("ws://[::1]:9000/").request).toMatch(/^CONNECT \[::1\]:9000 HTTP\/1\.1\r\nHost: \[::1\]:9000\r\n/);
  });

  it("is written once: a second start() returns false and writes nothing", () => {
    const { proxy, io } = tunnel();
    expect(io.chunks).toHaveLength(1);
    expect(proxy.start()).toBe(false);
    expect(io.chunks).toHaveLength(1);
    expect(proxy.state).toBe("connecting");
  });

  it("goes to the driver's io by default, or to options.io", () => {
    const driverIO = new CollectingIO();
    const rawIO = new CollectingIO();
    const driver = Driver.client("wss://example.com/", driverIO);
    driver.proxy("http://proxy.example:3128", { io: rawIO }).start();
    expect(driverIO.chunks).toHaveLength(0);
    expect(rawIO.text()).toMatch(/^CONNECT example\.com:443 HTTP\/1\.1\r\n/);
  });

  it("does not tell the proxy anything about the WebSocket request (path, key, credentials)", () => {
    const { request } = tunnel("ws://alice:secret@example.com/private?token=1");
    expect(request).not.toContain("/private");
    expect(request).not.toContain("token");
    expect(request).not.toContain("Authorization");
    expect(request).not.toContain("Sec-WebSocket");
  });

  it("refuses a proxy URL that is not http: or https:", () => {
    const driver = Driver.client("ws://example.com/", new CollectingIO());
    expect(() => driver.proxy("socks5://proxy.example:1080")).toThrow(TypeError);
    expect(() => driver.proxy("ws://proxy.example")).toThrow(/http: or https:/);
    expect(() => driver.proxy("not a url")).toThrow("Invalid proxy URL: not a url");
  });
});

describe("RFC 9110 §11.7.2 and RFC 7617: Proxy-Authorization from the proxy URL", () => {
  it("sends Basic credentials from user:password in the URL", () => {
    const { request } = tunnel("ws://example.com/", "http://user:pass@proxy.example:3128");
    expect(request).toBe(
      "CONNECT example.com:80 HTTP/1.1\r\n" +
      "Host: example.com:80\r\n" +
      "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n" +
      "\r\n");
  });

  it("percent-decodes the user and password, then encodes them as UTF-8", () => {
    const { request } = tunnel("ws://example.com/", "http://us%40er:p%3Ass%20w%C3%B6rd@proxy.example");
    expect(request).toContain(`Proxy-Authorization: ${basic("us@er:p:ss wörd")}\r\n`);
  });

  it("sends a user with an empty password as user:", () => {
    expect(tunnel("ws://example.com/", "http://alice@proxy.example").request)
      .toContain(`Proxy-Authorization: ${basic("alice:")}\r\n`);
  });

  it("sends no Proxy-Authorization without credentials", () => {
    expect(tunnel("ws://example.com/", "http://proxy.example:3128").request).not.toMatch(/authorization/i);
  });

  it("refuses credentials that are not valid percent-encoding", () => {
    const driver = Driver.client("ws://example.com/", new CollectingIO());
    expect(() => driver.proxy("http://user:%E0%A4%A@proxy.example")).toThrow(/percent-encoding/);
  });
});

describe("setHeader and options.headers: extra CONNECT headers", () => {
  it("adds headers after Host and Proxy-Authorization, in order", () => {
    const io = new CollectingIO();
    const driver = Driver.client("ws://example.com/", io);
    const proxy = driver.proxy("http://u:p@proxy.example", { headers: { "X-Trace": "42" } });
    expect(proxy.setHeader("User-Agent", "wsdriver")).toBe(true);
    proxy.start();
    expect(io.text()).toBe(
      "CONNECT example.com:80 HTTP/1.1\r\n" +
      "Host: example.com:80\r\n" +
      "Proxy-Authorization: Basic dTpw\r\n" +
      "x-trace: 42\r\n" +
      "User-Agent: wsdriver\r\n" +
      "\r\n");
  });

  it("lets a custom Host or Proxy-Authorization replace the helper's, so each is sent once (RFC 9112 §3.2)", () => {
    const io = new CollectingIO();
    const driver = Driver.client("ws://example.com/", io);
    const proxy = driver.proxy("http://u:p@proxy.example", { headers: { "proxy-authorization": "Bearer t0ken" } });
    expect(proxy.setHeader("HOST", "example.com")).toBe(true);
    proxy.start();
    expect(io.text()).toBe(
      "CONNECT example.com:80 HTTP/1.1\r\n" +
      "Host: example.com\r\n" +
      "Proxy-Authorization: Bearer t0ken\r\n" +
      "\r\n");
  });

  it("refuses a header after start(), and a name or value that would break the head", () => {
    const io = new CollectingIO();
    const proxy = Driver.client("ws://example.com/", io).proxy("http://proxy.example");
    expect(proxy.setHeader("X-Evil", "a\r\nProxy-Authorization: Basic Zm9vOmJhcg==")).toBe(false);
    expect(proxy.setHeader("Bad Name", "x")).toBe(false);
    expect(proxy.setHeader("X-Nul", "a\0b")).toBe(false);
    proxy.start();
    expect(proxy.setHeader("X-Late", "1")).toBe(false);
    expect(io.text()).toBe("CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n\r\n");
  });
});

describe("RFC 9110 §9.3.6: a 2xx answer opens the tunnel", () => {
  it("emits connect with no rest bytes, and exposes the status and headers", () => {
    const { proxy, events } = tunnel();
    proxy.parse(latin1("HTTP/1.1 200 Connection established\r\nVia: 1.1 proxy\r\n\r\n"));
    expect(events).toHaveLength(1);
    const [type, event] = events[0];
    expect(type).toBe("connect");
    expect(event).toEqual({ rest: new Uint8Array(0) });
    expect(proxy.state).toBe("connected");
    expect(proxy.statusCode).toBe(200);
    expect(proxy.headers).toEqual({ via: "1.1 proxy" });
  });

  it("accepts any 2xx and an HTTP/1.0 status line", () => {
    for (const line of ["HTTP/1.1 204 No Content", "HTTP/1.0 200 Connection established", "HTTP/1.1 299 X"]) {
      const { proxy, events } = tunnel();
      proxy.parse(latin1(`${line}\r\n\r\n`));
      expect(events.map(([type]) => type)).toEqual(["connect"]);
    }
  });

  it("ignores a Content-Length or Transfer-Encoding in a 2xx: everything after the head is tunnelled", () => {
    const { proxy, events } = tunnel();
    proxy.parse(latin1("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n\x81\x02hi"));
    expect(events).toEqual([["connect", { rest: latin1("\x81\x02hi") }]]);
  });

  it("hands the bytes after the head in the same chunk to connect, byte for byte", () => {
    const { driver, proxy, io } = tunnel();
    let rest: Uint8Array | null = null;
    proxy.on("connect", (event) => {
      rest = event.rest;
      driver.start();
    });
    // A server that answers immediately: its 101 and a first frame follow the proxy's 200.
    const tail = latin1("HTTP/1.1 101 Switching Protocols\r\n");
    const chunk = new Uint8Array([...latin1("HTTP/1.1 200 Connection established\r\n\r\n"), ...tail]);
    proxy.parse(chunk);
    expect(rest).toEqual(tail);
    expect(io.text()).toMatch(/\r\n\r\nGET \/chat HTTP\/1\.1\r\n/);
  });

  it("ignores what parse() is given once the tunnel is up (those bytes belong to the driver)", () => {
    const { proxy, events } = tunnel();
    proxy.parse(latin1("HTTP/1.1 200 OK\r\n\r\n"));
    proxy.parse(latin1("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"));
    proxy.end();
    expect(events.map(([type]) => type)).toEqual(["connect"]);
    expect(proxy.statusCode).toBe(200);
  });

  it("skips interim 1xx answers and reads the final one (RFC 9110 §15.2)", () => {
    const { proxy, events } = tunnel();
    proxy.parse(latin1("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX-A: 1\r\n\r\nHTTP/1.1 200 OK\r\nX-B: 2\r\n\r\n"));
    expect(events.map(([type]) => type)).toEqual(["connect"]);
    expect(proxy.statusCode).toBe(200);
    expect(proxy.headers).toEqual({ "x-b": "2" });
  });
});

describe("split responses: the answer may arrive in any number of chunks", () => {
  const response = latin1("HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n");

  it("reads the answer byte by byte, and connects exactly once at the last byte", () => {
    const { proxy, events } = tunnel();
    for (let i = 0; i < response.length; i++) {
      expect(events).toHaveLength(0);
      proxy.parse(response.subarray(i, i + 1));
    }
    expect(events).toEqual([["connect", { rest: new Uint8Array(0) }]]);
    expect(proxy.headers).toEqual({ "proxy-agent": "test" });
  });

  it("reads every two-way split, including one inside the final CRLFCRLF", () => {
    const tail = latin1("\x81\x00");
    const whole = new Uint8Array([...response, ...tail]);
    for (let at = 1; at < whole.length; at++) {
      const { proxy, events } = tunnel();
      proxy.parse(whole.slice(0, at));
      proxy.parse(whole.slice(at));
      expect(events.map(([type]) => type)).toEqual(["connect"]);
      // The bytes after the head in the chunk that completed it travel with connect; later chunks
      // are the driver's.
      const rest = at < response.length ? tail : whole.slice(response.length, at);
      expect((events[0][1] as { rest: Uint8Array }).rest).toEqual(rest);
    }
  });

  it("reads an interim 1xx and the final answer byte by byte, keeping the bytes after it", () => {
    const { proxy, events } = tunnel();
    const whole = latin1("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\x81\x00");
    const final = whole.length - 2;
    for (let i = 0; i < final; i++) proxy.parse(whole.subarray(i, i + 1));
    expect(events.map(([type]) => type)).toEqual(["connect"]);
    expect(proxy.statusCode).toBe(200);

    const together = tunnel();
    together.proxy.parse(whole.subarray(0, 10));
    together.proxy.parse(whole.subarray(10));
    expect(together.events).toEqual([["connect", { rest: latin1("\x81\x00") }]]);
  });

  it("reads a refusal split across chunks", () => {
    const { proxy, events } = tunnel();
    const refusal = latin1("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"proxy\"\r\n\r\n");
    proxy.parse(refusal.subarray(0, 20));
    proxy.parse(refusal.subarray(20, 60));
    expect(events).toHaveLength(0);
    proxy.parse(refusal.subarray(60));
    expect(events.map(([type]) => type)).toEqual(["error"]);
    expect(proxy.statusCode).toBe(407);
  });
});

describe("bad answers are errors, never a hang or a throw", () => {
  it("a non-2xx answer: error with the status, and the status and headers readable", () => {
    const { proxy, events } = tunnel();
    proxy.parse(latin1(
      "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"proxy\"\r\n" +
      "Content-Length: 29\r\n\r\nProxy authorization required\n"));
    expect(events).toHaveLength(1);
    const [type, error] = events[0];
    expect(type).toBe("error");
    expect(error).toBeInstanceOf(ProxyError);
    expect(error).toBeInstanceOf(HandshakeError);
    const refusal = error as ProxyError;
    expect(refusal.status).toBe(407);
    expect(refusal.headers["proxy-authenticate"]).toBe('Basic realm="proxy"');
    expect(refusal.message).toBe("The proxy refused to open a tunnel to example.com:80: 407 Proxy Authentication Required");
    expect(proxy.state).toBe("failed");
    expect(proxy.statusCode).toBe(407);
    expect(proxy.headers["proxy-authenticate"]).toBe('Basic realm="proxy"');
  });

  it.each([
    ["403 Forbidden", 403], ["404 Not Found", 404], ["500 Internal Server Error", 500],
    ["502 Bad Gateway", 502], ["101 Switching Protocols", 101], ["301 Moved Permanently", 301],
  ])("%s is a refusal", (line, status) => {
    const { proxy, events } = tunnel();
    proxy.parse(latin1(`HTTP/1.1 ${line}\r\n\r\n`));
    expect(events.map(([type]) => type)).toEqual(["error"]);
    expect((events[0][1] as ProxyError).status).toBe(status);
    expect(proxy.statusCode).toBe(status);
  });

  it.each([
    ["not HTTP at all", "garbage\r\n\r\n"],
    ["a status that is not a number", "HTTP/1.1 abc OK\r\n\r\n"],
    ["an unknown HTTP version", "HTTP/2 200\r\n\r\n"],
    ["a request instead of a response", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a WebSocket frame", "\x81\x05hello\r\n\r\n"],
  ])("a malformed response (%s) is an error with status 0", (_name, text) => {
    const { proxy, events } = tunnel();
    expect(() => proxy.parse(latin1(text))).not.toThrow();
    expect(events.map(([type]) => type)).toEqual(["error"]);
    const error = events[0][1] as ProxyError;
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/^Invalid response from the proxy: Malformed HTTP response/);
    expect(proxy.statusCode).toBeUndefined();
    expect(proxy.state).toBe("failed");
  });

  it("a head larger than maxHeaderSize is an error, even before it ends", () => {
    const { proxy, events } = tunnel("ws://example.com/", "http://proxy.example", { maxHeaderSize: 64 });
    proxy.parse(latin1("HTTP/1.1 200 OK\r\nX-Filler: "));
    expect(events).toHaveLength(0);
    proxy.parse(latin1("a".repeat(64)));
    expect(events.map(([type]) => type)).toEqual(["error"]);
    expect((events[0][1] as ProxyError).message).toMatch(/larger than maxHeaderSize \(64 bytes\)/);
    expect((events[0][1] as ProxyError).status).toBe(0);
  });

  it("a complete head larger than maxHeaderSize is an error; one that fits is not", () => {
    const head = (filler: number) => latin1(`HTTP/1.1 200 OK\r\nX-Filler: ${"a".repeat(filler)}\r\n\r\n`);
    const fits = head(64 - 31);
    expect(fits.length).toBe(64);
    const ok = tunnel("ws://example.com/", "http://proxy.example", { maxHeaderSize: 64 });
    ok.proxy.parse(fits);
    expect(ok.events.map(([type]) => type)).toEqual(["connect"]);
    const big = tunnel("ws://example.com/", "http://proxy.example", { maxHeaderSize: 64 });
    big.proxy.parse(head(64 - 30));
    expect(big.events.map(([type]) => type)).toEqual(["error"]);
  });

  it("uses 16 KiB by default", () => {
    const { proxy, events } = tunnel();
    proxy.parse(latin1("HTTP/1.1 200 OK\r\nX-Filler: " + "a".repeat(16 * 1024)));
    expect(events.map(([type]) => type)).toEqual(["error"]);
    expect((events[0][1] as ProxyError).message).toMatch(/16384 bytes/);
  });

  it("the transport closing before the answer is an error (end), and a closed one after is not", () => {
    const early = tunnel();
    early.proxy.parse(latin1("HTTP/1.1 200 OK\r\n"));
    early.proxy.end();
    expect(early.events.map(([type]) => type)).toEqual(["error"]);
    expect((early.events[0][1] as ProxyError).message).toBe("The proxy closed the connection before answering the CONNECT request");
    early.proxy.end();
    expect(early.events).toHaveLength(1);
  });

  it("end(cause) carries the transport's error", () => {
    const { proxy, events } = tunnel();
    const cause = new Error("connect ECONNREFUSED 127.0.0.1:9");
    proxy.end(cause);
    const error = events[0][1] as ProxyError;
    expect(error.message).toBe("The proxy closed the connection before answering the CONNECT request: connect ECONNREFUSED 127.0.0.1:9");
    expect(error.cause).toBe(cause);
  });

  it("end() before start() says the request was never sent", () => {
    const proxy = Driver.client("ws://example.com/", new CollectingIO()).proxy("http://proxy.example");
    const errors: Error[] = [];
    proxy.on("error", (error) => errors.push(error));
    proxy.end();
    expect(errors.map((e) => e.message)).toEqual(["The connection to the proxy closed before the CONNECT request was sent"]);
    expect(proxy.start()).toBe(false);
  });

  it("reads nothing after an error, and nothing before start()", () => {
    const idle = Driver.client("ws://example.com/", new CollectingIO()).proxy("http://proxy.example");
    const seen: string[] = [];
    idle.on("connect", () => seen.push("connect"));
    idle.parse(latin1("HTTP/1.1 200 OK\r\n\r\n"));
    expect(seen).toEqual([]);
    expect(idle.state).toBe("idle");

    const { proxy, events } = tunnel();
    proxy.parse(latin1("HTTP/1.1 403 Forbidden\r\n\r\n"));
    proxy.parse(latin1("HTTP/1.1 200 OK\r\n\r\n"));
    expect(events.map(([type]) => type)).toEqual(["error"]);
    expect(proxy.statusCode).toBe(403);
  });

  it("off() removes a handler", () => {
    const { proxy } = tunnel();
    const seen: string[] = [];
    const handler = () => seen.push("connect");
    proxy.on("connect", handler);
    proxy.off("connect", handler);
    proxy.parse(latin1("HTTP/1.1 200 OK\r\n\r\n"));
    expect(seen).toEqual([]);
  });

  it("never throws on any bytes, and ends in exactly one event", () => {
    const prefix = fc.constantFrom("", "HTTP/1.1 ", "HTTP/1.1 200 OK\r\n", "HTTP/1.0 407 X\r\n");
    fc.assert(fc.property(prefix, fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (start, chunks) => {
      const { proxy, events } = tunnel("ws://example.com/", "http://proxy.example", { maxHeaderSize: 256 });
      proxy.parse(latin1(start));
      for (const chunk of chunks) proxy.parse(chunk);
      proxy.parse(latin1("\r\n\r\n"));
      proxy.end();
      expect(events).toHaveLength(1);
      expect(proxy.state === "connected" || proxy.state === "failed").toBe(true);
    }), fuzzParameters(300));
  });
});

describe("the helper leaves the driver alone until the tunnel is up", () => {
  it("writes nothing for the driver, and the driver starts on connect", () => {
    const { driver, proxy, io } = tunnel("ws://example.com/chat");
    expect(driver.readyState).toBe(0);
    expect(io.chunks).toHaveLength(1);
    proxy.on("connect", () => driver.start());
    proxy.parse(latin1("HTTP/1.1 200 OK\r\n\r\n"));
    expect(io.chunks).toHaveLength(2);
    expect(ascii(io.chunks[1])).toMatch(/^GET \/chat HTTP\/1\.1\r\nHost: example\.com\r\n/);
  });
});
