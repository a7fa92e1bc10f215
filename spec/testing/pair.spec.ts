/**
 * wsdriver/testing's in-memory connections: a client and a server driver wired to each other, and a
 * server handler run against a test client.
 */
import type { ServerDriver } from "../../lib/index";
import { countingKeys, decodeFrames, events, hex, pair, serve } from "../../lib/testing";

describe("pair: a client and a server driver connected in memory", () => {
  it("opens at once, and carries text and binary both ways", async () => {
    const { client, server, clientEvents, serverEvents } = pair();
    expect([client.readyState, server.readyState]).toEqual([1, 1]);
    client.text("hello");
    server.binary(Uint8Array.of(1, 2, 3));
    expect(await serverEvents.nextMessage()).toBe("hello");
    expect(await clientEvents.nextMessage()).toEqual(Uint8Array.of(1, 2, 3));
    expect(serverEvents.types).toEqual(["connect", "open", "message"]);
    expect(clientEvents.types).toEqual(["open", "message"]);
  });

  it("masks the client's frames with the RFC 6455 §5.7 example key, so the bytes can be written out", () => {
    const { client, toServer } = pair();
    toServer.take();
    client.text("Hello");
    expect(hex(toServer.take())).toBe("81 85 37 fa 21 3d 7f 9f 4d 51 58");
  });

  it("masks with the keys given per frame, or with random ones", () => {
    const counted = pair({ maskingKey: countingKeys(7) });
    counted.toServer.take();
    counted.client.text("a");
    counted.client.text("b");
    expect(decodeFrames(counted.toServer.take()).map((f) => hex(f.maskingKey!))).toEqual(["00 00 00 07", "00 00 00 08"]);

    const random = pair({ maskingKey: "random" });
    random.toServer.take();
    for (let i = 0; i < 4; i++) random.client.text("x");
    const keys = decodeFrames(random.toServer.take()).map((f) => hex(f.maskingKey!));
    expect(new Set(keys).size).toBeGreaterThan(1);
    expect(random.serverEvents.messages).toEqual(["x", "x", "x", "x"]);
  });

  it("negotiates a subprotocol offered by the client and accepted by the server", () => {
    expect(pair({ protocols: ["chat"] }).client.protocol).toBe("chat");
    const mismatched = pair({ client: { protocols: ["chat", "echo"] }, server: { protocols: ["echo"] } });
    expect([mismatched.client.protocol, mismatched.server.protocol]).toEqual(["echo", "echo"]);
  });

  it("negotiates permessage-deflate: RSV1 on the wire, the text back out", async () => {
    const { client, serverEvents, toServer } = pair({ deflate: true });
    expect(client.headers["sec-websocket-extensions"]).toBe("permessage-deflate");
    toServer.take();
    client.text("compressible ".repeat(20));
    const [sent] = decodeFrames(toServer.take());
    expect(sent).toMatchObject({ rsv: 0x40, opcode: 1 });
    expect(sent!.payload.length).toBeLessThan(260);
    expect(await serverEvents.nextMessage()).toBe("compressible ".repeat(20));
  });

  it("deflate on one side only is not negotiated", () => {
    const { client } = pair({ deflate: { client: true } });
    expect(client.headers["sec-websocket-extensions"]).toBeUndefined();
  });

  it("runs the closing handshake and ends both sides, as an adapter would", async () => {
    const { client, clientEvents, serverEvents, toServer, toClient } = pair();
    client.close("done", 1000);
    expect(await serverEvents.closed()).toEqual({ code: 1000, reason: "done" });
    // The server's reply echoes the code (RFC 6455 §5.5.1).
    expect(await clientEvents.closed()).toEqual({ code: 1000, reason: "" });
    expect([toServer.isEnded, toClient.isEnded]).toEqual([true, true]);
  });

  it("without endOnClose, the transport stays up after close until the test ends it", () => {
    const { client, server, toServer, toClient } = pair({ endOnClose: false });
    client.close();
    expect([client.readyState, server.readyState]).toEqual([3, 3]);
    expect([toServer.isEnded, toClient.isEnded]).toEqual([false, false]);
  });

  it("split: every write reaches the other side in pieces of the size given", () => {
    const { client, serverEvents, toServer } = pair({ split: 1 });
    toServer.take();
    client.text("héllo");
    expect(serverEvents.messages).toEqual(["héllo"]);
  });

  it("split as a function: every write arrives in the pieces it cuts, in order", () => {
    const cuts: number[] = [];
    const { client, serverEvents } = pair({
      split: (chunk) => {
        cuts.push(chunk.length);
        return [chunk.subarray(0, 1), chunk.subarray(1, 2), chunk.subarray(2)];
      },
    });
    client.text("héllo");
    client.text("");
    expect(serverEvents.messages).toEqual(["héllo", ""]);
    // The request, the 101, then the two frames: 2 + 4 + 6 bytes and 2 + 4.
    expect(cuts.slice(2)).toEqual([12, 6]);
  });

  it("open: false leaves the client to start, and the request is there to read", () => {
    const { client, toServer } = pair({ open: false, url: "ws://example.com/room?x=1" });
    expect(client.readyState).toBe(0);
    client.start();
    expect(toServer.text()).toMatch(/^GET \/room\?x=1 HTTP\/1\.1\r\nHost: example\.com\r\n/);
    expect(client.readyState).toBe(1);
  });
});

describe("serve: your server handler against a test client", () => {
  /** The logic under test, as a user writes it for acceptUpgrade. */
  function handler(driver: ServerDriver): void {
    driver.on("message", ({ data }) => {
      if (data === "bad token") driver.close("policy violation", 1008);
      else driver.text(`echo: ${data}`);
    });
  }

  it("the handler echoes", async () => {
    const { client } = serve(handler);
    client.text("hi");
    expect(await events(client).nextMessage()).toBe("echo: hi");
  });

  it("closes with 1008 when the client sends a bad token", async () => {
    const { client } = serve(handler);
    client.text("bad token");
    expect(await events(client).closed()).toEqual({ code: 1008, reason: "policy violation" });
  });

  it("a handler that starts the handshake itself, or refuses it, is left to do so", () => {
    const refusing = serve((driver) => driver.on("connect", () => driver.close()), { start: true });
    expect(refusing.client.readyState).toBe(3);
    expect(refusing.toClient.chunks.length).toBe(0);
    const started: boolean[] = [];
    const own = serve((driver) => driver.on("connect", () => started.push(driver.start())));
    expect(started).toEqual([true]);
    expect(own.client.readyState).toBe(1);
  });

  it("a wait for an event that cannot come any more rejects instead of hanging", async () => {
    const { client } = serve(handler);
    client.text("bad token");
    await expect(events(client).nextMessage()).rejects.toThrow('No message event: the connection closed (1008 "policy violation") first');
  });
});

describe("pair with a draft server", () => {
  it.each(["hixie-75", "hixie-76"] as const)("%s: the server opens for the draft's example request, and the scripted client talks to it", async (draft) => {
    const { client, server, serverEvents } = pair({ draft, handler: (driver) => driver.on("message", ({ data }) => driver.text(`${data}!`)) });
    expect([server.version, server.readyState, client.status]).toEqual([draft, 1, 101]);
    client.text("hi");
    expect(await serverEvents.nextMessage()).toBe("hi");
    expect(await client.nextMessage()).toBe("hi!");
  });
});
