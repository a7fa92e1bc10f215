/**
 * Write batching on the adapters whose transports cannot cork (Bun's and Deno's): every frame
 * written while one chunk is parsed reaches the transport in one write, a large payload goes out
 * uncopied, and the close frame written inside a read still leaves before the connection ends.
 * The transports here are in-memory stand-ins with the shapes the adapters use; spec/adapters/
 * bun.spec.ts, deno.spec.ts and backpressure.spec.ts run the real runtimes over loopback.
 */
import { type BunSocket, serverHandlers } from "../../lib/adapters/bun";
import { sendBatch } from "../../lib/adapters/batch";
import { accept } from "../../lib/adapters/deno";
import { ascii, clientFrame, concat, readFrames, upgradeRequest, utf8 } from "../support/wire";

const HEAD_END = "\r\n\r\n";

/** Splits what a server wrote into its 101 head and the frames after it. */
function split(written: Uint8Array): { head: string; frames: ReturnType<typeof readFrames> } {
  const text = ascii(written);
  const end = text.indexOf(HEAD_END) + HEAD_END.length;
  return { head: text.slice(0, end), frames: readFrames(written.subarray(end)) };
}

describe("sendBatch: runs of small chunks joined, large chunks alone", () => {
  it("keeps the order, joins what lies between large chunks, and hands large ones over uncopied", () => {
    const large = new Uint8Array(64 * 1024).fill(9);
    const sent: Uint8Array[] = [];
    sendBatch([utf8("ab"), utf8("c"), large, utf8("d"), utf8("ef")], (chunk) => sent.push(chunk));
    expect(sent.map((chunk) => chunk.length)).toEqual([3, 64 * 1024, 3]);
    expect(ascii(sent[0])).toBe("abc");
    expect(sent[1]).toBe(large);
    expect(ascii(sent[2])).toBe("def");
  });

  it("hands a single chunk over as it is", () => {
    const only = utf8("x");
    const sent: Uint8Array[] = [];
    sendBatch([only], (chunk) => sent.push(chunk));
    expect(sent).toEqual([only]);
    expect(sent[0]).toBe(only);
  });
});

/** A Bun socket that takes everything and records each write. */
class RecordingBunSocket implements BunSocket {
  writes: Uint8Array[] = [];
  ended = false;
  write(data: Uint8Array): number {
    this.writes.push(data.slice());
    return data.length;
  }
  end(): void {
    this.ended = true;
  }
}

describe("Bun: the frames written while one chunk is parsed leave in one socket.write", () => {
  function echoServer() {
    const socket = new RecordingBunSocket();
    const handlers = serverHandlers({}, ({ driver }) => {
      driver.on("connect", () => driver.start());
      driver.on("message", ({ data }) => (typeof data === "string" ? driver.text(data) : driver.binary(data)));
    });
    handlers.open(socket);
    return { socket, handlers };
  }

  it("the 101 and the echoes of the frames that came with the request: one write", () => {
    const { socket, handlers } = echoServer();
    const messages = Array.from({ length: 10 }, (_, i) => `message ${i}`);
    handlers.data(socket, concat(utf8(upgradeRequest()), ...messages.map((payload) => clientFrame({ opcode: 1, payload }))));
    expect(socket.writes).toHaveLength(1);
    const { head, frames } = split(socket.writes[0]);
    expect(head.startsWith("HTTP/1.1 101 ")).toBe(true);
    expect(frames.map((f) => [f.opcode, ascii(f.payload)])).toEqual(messages.map((m) => [1, m]));
  });

  it("a later chunk of 50 frames: 50 echoes in one write; a 20 KiB echo joined to its header; a 70 KiB payload uncopied", () => {
    const { socket, handlers } = echoServer();
    handlers.data(socket, utf8(upgradeRequest()));
    socket.writes = [];
    handlers.data(socket, concat(...Array.from({ length: 50 }, (_, i) => clientFrame({ opcode: 2, payload: new Uint8Array(64).fill(i) }))));
    expect(socket.writes).toHaveLength(1);
    expect(readFrames(socket.writes[0]).map((f) => f.payload[0])).toEqual(Array.from({ length: 50 }, (_, i) => i));
    socket.writes = [];
    const medium = new Uint8Array(20 * 1024).fill(0x5a);
    handlers.data(socket, clientFrame({ opcode: 2, payload: medium }));
    expect(socket.writes.map((w) => w.length)).toEqual([4 + 20 * 1024]);
    expect(readFrames(socket.writes[0])[0].payload).toEqual(medium);
    socket.writes = [];
    const large = new Uint8Array(70 * 1024).fill(0xa5);
    handlers.data(socket, clientFrame({ opcode: 2, payload: large }));
    // The header alone (a run of one small chunk), then the payload as its own write.
    expect(socket.writes.map((w) => w.length)).toEqual([10, 70 * 1024]);
    expect(readFrames(concat(...socket.writes))[0].payload).toEqual(large);
  });

  it("the close frame answered inside a read is written before the socket is ended", () => {
    const { socket, handlers } = echoServer();
    handlers.data(socket, utf8(upgradeRequest()));
    socket.writes = [];
    const close = clientFrame({ opcode: 8, payload: Uint8Array.from([0x03, 0xe8]) });
    handlers.data(socket, concat(clientFrame({ opcode: 1, payload: "last" }), close));
    expect(socket.writes).toHaveLength(1);
    expect(readFrames(socket.writes[0]).map((f) => f.opcode)).toEqual([1, 8]);
    expect(socket.ended).toBe(true);
  });
});

describe("Deno: the frames written while one chunk is parsed reach the writer in one write", () => {
  it("the 101 and ten echoes, then the echo and close frame of a closing chunk, each in one write", async () => {
    const writes: Uint8Array[] = [];
    let push: (chunk: Uint8Array) => void = () => {};
    let finish: () => void = () => {};
    const readable = new ReadableStream<Uint8Array>({
      start(controller) {
        push = (chunk) => controller.enqueue(chunk);
        finish = () => controller.close();
      },
    });
    const writable = new WritableStream<Uint8Array>({ write(chunk) { writes.push(chunk.slice()); } });
    const { driver } = accept({ readable, writable });
    const closed = new Promise<number>((resolve) => driver.on("close", ({ code }) => resolve(code)));
    driver.on("connect", () => driver.start());
    driver.on("message", ({ data }) => driver.text(String(data)));
    const messages = Array.from({ length: 10 }, (_, i) => `message ${i}`);
    push(concat(utf8(upgradeRequest()), ...messages.map((payload) => clientFrame({ opcode: 1, payload }))));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(writes).toHaveLength(1);
    expect(split(writes[0]).frames.map((f) => ascii(f.payload))).toEqual(messages);
    push(concat(clientFrame({ opcode: 1, payload: "last" }), clientFrame({ opcode: 8, payload: Uint8Array.from([0x03, 0xe8]) })));
    expect(await closed).toBe(1000);
    finish();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(writes).toHaveLength(2);
    expect(readFrames(writes[1]).map((f) => f.opcode)).toEqual([1, 8]);
  });
});

/**
 * A `Deno.Conn` as the adapter sees it when it has its own `read` and `write`: reads answered from
 * a queue of chunks, writes that take at most `take` bytes each and finish when `settle()` says.
 * Its streams throw: the adapter must not touch them.
 */
class ScriptedConn {
  readonly writes: Uint8Array[] = [];
  closed = false;
  private chunks: Array<Uint8Array | null> = [];
  private reading: ((chunk: Uint8Array | null) => void) | null = null;
  private writing: Array<() => void> = [];

  constructor(private readonly take = Infinity) {}

  get readable(): ReadableStream<Uint8Array> {
    throw new Error("the streams are not to be used");
  }

  get writable(): WritableStream<Uint8Array> {
    throw new Error("the streams are not to be used");
  }

  push(chunk: Uint8Array | null): void {
    if (this.reading !== null) {
      const deliver = this.reading;
      this.reading = null;
      deliver(chunk);
    } else {
      this.chunks.push(chunk);
    }
  }

  read(buffer: Uint8Array): Promise<number | null> {
    const fill = (chunk: Uint8Array | null): number | null => {
      if (chunk === null) return null;
      buffer.set(chunk);
      return chunk.length;
    };
    if (this.chunks.length > 0) return Promise.resolve(fill(this.chunks.shift() as Uint8Array | null));
    return new Promise((resolve) => { this.reading = (chunk) => resolve(fill(chunk)); });
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new Error("closed"));
    const taken = Math.min(bytes.length, this.take);
    this.writes.push(bytes.slice(0, taken));
    return new Promise((resolve) => this.writing.push(() => resolve(taken)));
  }

  /** Finishes the writes under way; true if there were any. */
  settle(): boolean {
    const writing = this.writing;
    this.writing = [];
    for (const done of writing) done();
    return writing.length > 0;
  }

  close(): void {
    this.closed = true;
    this.push(null);
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("Deno: a Deno.Conn is read and written through its own read and write, not its streams", () => {
  it("one write per chunk read, in order, a short write's rest written again, one write at a time", async () => {
    const conn = new ScriptedConn(1000);
    const { driver } = accept(conn);
    driver.on("connect", () => driver.start());
    driver.on("message", ({ data }) => driver.text(String(data)));
    const messages = Array.from({ length: 40 }, (_, i) => `message ${i} `.repeat(5));
    conn.push(concat(utf8(upgradeRequest()), ...messages.map((payload) => clientFrame({ opcode: 1, payload }))));
    await tick();
    // The 101 and forty echoes are one chunk of over 1000 bytes: written 1000 bytes at a time, each
    // write started only once the one before it finished.
    expect(conn.writes).toHaveLength(1);
    while (conn.settle()) await tick();
    expect(conn.writes.length).toBeGreaterThan(2);
    expect(conn.writes.slice(0, -1).every((write) => write.length === 1000)).toBe(true);
    const { frames } = split(concat(...conn.writes));
    expect(frames.map((f) => ascii(f.payload))).toEqual(messages);
  });

  it("says needsDrain while over 64 KiB waits, and drains (event and drained()) once written", async () => {
    const conn = new ScriptedConn();
    const connection = accept(conn);
    const { driver } = connection;
    driver.on("connect", () => driver.start());
    conn.push(utf8(upgradeRequest()));
    await tick();
    conn.settle();
    await tick();
    expect(connection.needsDrain).toBe(false);
    const payload = new Uint8Array(40 * 1024).fill(0x61);
    driver.binary(payload);
    driver.binary(payload);
    expect(connection.needsDrain).toBe(true);
    expect(connection.bufferedAmount).toBeGreaterThan(80 * 1024);
    let drainEvents = 0;
    connection.on("drain", () => drainEvents++);
    let drained = false;
    void connection.drained().then(() => { drained = true; });
    await tick();
    expect(drained).toBe(false);
    while (conn.settle()) await tick();
    expect(drained).toBe(true);
    expect(drainEvents).toBe(1);
    expect(connection.needsDrain).toBe(false);
    expect(connection.bufferedAmount).toBe(0);
  });

  it("writes the close frame before it closes the connection", async () => {
    const conn = new ScriptedConn();
    const { driver } = accept(conn);
    driver.on("connect", () => driver.start());
    conn.push(utf8(upgradeRequest()));
    await tick();
    conn.settle();
    driver.close("bye", 1000);
    await tick();
    expect(conn.closed).toBe(false);
    const last = conn.writes[conn.writes.length - 1];
    expect(readFrames(last).map((f) => f.opcode)).toEqual([8]);
    conn.settle();
    conn.push(clientFrame({ opcode: 8, payload: Uint8Array.from([0x03, 0xe8]) }));
    await tick();
    await tick();
    expect(conn.closed).toBe(true);
  });

  it("a write that fails is an error event, then close 1006", async () => {
    const conn = new ScriptedConn();
    const connection = accept(conn);
    const { driver } = connection;
    const errors: string[] = [];
    connection.on("error", (error) => errors.push(error.message));
    const closed = new Promise<number>((resolve) => driver.on("close", ({ code }) => resolve(code)));
    driver.on("connect", () => driver.start());
    conn.push(utf8(upgradeRequest()));
    await tick();
    conn.settle();
    await tick();
    conn.closed = true;
    driver.text("into the void");
    expect(await closed).toBe(1006);
    expect(errors).toEqual(["closed"]);
  });
});
