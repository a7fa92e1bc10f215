import fc from "fast-check";
import { fuzzParameters } from "../fuzz/arbitraries";
import { Driver } from "../../lib/driver";
import { ProtocolError } from "../../lib/errors";
import { CollectingIO, type Recorded, bytes, concat, record, utf8 } from "../support/wire";
import type { ServerDriver } from "../../lib/types";
import {
  CLOSING_FRAME, DRAFT76_BODY, DRAFT76_HEAD, type Draft, exampleRequest, latin1, lengthFrame, openDraft, textFrame,
} from "./support";

const DRAFTS: Draft[] = ["hixie-76", "hixie-75"];

function errorOf(events: Recorded[]): ProtocolError {
  const error = events.find(([type]) => type === "error")?.[1];
  if (!(error instanceof ProtocolError)) throw new Error("no ProtocolError emitted");
  return error;
}

for (const draft of DRAFTS) {
  describe(`${draft}: text frames, 0x00 … 0xFF`, () => {
    it("reads a text frame as a message", () => {
      const { driver, events } = openDraft(draft);
      driver.parse(bytes(0x00, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0xff));
      expect(events).toEqual([["message", { data: "Hello" }]]);
    });

    it("reads several frames in one chunk, an empty one and multi-byte UTF-8 included", () => {
      const { driver, events } = openDraft(draft);
      driver.parse(concat(textFrame("a"), textFrame(""), textFrame("κόσμε 🌍")));
      expect(events).toEqual([["message", { data: "a" }], ["message", { data: "" }], ["message", { data: "κόσμε 🌍" }]]);
    });

    it("writes text() as 0x00, the UTF-8 bytes, 0xFF", () => {
      const { driver, io } = openDraft(draft);
      expect(driver.text("Hé")).toBe(true);
      expect(io.take()).toEqual(bytes(0x00, 0x48, 0xc3, 0xa9, 0xff));
    });

    it("fails with 1007 on invalid UTF-8, as hybi does", () => {
      const { driver, events, io } = openDraft(draft);
      driver.parse(bytes(0x00, 0xc3, 0x28, 0xff, 0x00, 0x41, 0xff));
      expect(errorOf(events).code).toBe(1007);
      expect(errorOf(events).message).toMatch(/Invalid UTF-8/);
      expect(events.map(([type]) => type)).toEqual(["error", "close"]);
      expect(events[1][1]).toEqual({ code: 1007, reason: "Invalid UTF-8 in text frame" });
      expect(driver.readyState).toBe(3);
      expect(io.take()).toEqual(draft === "hixie-76" ? CLOSING_FRAME : new Uint8Array(0));
    });

    it("fails on invalid UTF-8 at the first bad byte, before the frame ends", () => {
      const { driver, events } = openDraft(draft);
      driver.parse(bytes(0x00, 0x61));
      expect(events).toEqual([]);
      driver.parse(bytes(0xed, 0xa0)); // a surrogate: can never become valid
      expect(errorOf(events).code).toBe(1007);
    });

    it("fails with 1007 on a frame that ends inside a sequence", () => {
      const { driver, events } = openDraft(draft);
      driver.parse(bytes(0x00, 0xe2, 0x82));
      driver.parse(bytes(0xff));
      expect(errorOf(events).code).toBe(1007);
    });

    it("reads and discards frame types 0x01–0x7F, which the drafts do not define", () => {
      const { driver, events } = openDraft(draft);
      driver.parse(concat(bytes(0x01, 0x61, 0x62, 0xff, 0x7f, 0xff), textFrame("kept")));
      expect(events).toEqual([["message", { data: "kept" }]]);
    });
  });

  describe(`${draft}: length-prefixed frames (high bit set) are read and skipped`, () => {
    it("skips a short one and reads the text frame after it", () => {
      const { driver, events } = openDraft(draft);
      driver.parse(concat(lengthFrame(0x80, bytes(1, 2, 3)), textFrame("after")));
      expect(events).toEqual([["message", { data: "after" }]]);
    });

    it("reads a length of several 7-bit groups, most significant first", () => {
      const { driver, events } = openDraft(draft);
      const payload = new Uint8Array(300).fill(0xff);
      const frame = lengthFrame(0x81, payload);
      expect(Array.from(frame.subarray(0, 3))).toEqual([0x81, 0x82, 0x2c]); // 2 × 128 + 44
      driver.parse(concat(frame, textFrame("x")));
      expect(events).toEqual([["message", { data: "x" }]]);
    });

    it("skips a payload that arrives over many parse calls", () => {
      const { driver, events } = openDraft(draft);
      const stream = concat(lengthFrame(0x90, new Uint8Array(1000).fill(0x00)), textFrame("y"));
      for (let i = 0; i < stream.length; i += 7) driver.parse(stream.subarray(i, i + 7));
      expect(events).toEqual([["message", { data: "y" }]]);
    });

    it("skips 0xFF with a length other than 0", () => {
      const { driver, events } = openDraft(draft);
      driver.parse(concat(lengthFrame(0xff, bytes(9, 9)), textFrame("z")));
      expect(events).toEqual([["message", { data: "z" }]]);
    });

    it("fails with 1009 on one whose length exceeds maxLength, before its payload", () => {
      const { driver, events } = openDraft(draft, { maxLength: 100 });
      driver.parse(bytes(0x80, 0x81)); // length 1 so far, more groups to come
      expect(events).toEqual([]);
      driver.parse(bytes(0x00)); // 128 > 100
      expect(errorOf(events).code).toBe(1009);
      expect(events.map(([type]) => type)).toEqual(["error", "close"]);
    });
  });

  describe(`${draft}: maxLength`, () => {
    it("accepts a text frame of exactly maxLength bytes", () => {
      const { driver, events } = openDraft(draft, { maxLength: 4 });
      driver.parse(textFrame("abcd"));
      expect(events).toEqual([["message", { data: "abcd" }]]);
    });

    it("fails with 1009 on a text frame one byte longer, whole or in pieces", () => {
      for (const pieces of [[textFrame("abcde")], [bytes(0x00, 0x61, 0x62), bytes(0x63, 0x64, 0x65), bytes(0xff)]]) {
        const { driver, events, io } = openDraft(draft, { maxLength: 4 });
        for (const piece of pieces) driver.parse(piece);
        expect(errorOf(events).code).toBe(1009);
        expect(errorOf(events).message).toMatch(/maxLength/);
        expect(events.filter(([type]) => type === "message")).toEqual([]);
        expect(events[events.length - 1]).toEqual(["close", { code: 1009, reason: errorOf(events).message }]);
        expect(io.take()).toEqual(draft === "hixie-76" ? CLOSING_FRAME : new Uint8Array(0));
      }
    });

    it("bounds discarded frames of other types too", () => {
      const { driver, events } = openDraft(draft, { maxLength: 4 });
      driver.parse(bytes(0x05, 1, 2, 3, 4, 5, 0xff));
      expect(errorOf(events).code).toBe(1009);
    });
  });

  describe(`${draft}: what the drafts do not have`, () => {
    it("returns false from binary(), ping(), pong() and addExtension(), and writes nothing", () => {
      const { driver, io } = openDraft(draft);
      expect(driver.binary(bytes(1, 2))).toBe(false);
      expect(driver.ping()).toBe(false);
      expect(driver.ping("x", () => undefined)).toBe(false);
      expect(driver.pong()).toBe(false);
      expect(driver.addExtension({} as never)).toBe(false);
      expect(io.chunks).toHaveLength(0);
    });
  });

  describe(`${draft}: closing`, () => {
    it("close() emits close at once with 1000, and then nothing more is sent or read", () => {
      const { driver, events, io } = openDraft(draft);
      expect(driver.close()).toBe(true);
      expect(events).toEqual([["close", { code: 1000, reason: "" }]]);
      expect(driver.readyState).toBe(3);
      expect(io.take()).toEqual(draft === "hixie-76" ? CLOSING_FRAME : new Uint8Array(0));
      expect(driver.close()).toBe(false);
      expect(driver.text("late")).toBe(false);
      driver.parse(textFrame("ignored"));
      expect(events).toHaveLength(1);
      expect(io.chunks).toHaveLength(0);
    });

    it("close() reports the code and reason it was given", () => {
      const { driver, events } = openDraft(draft);
      driver.close("bye", 4000);
      expect(events).toEqual([["close", { code: 4000, reason: "bye" }]]);
    });

    it("end() emits close with 1006, once", () => {
      const { driver, events } = openDraft(draft);
      driver.end();
      driver.end();
      expect(events).toEqual([["close", { code: 1006, reason: "" }]]);
      expect(driver.readyState).toBe(3);
    });

    it("end() after close() emits nothing more", () => {
      const { driver, events } = openDraft(draft);
      driver.close();
      driver.end();
      expect(events.map(([type]) => type)).toEqual(["close"]);
    });
  });

  describe(`${draft}: the send queue before open`, () => {
    it("queues text() until the handshake completes, then sends in order", () => {
      const io = new CollectingIO();
      const driver = Driver.server(io, { allowDrafts: true });
      expect(driver.text("one")).toBe(true);
      driver.on("connect", () => { expect(driver.text("two")).toBe(true); driver.start(); });
      const request = exampleRequest(draft);
      const headEnd = draft === "hixie-76" ? request.length - 8 : request.length;
      driver.parse(request.subarray(0, headEnd));
      if (draft === "hixie-76") {
        expect(driver.readyState).toBe(0);
        expect(driver.text("three")).toBe(true);
        expect(io.text()).not.toContain("one");
        driver.parse(request.subarray(headEnd));
      }
      const written = io.all();
      const frames = concat(textFrame("one"), textFrame("two"), ...(draft === "hixie-76" ? [textFrame("three")] : []));
      expect(written.subarray(written.length - frames.length)).toEqual(frames);
    });

    it("sends what was queued before open fires, so a text() from an open handler comes after it", () => {
      const io = new CollectingIO();
      const driver = Driver.server(io, { allowDrafts: true });
      driver.on("connect", () => { driver.text("queued"); driver.start(); });
      driver.on("open", () => driver.text("from open"));
      driver.parse(exampleRequest(draft));
      const written = io.all();
      const frames = concat(textFrame("queued"), textFrame("from open"));
      expect(written.subarray(written.length - frames.length)).toEqual(frames);
    });

    it("does not fire open after close when the transport ends while the queue is sent", () => {
      let driver: ServerDriver | null = null;
      // A transport that dies on the first frame, as the Bun adapter's end() on a refused write.
      const io = { write: (chunk: Uint8Array) => { if (chunk[0] === 0x00) driver?.end(); } };
      driver = Driver.server(io, { allowDrafts: true });
      const events = record(driver);
      driver.text("queued");
      driver.on("connect", () => driver?.start());
      driver.parse(exampleRequest(draft));
      expect(events.map(([type]) => type)).toEqual(["connect", "close"]);
    });

    it("stays closed when the transport ends while the handshake's answer is written", () => {
      let driver: ServerDriver | null = null;
      // A transport that dies on the answer's last write (the 101 head; for draft-76, the digest).
      const last = draft === "hixie-76" ? 16 : -1;
      const io = { write: (chunk: Uint8Array) => { if (chunk.length === last || (last < 0 && chunk[0] === 0x48)) driver?.end(); } };
      driver = Driver.server(io, { allowDrafts: true });
      const events = record(driver);
      driver.on("connect", () => driver?.start());
      driver.parse(concat(exampleRequest(draft), textFrame("after")));
      expect(events.map(([type]) => type)).toEqual(["connect", "close"]);
      expect(driver.readyState).toBe(3);
    });

    it("drops the queue when closed before open", () => {
      const io = new CollectingIO();
      const driver = Driver.server(io, { allowDrafts: true });
      const events = record(driver);
      driver.text("never");
      driver.parse(exampleRequest(draft));
      driver.close();
      expect(events.map(([type]) => type)).toEqual(["connect", "close"]);
      expect(driver.start()).toBe(false);
      expect(io.chunks).toHaveLength(0);
    });

    it("holds frames that arrive before start() and reads them after", () => {
      const io = new CollectingIO();
      const driver = Driver.server(io, { allowDrafts: true });
      const events = record(driver);
      driver.parse(concat(exampleRequest(draft), textFrame("early")));
      expect(events.map(([type]) => type)).toEqual(["connect"]);
      driver.start();
      expect(events).toEqual([["connect", {}], ["open", {}], ["message", { data: "early" }]]);
    });

    it("fails with 1009 when more than a frame's worth arrives before start()", () => {
      const io = new CollectingIO();
      const driver = Driver.server(io, { allowDrafts: true, maxLength: 10 });
      const events = record(driver);
      driver.parse(exampleRequest(draft));
      driver.parse(textFrame("0123456789"));
      expect(events.map(([type]) => type)).toEqual(["connect"]);
      driver.parse(textFrame("x"));
      expect(errorOf(events).code).toBe(1009);
      expect(events.map(([type]) => type)).toEqual(["connect", "error", "close"]);
      expect(io.chunks).toHaveLength(0);
    });
  });
}

describe("hixie-76 §1.4: the closing frame 0xFF 0x00", () => {
  it("answers the peer's closing frame with its own, emits close 1000 and reads nothing after", () => {
    const { driver, events, io } = openDraft("hixie-76");
    driver.parse(concat(textFrame("last"), CLOSING_FRAME, textFrame("after")));
    expect(events).toEqual([["message", { data: "last" }], ["close", { code: 1000, reason: "" }]]);
    expect(io.take()).toEqual(CLOSING_FRAME);
    expect(driver.readyState).toBe(3);
  });

  it("reads the closing frame split over two calls", () => {
    const { driver, events } = openDraft("hixie-76");
    driver.parse(bytes(0xff));
    expect(events).toEqual([]);
    driver.parse(bytes(0x00));
    expect(events).toEqual([["close", { code: 1000, reason: "" }]]);
  });

  describe("a transport that ends while the closing frame is written (an adapter's end() on a refused write)", () => {
    /** An open hixie-76 server whose io ends the driver when it is given 0xFF 0x00. */
    function endingOnClosingFrame(): { driver: ServerDriver; events: Recorded[] } {
      const { driver, io } = openDraft("hixie-76", { maxLength: 4 });
      const write = io.write.bind(io);
      io.write = (chunk: Uint8Array) => {
        if (chunk.length === 2 && chunk[0] === 0xff && chunk[1] === 0x00) driver.end();
        return write(chunk);
      };
      return { driver, events: record(driver) };
    }

    it.each<[string, (driver: ServerDriver) => void]>([
      ["close()", (driver) => driver.close()],
      ["the peer's closing frame", (driver) => driver.parse(CLOSING_FRAME)],
      ["a frame over maxLength", (driver) => driver.parse(textFrame("too long"))],
    ])("emits close once, on %s", (_, act) => {
      const { driver, events } = endingOnClosingFrame();
      act(driver);
      expect(events).toEqual([["close", { code: 1006, reason: "" }]]);
      expect(driver.readyState).toBe(3);
    });
  });

  it("emits close once when the transport ends while a refusal (400) is written", () => {
    let driver: ServerDriver | null = null;
    const io = { write: () => { driver?.end(); return true; } };
    driver = Driver.server(io, { allowDrafts: true });
    const events = record(driver);
    driver.on("connect", () => driver?.start());
    // draft-hixie-76 §5.2: a key without spaces is refused.
    driver.parse(latin1(DRAFT76_HEAD.replace("4 @1  46546xW%0l 1 5", "155712099") + DRAFT76_BODY));
    expect(events).toEqual([["connect", {}], ["close", { code: 1006, reason: "" }]]);
    expect(driver.readyState).toBe(3);
  });

  it("is an empty frame to skip in hixie-75, which has no closing handshake", () => {
    const { driver, events, io } = openDraft("hixie-75");
    driver.parse(concat(CLOSING_FRAME, textFrame("still open")));
    expect(events).toEqual([["message", { data: "still open" }]]);
    expect(io.chunks).toHaveLength(0);
  });

  it("lets a message handler close the driver: nothing after is read", () => {
    const { driver, events } = openDraft("hixie-76");
    driver.on("message", () => driver.close());
    driver.parse(concat(textFrame("one"), textFrame("two")));
    expect(events).toEqual([["message", { data: "one" }], ["close", { code: 1000, reason: "" }]]);
  });
});

describe("every split of frames gives the same events", () => {
  const STREAM = concat(
    textFrame("héllo"), lengthFrame(0x80, new Uint8Array(130).fill(7)), textFrame(""), bytes(0x01, 0x61, 0xff),
    textFrame("🌍"), CLOSING_FRAME,
  );

  for (const draft of DRAFTS) {
    const run = (pieces: Uint8Array[]): Recorded[] => {
      const { driver, events } = openDraft(draft);
      for (const piece of pieces) driver.parse(piece);
      return events;
    };
    const whole = run([STREAM]);

    it(`${draft}: every cut in two, and byte by byte`, () => {
      expect(whole.filter(([type]) => type === "message")).toHaveLength(3);
      for (let cut = 1; cut < STREAM.length; cut++) {
        expect(run([STREAM.subarray(0, cut), STREAM.subarray(cut)])).toEqual(whole);
      }
      expect(run(Array.from(STREAM, (b) => Uint8Array.of(b)))).toEqual(whole);
    });

    it(`${draft}: random splits of random frames`, () => {
      const frame = fc.oneof(
        fc.string({ unit: "grapheme", maxLength: 20 }).map((text) => textFrame(text)),
        fc.uint8Array({ maxLength: 200 }).map((payload) => lengthFrame(0x80, payload)),
        fc.uint8Array({ maxLength: 20 }).map((payload) => concat(bytes(0x02), payload.map((b) => (b === 0xff ? 0 : b)), bytes(0xff))),
      );
      fc.assert(fc.property(fc.array(frame, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (frames, cuts) => {
        const stream = concat(...frames);
        const points = [...new Set(cuts.map((n) => (stream.length ? n % stream.length : 0)))].sort((a, b) => a - b);
        const pieces: Uint8Array[] = [];
        let from = 0;
        for (const point of [...points, stream.length]) {
          pieces.push(stream.subarray(from, point));
          from = point;
        }
        expect(run(pieces)).toEqual(run([stream]));
      }), fuzzParameters(200));
    });
  }
});

describe("parse never throws on peer bytes", () => {
  it("turns random bytes after either handshake into messages, skips, or an error and close", () => {
    for (const draft of DRAFTS) {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (garbage) => {
        const { driver, events } = openDraft(draft, { maxLength: 64 });
        expect(() => driver.parse(garbage)).not.toThrow();
        const types = events.map(([type]) => type);
        const error = types.indexOf("error");
        if (error >= 0) expect(types.slice(error)).toEqual(["error", "close"]);
      }), fuzzParameters(300));
    }
  });

  it("answers a request whose body is garbage with the digest for those bytes", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io, { allowDrafts: true });
    driver.on("connect", () => driver.start());
    driver.parse(latin1(DRAFT76_HEAD));
    driver.parse(utf8(DRAFT76_BODY).map((b) => b ^ 0xff));
    expect(driver.readyState).toBe(1);
    expect(io.text().endsWith("8jKS'y:G*Co,Wxa-")).toBe(false);
  });
});
