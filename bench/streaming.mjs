// Messages in pieces, to disk and back: a binary and a text message of BENCH_STREAM_BYTES and
// BENCH_STREAM_TEXT_BYTES (default 256 MiB and 64 MiB; the goal is stated for 4 GiB and 1 GiB)
// through a server of ours on the Node adapter over loopback. The client pipes a file into the
// message (`sendStream`), the server pipes the message into a file (`receiveStreams`, receive:
// "stream"), then sends that file back the same way into a third file; then the same message (up
// to 1 GiB) from memory, counted and dropped at the other end, each way. Measured in a child
// process of its own: the RSS growth over the process's RSS once connected (peak, sampled every 20
// ms; the page cache is not RSS), and each leg's throughput (message bytes over the time from the
// first byte sent to the last written to disk). The ceilings, just after, on the same file: raw
// loopback between two sockets, the disk alone (file to file), and the same file to file over two
// sockets with no WebSocket. The files are compared outside the timed part.
//
// BENCH_STREAM_PIECE (default 1 MiB) and BENCH_STREAM_READ_AHEAD (2) shape the file reader,
// BENCH_STREAM_HIGH_WATER_MARK (1 MiB) what a message's readable holds (`receiveStreams`);
// BENCH_STREAM_EXEC_ARGV passes flags to the child (`--cpu-prof --cpu-prof-dir=…` for a profile).
import { fork } from "node:child_process";
import { closeSync, createReadStream, createWriteStream, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MiB = 1024 * 1024;
export const STREAM = {
  binaryBytes: Number(process.env.BENCH_STREAM_BYTES ?? 256 * MiB),
  textBytes: Number(process.env.BENCH_STREAM_TEXT_BYTES ?? 64 * MiB),
};

/** Runs the measurement in a child process (a fresh RSS baseline); resolves with its figures. */
export function streaming(sizes = STREAM) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ["--child"], {
      env: { ...process.env, STREAM_SIZES: JSON.stringify(sizes) }, execArgv: ["--expose-gc", ...(process.env.BENCH_STREAM_EXEC_ARGV ? process.env.BENCH_STREAM_EXEC_ARGV.split(" ") : [])],
    });
    child.once("message", (reply) => (reply.ok ? resolve(reply.result) : reject(new Error(reply.error))));
    child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`the streaming benchmark exited with ${code}`))));
  });
}

/** The 4 MiB block a message repeats (binary: a pseudo-random pattern; text: whole lines of UTF-8 with multi-byte characters). */
function sourceBlock(text) {
  const block = Buffer.alloc(4 * MiB);
  if (text) {
    const line = Buffer.from("héllo wörld, ☃ and 😀: the quick brown fox jumps over the lazy dog 0123456789\n");
    for (let at = 0; at + line.length <= block.length; at += line.length) line.copy(block, at);
    block.fill(0x20, block.length - (block.length % line.length));
  } else {
    let x = 0x9e3779b9;
    for (let i = 0; i < block.length; i += 4) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      block.writeUInt32LE(x, i);
    }
  }
  return block;
}

/** Writes `bytes` of a file from the source block. */
function writeSource(path, bytes, text) {
  const block = sourceBlock(text);
  const fd = openSync(path, "w");
  try {
    for (let left = bytes; left > 0; left -= block.length) writeSync(fd, block, 0, Math.min(left, block.length));
  } finally {
    closeSync(fd);
  }
}

/** Whether two files hold the same bytes, read 4 MiB at a time. */
function sameFiles(a, b) {
  if (statSync(a).size !== statSync(b).size) return false;
  const fa = openSync(a, "r"), fb = openSync(b, "r");
  const ba = Buffer.alloc(4 * MiB), bb = Buffer.alloc(4 * MiB);
  try {
    for (;;) {
      const na = readSync(fa, ba), nb = readSync(fb, bb);
      if (na !== nb || ba.compare(bb, 0, nb, 0, na) !== 0) return false;
      if (na === 0) return true;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

/**
 * Bytes per piece read from a file (one frame each). 1 MiB: with 256 KiB pieces, 256 MiB went up
 * at 0.46-0.74 GB/s, with 1 MiB at 0.89 (one run each; the frames, the file reads and the web
 * streams' steps per chunk are a quarter as many).
 */
const PIECE = Number(process.env.BENCH_STREAM_PIECE ?? MiB);
/** What a message's readable holds before the transport is paused (`receiveStreams`' default). */
const HIGH_WATER_MARK = Number(process.env.BENCH_STREAM_HIGH_WATER_MARK ?? MiB);
/** Pieces read ahead of the sender, so the next file read overlaps the socket write. */
const READ_AHEAD = Number(process.env.BENCH_STREAM_READ_AHEAD ?? 2);

/**
 * A file as a web stream that reads one piece per `pull`, `READ_AHEAD` pieces ahead at most. Not
 * `Readable.toWeb(createReadStream())`: on Node 20 that reads ahead as fast as the disk allows,
 * whatever the reader takes (the RSS grew with the message: 286 MiB for 512 MiB), so it would
 * measure the file reader, not the driver. Each piece is a fresh buffer (a piece written to a
 * server's message must not change afterwards), uninitialised since the read fills it.
 */
function fileReadable(path) {
  let file = null;
  return new ReadableStream({
    async start() {
      file = await open(path, "r");
    },
    async pull(controller) {
      const piece = Buffer.allocUnsafeSlow(PIECE);
      const { bytesRead } = await file.read(piece, 0, PIECE, null);
      if (bytesRead > 0) controller.enqueue(bytesRead < PIECE ? piece.subarray(0, bytesRead) : piece);
      if (bytesRead < PIECE) {
        await file.close();
        controller.close();
      }
    },
    async cancel() {
      await file?.close();
    },
  }, { highWaterMark: READ_AHEAD });
}

/** A file as a web stream that writes each chunk before taking the next. */
function fileWritable(path) {
  let file = null;
  return new WritableStream({
    async start() {
      file = await open(path, "w");
    },
    async write(chunk) {
      await file.write(chunk);
    },
    async close() {
      await file.close();
    },
    async abort() {
      await file?.close();
    },
  });
}

/** `bytes` of the source block as a web stream of `PIECE`-byte views, made when asked (no disk). */
function memoryReadable(bytes, text) {
  const block = sourceBlock(text);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      const length = Math.min(PIECE, bytes - sent);
      const at = sent % block.length;
      controller.enqueue(block.subarray(at, at + length));
      sent += length;
      if (sent >= bytes) controller.close();
    },
  }, { highWaterMark: 0 });
}

/** A web stream that counts what it is given and drops it. */
function countingWritable(counter) {
  return new WritableStream({
    write(chunk) {
      counter.bytes += chunk.length;
    },
  });
}

/**
 * The disk alone: `source` copied to `target` a piece at a time through the same readable and
 * writable as a leg, no socket. Bytes per second.
 */
async function rawDisk(source, target, bytes) {
  const started = process.hrtime.bigint();
  await fileReadable(source).pipeTo(fileWritable(target));
  return bytes / (Number(process.hrtime.bigint() - started) / 1e9);
}

/**
 * A leg with no WebSocket: `source` read in pieces and written to one socket of this process, the
 * other socket's bytes written to `target` as they come (Node streams, which gather what arrives
 * while a file write is under way into one `writev`). Bytes per second.
 */
async function rawFilePipe(source, target, bytes) {
  let finished;
  const done = new Promise((resolve) => (finished = resolve));
  const server = createServer((socket) => {
    const out = createWriteStream(target, { highWaterMark: MiB });
    socket.pipe(out);
    out.once("finish", finished);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const socket = createConnection(server.address().port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  const started = process.hrtime.bigint();
  createReadStream(source, { highWaterMark: PIECE }).pipe(socket);
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await new Promise((resolve) => server.close(resolve));
  return bytes / seconds;
}

/**
 * The loopback ceiling on this machine at this moment: `bytes` written in 1 MiB chunks from one
 * socket of this process to another, counted and dropped. Bytes per second.
 */
async function rawLoopback(bytes) {
  let received = 0;
  let finished;
  const done = new Promise((resolve) => (finished = resolve));
  const server = createServer((socket) => socket.on("data", (data) => {
    received += data.length;
    if (received >= bytes) finished();
  }));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const socket = createConnection(server.address().port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.setNoDelay(true);
  const chunk = Buffer.alloc(MiB, 0x41);
  const started = process.hrtime.bigint();
  for (let sent = 0; sent < bytes; sent += MiB) {
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once("drain", resolve));
  }
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  socket.destroy();
  await new Promise((resolve) => server.close(resolve));
  return bytes / seconds;
}

async function child() {
  const { acceptSocket, connect } = await import("../dist/esm/adapters/node.js");
  const { receiveStreams, sendStream } = await import("../dist/esm/adapters/streams.js");
  const sizes = JSON.parse(process.env.STREAM_SIZES);
  const dir = mkdtempSync(join(tmpdir(), "wsdriver-bench-stream-"));
  const options = { receive: "stream" };
  let serverSide = null;
  const server = createServer((socket) => {
    serverSide = acceptSocket(socket, options);
    serverSide.driver.on("connect", () => serverSide.driver.start());
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = connect(`ws://127.0.0.1:${server.address().port}/`, options);
  await new Promise((resolve, reject) => {
    client.driver.on("open", resolve);
    client.driver.on("close", ({ code }) => reject(new Error(`closed with ${code}`)));
  });
  const nextMessage = (connection) => new Promise((resolve) => {
    const stop = receiveStreams(connection, (message) => {
      stop();
      resolve(message);
    }, { highWaterMark: HIGH_WATER_MARK });
  });
  /** One leg: `from` pipes `source` into a message, `to` pipes it into `target`; seconds. */
  const leg = async (from, to, type, source, target) => {
    const started = process.hrtime.bigint();
    const incoming = nextMessage(to);
    const sent = fileReadable(source).pipeTo(sendStream(from, type));
    const message = await incoming;
    await Promise.all([sent, message.readable.pipeTo(fileWritable(target))]);
    return Number(process.hrtime.bigint() - started) / 1e9;
  };
  /** The same with no disk: the source block in memory, counted and dropped at the other end; seconds. */
  const memoryLeg = async (from, to, type, bytes) => {
    const started = process.hrtime.bigint();
    const incoming = nextMessage(to);
    const sent = memoryReadable(bytes, type === "text").pipeTo(sendStream(from, type));
    const message = await incoming;
    const counter = { bytes: 0 };
    await Promise.all([sent, message.readable.pipeTo(countingWritable(counter))]);
    if (counter.bytes !== bytes) throw new Error(`${counter.bytes} B of ${bytes} B arrived`);
    return Number(process.hrtime.bigint() - started) / 1e9;
  };
  const result = { sizes, legs: [] };
  try {
    // A warm-up of 16 MiB each way of each kind first, so the figures leave out what the first
    // transfer allocates once (compiled code, the runtime's buffer pools, the heap's first growth).
    for (const [type, bytes, timed] of [["binary", 16 * MiB, false], ["text", 16 * MiB, false], ["binary", sizes.binaryBytes, true], ["text", sizes.textBytes, true]]) {
      const source = join(dir, `${type}.src`), atServer = join(dir, `${type}.server`), back = join(dir, `${type}.back`);
      writeSource(source, bytes, type === "text");
      globalThis.gc();
      const baseline = process.memoryUsage.rss();
      let peak = baseline;

      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage.rss());
      }, 20);
      const up = await leg(client, serverSide, type, source, atServer);
      const down = await leg(serverSide, client, type, atServer, back);
      const memoryBytes = Math.min(bytes, 1024 * MiB);
      const memoryUp = memoryBytes / await memoryLeg(client, serverSide, type, memoryBytes);
      const memoryDown = memoryBytes / await memoryLeg(serverSide, client, type, memoryBytes);
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage.rss());
      const same = sameFiles(source, back);
      let ceiling = 0, disk = 0, filePipe = 0;
      if (timed) {
        // The ceilings just after the legs, on the same file: loopback alone, the disk alone, both.
        const ceilingBytes = Math.min(bytes, 1024 * MiB);
        ceiling = await rawLoopback(ceilingBytes);
        // Into a new file: truncating the one the leg wrote would time the kernel dropping its pages.
        rmSync(atServer, { force: true });
        disk = await rawDisk(source, atServer, bytes);
        rmSync(atServer, { force: true });
        filePipe = await rawFilePipe(source, atServer, bytes);
      }
      if (timed) result.legs.push({ type, bytes, up: bytes / up, down: bytes / down, memoryBytes, memoryUp, memoryDown, rssGrowth: peak - baseline, ceiling, disk, filePipe, same });
      for (const path of [source, atServer, back]) rmSync(path, { force: true });
    }
  } finally {
    client.socket.destroy();
    serverSide?.socket.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

if (process.argv.includes("--child")) {
  child().then(
    (result) => process.send({ ok: true, result }, () => process.exit(0)),
    (error) => process.send({ ok: false, error: String(error?.stack ?? error) }, () => process.exit(1)),
  );
}
