/**
 * wsdriver/testing's scripted peers: bad frames of every kind sent to a real driver, in any split,
 * and what the driver writes back, decoded.
 */
import type { ServerDriver } from "../../lib/index";
import { type Extension, deflate } from "../../lib/index";
import { chunks, clientPeer, closePayload, concat, events, frame, hex, serverPeer, utf8 } from "../../lib/testing";

/** Server logic under test. */
function handler(driver: ServerDriver): void {
  driver.on("message", ({ data }) => {
    if (data === "X") driver.close("no X here", 1008);
    else driver.text(`echo: ${typeof data === "string" ? data : data.length}`);
  });
}

describe("clientPeer: a scripted client against a server handler", () => {
  it("my server closes with 1008 when the client sends X", async () => {
    const peer = clientPeer(handler);
    peer.text("X");
    expect(await peer.closed()).toEqual({ code: 1008, reason: "no X here" });
  });

  it("opens with a valid request, and reads the 101 and the messages as events and frames", async () => {
    const peer = clientPeer(handler, { protocols: ["chat"], server: { protocols: ["chat"] } });
    expect(peer.status).toBe(101);
    expect(peer.headers["sec-websocket-protocol"]).toBe("chat");
    peer.text("hi").binary(Uint8Array.of(1, 2)).ping("p");
    expect(await peer.nextMessage()).toBe("echo: hi");
    expect(await peer.nextMessage()).toBe("echo: 2");
    expect(await peer.next("pong")).toEqual({ type: "pong", data: utf8("p") });
    expect(peer.frames.map((f) => [f.opcode, f.masked])).toEqual([[1, false], [1, false], [10, false]]);
    expect(await peer.nextFrame()).toMatchObject({ opcode: 1, payload: utf8("echo: hi") });
  });

  it("without a handler the server only answers the handshake; the options may come first", () => {
    const peer = clientPeer({ path: "/room?id=7", extensions: "permessage-deflate" });
    expect([peer.status, peer.driver.request?.url]).toEqual([101, "/room?id=7"]);
    // No extension was added to the server, so none is answered.
    expect(peer.headers["sec-websocket-extensions"]).toBeUndefined();
  });

  it("logic that reads driver.request at once runs from connect on", async () => {
    const logic = (driver: ServerDriver) => {
      const room = driver.request!.url;
      driver.on("message", ({ data }) => driver.text(`${room}: ${data}`));
    };
    const peer = clientPeer((driver) => driver.on("connect", () => logic(driver)), { path: "/lobby" });
    peer.text("hi");
    expect(await peer.nextMessage()).toBe("/lobby: hi");
  });

  it("masks its frames with the example key, unless a frame says otherwise", () => {
    const peer = clientPeer(handler, { deferRequest: true });
    expect(hex(peer.bytesOf({ opcode: "text", payload: "Hello" }))).toBe("81 85 37 fa 21 3d 7f 9f 4d 51 58");
    expect(hex(peer.bytesOf({ opcode: "text", payload: "Hello", mask: false }))).toBe("81 05 48 65 6c 6c 6f");
  });

  it.each([
    ["an unmasked frame", 1002, { opcode: 1, payload: "a", mask: false }],
    ["a reserved opcode", 1002, { opcode: 0x3 }],
    ["a reserved bit", 1002, { opcode: 1, payload: "a", rsv1: true }],
    ["invalid UTF-8", 1007, { opcode: 1, payload: Uint8Array.of(0xce, 0xba, 0xe1, 0xbd, 0xc0) }],
    ["a control frame of 126 bytes", 1002, { opcode: "ping" as const, payload: new Uint8Array(126) }],
    ["a fragmented control frame", 1002, { opcode: "ping" as const, fin: false }],
    ["a continuation with nothing to continue", 1002, { opcode: 0 }],
  ])("%s fails the connection with %d and an error event", async (_, code, spec) => {
    const peer = clientPeer(handler);
    peer.send(spec);
    expect((await peer.closed()).code).toBe(code);
    expect(events(peer.driver).errors).toHaveLength(1);
    await expect(peer.next("end")).resolves.toEqual({ type: "end" });
  });

  it("sends any split of the bytes: a message byte by byte, or cut at chosen offsets", async () => {
    const peer = clientPeer(handler);
    peer.sendSplit([{ opcode: "text", payload: "héllo", fin: false }, { opcode: "continuation", payload: "!" }], 1);
    expect(await peer.nextMessage()).toBe("echo: héllo!");
    const bytes = concat(peer.bytesOf({ opcode: "text", payload: "ab" }), peer.bytesOf({ opcode: "text", payload: "cd" }));
    peer.sendSplit(bytes, [1, 9, 10]);
    expect(peer.messages).toEqual(["echo: héllo!", "echo: ab", "echo: cd"]);
  });

  it("a split option cuts every write, the request included", async () => {
    const pieces: number[] = [];
    const peer = clientPeer((driver) => {
      const parse = driver.parse.bind(driver);
      driver.parse = (bytes) => { pieces.push((bytes as Uint8Array).length); parse(bytes); };
    }, { split: 50 });
    expect(peer.status).toBe(101);
    expect(Math.max(...pieces)).toBe(50);
  });

  it("answers nothing by itself: a close it receives gets no reply until the script sends one", async () => {
    const peer = clientPeer((driver) => driver.on("open", () => driver.close("bye", 1001)));
    expect(await peer.closed()).toEqual({ code: 1001, reason: "bye" });
    expect(peer.driver.readyState).toBe(2);
    await expect(peer.nextMessage()).rejects.toThrow("No message event: a close frame came first");
    peer.close(1001);
    expect(peer.driver.readyState).toBe(3);
    expect(peer.ended).toBe(true);
  });

  it("a request the server refuses is read as a response and nothing more", async () => {
    const peer = clientPeer(handler, { headers: { "Sec-WebSocket-Version": "99" } });
    expect(peer.status).toBe(426);
    expect(peer.headers["sec-websocket-version"]).toBe("13, 8, 7");
    await expect(peer.nextFrame()).rejects.toThrow("No frame: the transport ended first");
  });

  it("ending the transport gives the driver a close of 1006", async () => {
    const peer = clientPeer(handler);
    peer.end();
    expect((await events(peer.driver).closed()).code).toBe(1006);
  });

  it("an oversized message against maxLength, announced in a header only, fails with 1009 before its payload", async () => {
    const peer = clientPeer(handler, { server: { maxLength: 1000 } });
    peer.send(frame({ opcode: "binary", length: 1001, mask: true }));
    expect(await peer.closed()).toEqual({ code: 1009, reason: expect.any(String) });
  });

  it("the draft server: hixie-76's example handshake, a text frame each way, and its closing frame", async () => {
    const peer = clientPeer(handler, { draft: "hixie-76" });
    expect(peer.status).toBe(101);
    expect(new TextDecoder().decode(peer.headBody)).toBe("8jKS'y:G*Co,Wxa-");
    expect(peer.driver.version).toBe("hixie-76");
    peer.binary(Uint8Array.of(1, 2, 3)).text("hi");
    // The drafts skip a length-prefixed frame: only the text is read, and echoed.
    expect(await peer.nextMessage()).toBe("echo: hi");
    expect(events(peer.driver).messages).toEqual(["hi"]);
    peer.close();
    expect(await peer.closed()).toEqual({ code: null, reason: "" });
    expect((await events(peer.driver).closed()).code).toBe(1000);
  });

  it("the draft server: hixie-75", async () => {
    const peer = clientPeer(handler, { draft: "hixie-75" });
    expect(peer.driver.version).toBe("hixie-75");
    peer.text("hi");
    expect(await peer.nextMessage()).toBe("echo: hi");
  });
});

describe("serverPeer: a scripted server for a client driver", () => {
  it("answers the request with a valid 101: the client opens, its frames arrive masked with the example key", async () => {
    const peer = serverPeer({ protocol: "chat", client: { protocols: ["chat"] } });
    expect(peer.head).toMatch(/^GET \/chat HTTP\/1\.1\r\n/);
    expect(peer.driver.readyState).toBe(1);
    expect(peer.driver.protocol).toBe("chat");
    peer.driver.text("Hello");
    const sent = await peer.nextFrame();
    expect(hex(sent.maskingKey!)).toBe("37 fa 21 3d");
    expect(await peer.nextMessage()).toBe("Hello");
  });

  it("sends the client what a server must not: a masked frame fails it with 1002", async () => {
    const peer = serverPeer();
    peer.send({ opcode: "text", payload: "a", mask: true });
    expect(await peer.closed()).toEqual({ code: 1002, reason: expect.stringMatching(/mask/i) });
    expect((await events(peer.driver).closed()).code).toBe(1002);
  });

  it("a response given as written: a bad accept key fails the handshake", async () => {
    const peer = serverPeer({ response: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n" });
    expect(peer.driver.readyState).toBe(3);
    expect(events(peer.driver).errors[0]!.message).toMatch(/Sec-WebSocket-Accept/);
  });

  it("a close in pieces of one byte, and the client's reply", async () => {
    const peer = serverPeer();
    peer.sendSplit(frame({ opcode: "close", payload: closePayload(1000, "ok") }), 1);
    // The client's reply echoes the code (RFC 6455 §5.5.1); its close event has the peer's reason.
    expect(await peer.closed()).toEqual({ code: 1000, reason: "" });
    expect(await events(peer.driver).closed()).toEqual({ code: 1000, reason: "ok" });
  });

  it("text in any split reaches the client whole", async () => {
    const peer = serverPeer();
    for (const piece of chunks(frame({ opcode: "text", payload: "ça va" }), 2)) peer.send(piece);
    expect(await events(peer.driver).nextMessage()).toBe("ça va");
  });
});

describe("scripted peers and permessage-deflate", () => {
  it("a client peer that offered it reads the server's compressed messages inflated, window kept between them", async () => {
    const peer = clientPeer((driver) => {
      driver.addExtension(deflate());
      driver.on("open", () => { driver.text("hello hello hello"); driver.text("hello hello hello"); });
    }, { extensions: "permessage-deflate" });
    expect(peer.headers["sec-websocket-extensions"]).toBe("permessage-deflate");
    const [first, second] = peer.frames;
    expect([first!.rsv, second!.rsv]).toEqual([0x40, 0x40]);
    // The second refers back to the first, through the window the peer kept.
    expect(second!.payload.length).toBeLessThan(first!.payload.length);
    expect(peer.events).toEqual([
      { type: "message", data: "hello hello hello", compressed: true },
      { type: "message", data: "hello hello hello", compressed: true },
    ]);
  });

  it("a server peer that agreed to it reads the client's compressed messages, and no_context_takeover resets the window", async () => {
    const peer = serverPeer({
      extensions: "permessage-deflate; client_no_context_takeover",
      setup: (driver) => driver.addExtension(deflate()),
    });
    peer.driver.text("hello hello hello");
    peer.driver.text("hello hello hello");
    const [first, second] = peer.frames;
    expect(second!.payload).toEqual(first!.payload);
    expect(peer.messages).toEqual(["hello hello hello", "hello hello hello"]);
  });

  it("RSV1 from another extension: the bytes as they came, marked compressed", () => {
    // An extension of the client's own that sets RSV1 and sends its payload as it is.
    const rsv1: Extension = {
      name: "x-rsv1",
      rsv: 0x40,
      offer: () => [{}],
      activate: () => ({ encode: (payload, rsv) => ({ payload, rsv: rsv | 0x40 }), decode: (payload) => payload, close: () => undefined }),
      respond: () => null,
    };
    const peer = serverPeer({ extensions: "x-rsv1", setup: (driver) => driver.addExtension(rsv1) });
    peer.driver.text("raw");
    expect(peer.events).toEqual([{ type: "message", data: utf8("raw"), compressed: true }]);
  });
});
