/**
 * Round trip: a `Driver.client` and a `Driver.server` wired back to back in memory, every transfer
 * between them split at random. Whatever messages, pings and settings the client uses, the server
 * echoes each message and the client receives exactly what it sent, in order; each ping's callback
 * runs once; the closing handshake ends both sides with the client's code and reason. Half the runs
 * negotiate permessage-deflate with random parameters.
 */
import fc from "fast-check";
import { pair } from "../../lib/testing";
import { anyBytes, fuzzParameters, normalize, splitBy, splits, utf8Text } from "./arbitraries";

type Step =
  | { kind: "text"; text: string }
  | { kind: "binary"; bytes: Uint8Array }
  | { kind: "ping"; payload: Uint8Array };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: utf8Text(2000).map((text): Step => ({ kind: "text", text })) },
  { weight: 3, arbitrary: anyBytes.map((bytes): Step => ({ kind: "binary", bytes })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 125 }).map((payload): Step => ({ kind: "ping", payload })) },
);

const settings = fc.record({
  protocols: fc.subarray(["chat", "superchat", "v2.json"]),
  /** Send before the connection opens (queued) or after. */
  early: fc.boolean(),
  closeCode: fc.constantFrom(1000, 1001, 3000, 4999),
  reason: fc.string({ unit: "binary", maxLength: 30 }).filter((r) => new TextEncoder().encode(r).length <= 123),
  /** permessage-deflate on both sides, with the client's offer, or none. */
  deflate: fc.option(fc.record({
    serverNoContextTakeover: fc.boolean(),
    clientNoContextTakeover: fc.boolean(),
    serverMaxWindowBits: fc.option(fc.integer({ min: 9, max: 15 }), { nil: undefined }),
    clientMaxWindowBits: fc.oneof(fc.boolean(), fc.integer({ min: 9, max: 15 })),
    threshold: fc.integer({ min: 0, max: 100 }),
  }), { nil: null }),
});

describe("round trip", () => {
  test("client → server → client reproduces every message, in order", () => {
    fc.assert(fc.property(fc.array(step, { maxLength: 12 }), settings, splits, (steps, options, cuts) => {
      const maxLength = 70_000;
      const { client, server, clientEvents: clientLog, serverEvents: serverLog } = pair({
        url: "ws://example.com/echo",
        open: false,
        // Every transfer split into random `parse` calls.
        split: (chunk) => splitBy(chunk, cuts),
        client: { maxLength, protocols: [...options.protocols].reverse() },
        server: { maxLength, protocols: options.protocols },
        deflate: options.deflate ? { client: options.deflate, server: { threshold: options.deflate.threshold } } : false,
        handler: (driver) => driver.on("message", ({ data }) => (typeof data === "string" ? driver.text(data) : driver.binary(data))),
      });
      const serverEvents = serverLog.all;
      const clientEvents = clientLog.all;

      let pongs = 0;
      const send = (s: Step): void => {
        if (s.kind === "text") expect(client.text(s.text)).toBe(true);
        else if (s.kind === "binary") expect(client.binary(s.bytes)).toBe(true);
        else expect(client.ping(s.payload, () => { pongs++; })).toBe(true);
      };
      // Early sends are queued while the client is connecting, and go out once it opens.
      if (options.early) steps.forEach(send);
      client.start();
      expect(client.readyState).toBe(1);
      expect(client.protocol).toBe(server.protocol);
      expect(client.headers["sec-websocket-extensions"] !== undefined).toBe(options.deflate !== null);
      if (!options.early) steps.forEach(send);
      expect(client.close(options.reason, options.closeCode)).toBe(true);

      const sent = steps.filter((s) => s.kind !== "ping").map((s) =>
        ["message", s.kind === "text" ? `text:${s.text}` : `binary:${Buffer.from(s.bytes).toString("base64")}`]);
      const clientMessages = normalize(clientEvents).filter((e) => (e as unknown[])[0] === "message");
      expect(clientMessages).toEqual(sent);
      expect(normalize(serverEvents).filter((e) => (e as unknown[])[0] === "message")).toEqual(sent);
      // Pings with equal payloads share a pong; every callback still runs once per matching pong.
      expect(pongs).toBe(steps.filter((s) => s.kind === "ping").length);
      expect(serverEvents.filter(([type]) => type === "error")).toEqual([]);
      expect(clientEvents.filter(([type]) => type === "error")).toEqual([]);
      expect(serverEvents.at(-1)).toEqual(["close", { code: options.closeCode, reason: options.reason }]);
      expect(clientEvents.at(-1)?.[0]).toBe("close");
      expect((clientEvents.at(-1)?.[1] as { code: number }).code).toBe(options.closeCode);
      expect([client.readyState, server.readyState]).toEqual([3, 3]);
    }), fuzzParameters(100));
  });
});
