// Messages in pieces, to disk and back: a binary and a text message of BENCH_STREAM_BYTES and
// BENCH_STREAM_TEXT_BYTES (default 256 MiB and 64 MiB; the goal is stated for 4 GiB and 1 GiB)
// through a server of ours on the Node adapter over loopback. The client pipes a file into the
// message (`sendStream`), the server pipes the message into a file (`receiveStreams`, receive:
// "stream"), then sends that file back the same way into a third file. Measured in a child process
// of its own: the RSS growth over the process's RSS once connected (peak, sampled every 20 ms; the
// page cache is not RSS), and each leg's throughput (message bytes over the time from the first
// byte sent to the last written to disk). The files are compared outside the timed part.
import { fork } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from "node:fs";
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
      env: { ...process.env, STREAM_SIZES: JSON.stringify(sizes) }, execArgv: ["--expose-gc"],
    });
    child.once("message", (reply) => (reply.ok ? resolve(reply.result) : reject(new Error(reply.error))));
    child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`the streaming benchmark exited with ${code}`))));
  });
}

/** Writes `bytes` of a file from a 4 MiB block (binary: a pseudo-random pattern; text: UTF-8 with multi-byte characters). */
function writeSource(path, bytes, text) {
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

/** Bytes per piece read from a file (one frame each). */
const PIECE = Number(process.env.BENCH_STREAM_PIECE ?? 256 * 1024);

/**
 * A file as a web stream that reads one piece per `pull`. Not `Readable.toWeb(createReadStream())`:
 * on Node 20 that reads ahead as fast as the disk allows, whatever the reader takes (the RSS grew
 * with the message: 286 MiB for 512 MiB), so it would measure the file reader, not the driver.
 */
function fileReadable(path) {
  let file = null;
  return new ReadableStream({
    async start() {
      file = await open(path, "r");
    },
    async pull(controller) {
      const piece = new Uint8Array(PIECE);
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
  }, { highWaterMark: 1 });
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
    });
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
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage.rss());
      const same = sameFiles(source, back);
      const ceiling = timed ? await rawLoopback(Math.min(bytes, 1024 * MiB)) : 0;
      if (timed) result.legs.push({ type, bytes, up: bytes / up, down: bytes / down, rssGrowth: peak - baseline, ceiling, same });
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
