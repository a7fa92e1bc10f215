import { Driver } from "../../lib/driver";
import { HandshakeError } from "../../lib/errors";
import { challengeResponse, keyNumber } from "../../lib/hixie/handshake";
import { CollectingIO, ascii, record, upgradeRequest, utf8 } from "../support/wire";
import {
  DRAFT75_REQUEST, DRAFT75_RESPONSE, DRAFT76_BODY, DRAFT76_HEAD, DRAFT76_RESPONSE, latin1, textFrame,
} from "./support";

function serve(request: Uint8Array | string, options = {}) {
  const io = new CollectingIO();
  const driver = Driver.server(io, { allowDrafts: true, ...options });
  const events = record(driver);
  driver.on("connect", () => driver.start());
  driver.parse(typeof request === "string" ? latin1(request) : request);
  return { io, driver, events, types: () => events.map(([type]) => type) };
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1]);
}

/** The draft-76 example request with header overrides (null removes one). */
function draft76(overrides: Record<string, string | null> = {}, body = DRAFT76_BODY): string {
  let head = DRAFT76_HEAD;
  for (const [name, value] of Object.entries(overrides)) {
    const line = new RegExp(`^${name}: .*\\r\\n`, "m");
    head = line.test(head)
      ? head.replace(line, value === null ? "" : `${name}: ${value}\r\n`)
      : head.replace(/\r\n\r\n$/, `\r\n${name}: ${value}\r\n\r\n`);
  }
  return head + body;
}

function draft75(overrides: Record<string, string | null> = {}): string {
  let head = DRAFT75_REQUEST;
  for (const [name, value] of Object.entries(overrides)) {
    const line = new RegExp(`^${name}: .*\\r\\n`, "m");
    head = line.test(head)
      ? head.replace(line, value === null ? "" : `${name}: ${value}\r\n`)
      : head.replace(/\r\n\r\n$/, `\r\n${name}: ${value}\r\n\r\n`);
  }
  return head;
}

describe("draft-hixie-76 §1.3: the opening handshake example", () => {
  it("answers the draft's request byte for byte, digest 8jKS'y:G*Co,Wxa- included", () => {
    const { io, driver, types } = serve(DRAFT76_HEAD + DRAFT76_BODY, { protocols: ["sample"] });
    expect(io.text()).toBe(DRAFT76_RESPONSE);
    expect(driver.version).toBe("hixie-76");
    expect(driver.protocol).toBe("sample");
    expect(driver.readyState).toBe(1);
    expect(types()).toEqual(["connect", "open"]);
  });

  it("computes the key numbers of the example: 155712099 / 5 and 173347027 / 4 (§5.2)", () => {
    expect(keyNumber("Sec-WebSocket-Key1", "4 @1  46546xW%0l 1 5")).toBe(829309203);
    expect(keyNumber("Sec-WebSocket-Key2", "12998 5 Y3 1  .P00")).toBe(259970620);
    expect(ascii(challengeResponse(829309203, 259970620, latin1(DRAFT76_BODY)))).toBe("8jKS'y:G*Co,Wxa-");
  });

  it("sends the response head on start() but holds the digest and open until the body arrives", () => {
    const { io, driver, types } = serve(DRAFT76_HEAD, { protocols: ["sample"] });
    const head = DRAFT76_RESPONSE.slice(0, DRAFT76_RESPONSE.length - 16);
    expect(io.text()).toBe(head);
    expect(driver.readyState).toBe(0);
    expect(types()).toEqual(["connect"]);
    driver.parse(latin1(DRAFT76_BODY.slice(0, 5)));
    expect(io.text()).toBe(head);
    expect(driver.readyState).toBe(0);
    driver.parse(latin1(DRAFT76_BODY.slice(5)));
    expect(io.text()).toBe(DRAFT76_RESPONSE);
    expect(types()).toEqual(["connect", "open"]);
  });

  it("takes the body from request.body when the HTTP stack read it (fromRequest)", () => {
    const io = new CollectingIO();
    const driver = Driver.fromRequest({
      method: "GET",
      url: "/demo",
      headers: {
        Host: "example.com", Connection: "Upgrade", Upgrade: "WebSocket", Origin: "http://example.com",
        "Sec-WebSocket-Key1": "4 @1  46546xW%0l 1 5", "Sec-WebSocket-Key2": "12998 5 Y3 1  .P00",
        "Sec-WebSocket-Protocol": "sample",
      },
      body: latin1(DRAFT76_BODY),
    }, io, { allowDrafts: true, protocols: ["sample"] });
    const events = record(driver);
    expect(driver.version).toBe("hixie-76");
    expect(driver.start()).toBe(true);
    expect(io.text()).toBe(DRAFT76_RESPONSE);
    expect(events.map(([type]) => type)).toEqual(["open"]);
  });

  it("takes a body split between request.body and parse, and frames that follow it", () => {
    const io = new CollectingIO();
    const driver = Driver.fromRequest({
      url: "/demo",
      headers: {
        host: "example.com", connection: "Upgrade", upgrade: "WebSocket",
        "sec-websocket-key1": "4 @1  46546xW%0l 1 5", "sec-websocket-key2": "12998 5 Y3 1  .P00",
      },
      body: latin1(DRAFT76_BODY.slice(0, 3)),
    }, io, { allowDrafts: true });
    const events = record(driver);
    driver.start();
    expect(driver.readyState).toBe(0);
    const rest = latin1(DRAFT76_BODY.slice(3));
    driver.parse(new Uint8Array([...rest, ...textFrame("early")]));
    expect(io.text().endsWith("8jKS'y:G*Co,Wxa-")).toBe(true);
    expect(events).toEqual([["open", {}], ["message", { data: "early" }]]);
  });

  it("reads frames that came in request.body after the 8 bytes once open; start() answers once", () => {
    const io = new CollectingIO();
    const driver = Driver.fromRequest({
      url: "/demo",
      headers: {
        host: "example.com", connection: "Upgrade", upgrade: "WebSocket",
        "sec-websocket-key1": "4 @1  46546xW%0l 1 5", "sec-websocket-key2": "12998 5 Y3 1  .P00",
      },
      body: new Uint8Array([...latin1(DRAFT76_BODY), ...textFrame("with the head")]),
    }, io, { allowDrafts: true });
    const events = record(driver);
    expect(driver.start()).toBe(true);
    expect(driver.start()).toBe(false);
    expect(events).toEqual([["open", {}], ["message", { data: "with the head" }]]);
    expect(io.text().match(/8jKS'y:G\*Co,Wxa-/g)).toHaveLength(1);
  });

  it("reads the request, body and a frame in any split, with the same events", () => {
    const whole = latin1(DRAFT76_HEAD + DRAFT76_BODY);
    const stream = new Uint8Array([...whole, ...textFrame("hello")]);
    for (const size of [1, 2, 3, 5, 8, 13, 64]) {
      const { io, driver, events } = serve(new Uint8Array(0), { protocols: ["sample"] });
      for (let i = 0; i < stream.length; i += size) driver.parse(stream.subarray(i, i + size));
      expect(events).toEqual([["connect", {}], ["open", {}], ["message", { data: "hello" }]]);
      expect(io.text()).toBe(DRAFT76_RESPONSE);
    }
  });

  it("gives the same events for every single cut of the request, body and a frame", () => {
    const stream = new Uint8Array([...latin1(DRAFT76_HEAD + DRAFT76_BODY), ...textFrame("hi")]);
    for (let cut = 1; cut < stream.length; cut++) {
      const { io, driver, events } = serve(new Uint8Array(0), { protocols: ["sample"] });
      driver.parse(stream.subarray(0, cut));
      driver.parse(stream.subarray(cut));
      expect(events).toEqual([["connect", {}], ["open", {}], ["message", { data: "hi" }]]);
      expect(io.text()).toBe(DRAFT76_RESPONSE);
    }
  });

  it("answers the digest only after start(), even when the body came first", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io, { allowDrafts: true });
    const events = record(driver);
    driver.parse(latin1(DRAFT76_HEAD + DRAFT76_BODY));
    expect(io.chunks).toHaveLength(0);
    expect(driver.readyState).toBe(0);
    driver.start();
    expect(io.text().endsWith("8jKS'y:G*Co,Wxa-")).toBe(true);
    expect(events.map(([type]) => type)).toEqual(["connect", "open"]);
  });
});

describe("draft-hixie-76 §5.2: the keys", () => {
  const refused: Array<[string, Record<string, string | null>, RegExp]> = [
    ["no Sec-WebSocket-Key1", { "Sec-WebSocket-Key1": null }, /Missing Sec-WebSocket-Key1/],
    ["no Sec-WebSocket-Key2", { "Sec-WebSocket-Key2": null }, /Missing Sec-WebSocket-Key2/],
    ["a key with no spaces", { "Sec-WebSocket-Key1": "155712099" }, /Key1 has no spaces/],
    ["a key with no digits", { "Sec-WebSocket-Key2": "a b c" }, /Key2 has no digits/],
    ["a number that is not a multiple of the spaces", { "Sec-WebSocket-Key1": "1 0 0 1" }, /not a multiple of its 3 spaces/],
    ["a number beyond 32 bits", { "Sec-WebSocket-Key1": "9999999999 9" }, /out of range/],
  ];
  for (const [name, overrides, message] of refused) {
    it(`refuses ${name} with 400, error and close`, () => {
      const { io, driver, events, types } = serve(draft76(overrides));
      expect(statusOf(io.text())).toBe(400);
      const error = events.find(([type]) => type === "error")?.[1] as HandshakeError;
      expect(error).toBeInstanceOf(HandshakeError);
      expect(error.message).toMatch(message);
      expect(io.text().endsWith(error.message)).toBe(true);
      expect(types()).toEqual(["connect", "error", "close"]);
      expect(driver.readyState).toBe(3);
    });
  }

  it("reads digits and spaces anywhere in the key, leading zeros included", () => {
    expect(keyNumber("k", "0 0 1 2")).toBe(4);
    expect(keyNumber("k", "x4x2 ")).toBe(42);
    expect(keyNumber("k", "4294967295 ")).toBe(4294967295);
  });
});

describe("draft-hixie-75 §1.2: the opening handshake example", () => {
  it("answers the draft's request byte for byte and opens at once", () => {
    const { io, driver, types } = serve(DRAFT75_REQUEST, { protocols: ["sample"] });
    expect(io.text()).toBe(DRAFT75_RESPONSE);
    expect(driver.version).toBe("hixie-75");
    expect(driver.protocol).toBe("sample");
    expect(driver.readyState).toBe(1);
    expect(types()).toEqual(["connect", "open"]);
  });

  it("gives the same events for every single cut of the request and two frames", () => {
    const stream = new Uint8Array([...latin1(DRAFT75_REQUEST), ...textFrame("a"), ...textFrame("ü")]);
    for (let cut = 1; cut < stream.length; cut++) {
      const { io, driver, events } = serve(new Uint8Array(0), { protocols: ["sample"] });
      driver.parse(stream.subarray(0, cut));
      driver.parse(stream.subarray(cut));
      expect(events).toEqual([["connect", {}], ["open", {}], ["message", { data: "a" }], ["message", { data: "ü" }]]);
      expect(io.text()).toBe(DRAFT75_RESPONSE);
    }
  });
});

describe("the location both drafts send back", () => {
  it("is wss: with the secure option, from Host and the request URL with its query", () => {
    const { io } = serve(draft75({ Host: "chat.example.com:8443" }).replace("/demo", "/room?id=7"), { secure: true });
    expect(io.text()).toContain("WebSocket-Location: wss://chat.example.com:8443/room?id=7\r\n");
    const { io: io76 } = serve(draft76().replace("/demo", "/x"), { secure: true });
    expect(io76.text()).toContain("Sec-WebSocket-Location: wss://example.com/x\r\n");
  });

  it("omits the origin field when the request has no Origin", () => {
    const { io, driver } = serve(draft75({ Origin: null }));
    expect(driver.readyState).toBe(1);
    expect(io.text()).not.toContain("Origin");
  });

  it("refuses a request without Host: no location can be built", () => {
    const { io, types } = serve(draft75({ Host: null }));
    expect(statusOf(io.text())).toBe(400);
    expect(io.text()).toMatch(/Missing Host header$/);
    expect(types()).toEqual(["connect", "error", "close"]);
  });

  it("refuses header values a request from fromRequest could smuggle CR LF in", () => {
    const io = new CollectingIO();
    const driver = Driver.fromRequest({
      url: "/demo", headers: { host: "example.com", upgrade: "WebSocket", connection: "Upgrade", origin: "x\r\nSet-Cookie: a=b" },
    }, io, { allowDrafts: true });
    const events = record(driver);
    driver.start();
    expect(statusOf(io.text())).toBe(400);
    expect(io.text()).not.toContain("Set-Cookie: a=b\r\n");
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
  });
});

describe("subprotocols and custom headers", () => {
  it("echoes the offered protocol only when the server accepts it", () => {
    expect(serve(DRAFT75_REQUEST, { protocols: ["other"] }).io.text()).not.toContain("WebSocket-Protocol");
    expect(serve(DRAFT75_REQUEST).driver.protocol).toBe("");
    const { io, driver } = serve(draft76(), { protocols: ["chat", "sample"] });
    expect(driver.protocol).toBe("sample");
    expect(io.text()).toContain("Sec-WebSocket-Protocol: sample\r\n");
  });

  it("reads the draft's own protocol field: WebSocket-Protocol in draft-75", () => {
    const { driver } = serve(draft75({ "WebSocket-Protocol": null, "Sec-WebSocket-Protocol": "sample" }), { protocols: ["sample"] });
    expect(driver.protocol).toBe("");
  });

  it("adds setHeader headers after the draft's fields, before start() only", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io, { allowDrafts: true });
    driver.on("connect", () => {
      expect(driver.setHeader("X-Served-By", "wsdriver")).toBe(true);
      expect(driver.setHeader("Bad\r\nName", "x")).toBe(false);
      driver.start();
      expect(driver.setHeader("X-Late", "1")).toBe(false);
    });
    driver.parse(latin1(DRAFT76_HEAD + DRAFT76_BODY));
    expect(io.text()).toContain("Sec-WebSocket-Location: ws://example.com/demo\r\nX-Served-By: wsdriver\r\n\r\n8jKS");
    expect(io.text()).not.toContain("X-Late");
  });
});

describe("the bytes of the response head", () => {
  it("echoes an Origin with Latin-1 bytes unchanged", () => {
    const { io } = serve(latin1(draft75({ Origin: "http://caf\u00e9.example" })));
    expect(Array.from(io.all())).toEqual(expect.arrayContaining([0x63, 0x61, 0x66, 0xe9, 0x2e]));
    expect(io.text()).toContain("WebSocket-Origin: http://caf\u00e9.example\r\n");
  });

  it("sends a setHeader value beyond Latin-1 as UTF-8, as hybi does", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io, { allowDrafts: true });
    driver.on("connect", () => { driver.setHeader("X-Price", "5 \u20ac"); driver.start(); });
    driver.parse(latin1(DRAFT75_REQUEST));
    expect(io.text()).toContain("X-Price: 5 \u00e2\u0082\u00ac\r\n");
  });
});

describe("choosing the version from the request", () => {
  it("takes Sec-WebSocket-Version or Sec-WebSocket-Key for hybi, Key1/Key2 for hixie-76, neither for hixie-75", () => {
    expect(serve(upgradeRequest()).driver.version).toBe("hybi-13");
    expect(serve(upgradeRequest({ "Sec-WebSocket-Version": null })).driver.version).toBe("hybi-13");
    expect(serve(upgradeRequest({ "Sec-WebSocket-Key": null })).driver.version).toBe("hybi-13");
    expect(serve(draft76({ "Sec-WebSocket-Key1": null })).driver.version).toBe("hixie-76");
    expect(serve(draft76()).driver.version).toBe("hixie-76");
    expect(serve(DRAFT75_REQUEST).driver.version).toBe("hixie-75");
  });

  it("reads an empty version until the request is known", () => {
    const driver = Driver.server(new CollectingIO(), { allowDrafts: true });
    expect(driver.version).toBe("");
  });

  it("refuses a GET that asks for no upgrade with 400 (hixie-75 checks)", () => {
    const { io, types } = serve("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
    expect(statusOf(io.text())).toBe(400);
    expect(io.text()).toMatch(/Upgrade header must be 'WebSocket'$/);
    expect(types()).toEqual(["connect", "error", "close"]);
  });

  it("refuses HTTP/1.0 and methods other than GET", () => {
    expect(serve(draft75().replace("HTTP/1.1", "HTTP/1.0")).io.text()).toMatch(/^HTTP\/1\.1 400 [^]*HTTP\/1\.1 or later/);
    expect(serve(draft75().replace("GET", "POST")).io.text()).toMatch(/^HTTP\/1\.1 400 [^]*GET/);
  });
});

describe("without allowDrafts (the default)", () => {
  const cases: Array<[string, string]> = [
    ["hixie-76", DRAFT76_HEAD + DRAFT76_BODY],
    ["hixie-75", DRAFT75_REQUEST],
  ];
  for (const [version, request] of cases) {
    it(`answers a ${version} request with 400 and an error that says drafts are disabled`, () => {
      const io = new CollectingIO();
      const driver = Driver.server(io);
      const events = record(driver);
      driver.on("connect", () => driver.start());
      driver.parse(latin1(request));
      expect(driver.version).toBe(version);
      expect(statusOf(io.text())).toBe(400);
      const error = events.find(([type]) => type === "error")?.[1] as HandshakeError;
      expect(error).toBeInstanceOf(HandshakeError);
      expect(error.status).toBe(400);
      expect(error.message).toMatch(/disabled/);
      expect(error.message).toMatch(/allowDrafts/);
      expect(io.text().endsWith(error.message)).toBe(true);
      expect(events.map(([type]) => type)).toEqual(["connect", "error", "close"]);
      expect(driver.readyState).toBe(3);
      expect(io.text()).not.toContain("101");
    });
  }

  it("refuses a draft request handed to fromRequest the same way", () => {
    const io = new CollectingIO();
    const driver = Driver.fromRequest({
      url: "/demo", headers: { host: "example.com", upgrade: "WebSocket", connection: "Upgrade" },
    }, io);
    const events = record(driver);
    expect(driver.start()).toBe(false);
    expect(statusOf(io.text())).toBe(400);
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
    expect((events[0][1] as Error).message).toMatch(/hixie-75 draft protocol is disabled/);
  });

  it("leaves requests that are no upgrade at all to the RFC 6455 checks", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    driver.on("connect", () => driver.start());
    driver.parse(utf8("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"));
    expect(driver.version).toBe("hybi-13");
    expect(statusOf(io.text())).toBe(400);
  });

  it("still serves hybi requests", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    driver.on("connect", () => driver.start());
    driver.parse(utf8(upgradeRequest()));
    expect(driver.readyState).toBe(1);
  });
});
