// Part 1: parsing. A server reads masked client frames (RFC 6455 §5.3) fed in 64 KiB chunks and
// emits a message event for each. Every parser gets a fresh copy of the input for every run,
// because parsers unmask in place.
import { UPGRADE_HEADERS, asciiText, frameBytes, now, randomBytes, seconds } from "./common.mjs";
import { Receiver, applyMask, bufferUtil, fastPaths, ours, useFastPaths, websocketDriver } from "./peers.mjs";

export const CHUNK = 64 * 1024;

export const PARSE_WORKLOADS = [
  { name: "text 16 B × 500k", opcode: 1, size: 16, count: 500_000, distinct: 1000 },
  { name: "binary 1 KiB × 100k", opcode: 2, size: 1024, count: 100_000, distinct: 100 },
  { name: "binary 64 KiB × 4k", opcode: 2, size: 64 * 1024, count: 4_000, distinct: 16 },
  { name: "binary 16 MiB × 16", opcode: 2, size: 16 * 1024 * 1024, count: 16, distinct: 1 },
];

/** The whole stream of masked frames for a workload: `distinct` different frames, repeated. */
export function buildInput(workload) {
  const frames = [];
  for (let i = 0; i < workload.distinct; i++) {
    const payload = workload.opcode === 1
      ? Buffer.from(asciiText(workload.size, i + 1), "latin1")
      : randomBytes(workload.size, i + 1);
    frames.push(frameBytes(workload.opcode, payload, randomBytes(4, 1000 + i)));
  }
  const block = Buffer.concat(frames);
  const repeats = workload.count / workload.distinct;
  const input = Buffer.allocUnsafeSlow(block.length * repeats);
  for (let r = 0; r < repeats; r++) input.set(block, r * block.length);
  return input;
}

/** A fresh copy of the input cut into 64 KiB chunks, as a socket would deliver it. */
export function freshChunks(input) {
  const copy = Buffer.allocUnsafeSlow(input.length);
  copy.set(input);
  const chunks = [];
  for (let at = 0; at < copy.length; at += CHUNK) chunks.push(copy.subarray(at, Math.min(at + CHUNK, copy.length)));
  return chunks;
}

function feed(chunks, parse) {
  const start = now();
  for (let i = 0; i < chunks.length; i++) parse(chunks[i]);
  return seconds(start);
}

const sink = { write() { return true; } };

export const PARSERS = {
  wsdriver(chunks) {
    const driver = ours.Driver.fromRequest({ method: "GET", url: "/", headers: UPGRADE_HEADERS }, sink);
    let messages = 0;
    driver.on("message", () => { messages++; });
    driver.on("error", (error) => { throw error; });
    driver.start();
    return { seconds: feed(chunks, (chunk) => driver.parse(chunk)), messages };
  },

  ws(chunks) {
    const receiver = new Receiver({ isServer: true, maxPayload: 0 });
    let messages = 0;
    receiver.on("message", () => { messages++; });
    receiver.on("error", (error) => { throw error; });
    return { seconds: feed(chunks, (chunk) => receiver.write(chunk)), messages };
  },

  "websocket-driver"(chunks) {
    const driver = websocketDriver.http({ method: "GET", url: "/", headers: UPGRADE_HEADERS }, { maxLength: 2 ** 26 });
    let messages = 0;
    driver.on("message", () => { messages++; });
    driver.on("error", (event) => { throw event.message; });
    driver.io.on("data", () => {});
    driver.start();
    return { seconds: feed(chunks, (chunk) => driver.parse(chunk)), messages };
  },
};

/** Runs one parser over a fresh copy of `input`; checks that every message arrived. */
export function runParser(name, workload, input) {
  const chunks = freshChunks(input);
  const result = PARSERS[name](chunks);
  if (result.messages !== workload.count) {
    throw new Error(`${name} emitted ${result.messages} messages for ${workload.name}, expected ${workload.count}`);
  }
  return { seconds: result.seconds, bytes: input.length, messages: workload.count };
}

/**
 * The floor and the masking cost on the same bytes: a plain copy of the input (memcpy), our in-place
 * unmasking of it in 64 KiB pieces, and bufferutil's native unmasking of the same pieces. Then what
 * holding each message costs before a byte of it is unmasked: a buffer of the message's size per
 * message, filled by a copy, allocated zero-filled (`new Uint8Array`, all the core can use) or
 * uninitialised (`Buffer.allocUnsafe`, what ws uses).
 */
export function runBaselines(input, workload) {
  const copy = Buffer.allocUnsafeSlow(input.length);
  copy.set(input); // touch every page first, so the timed copy measures the copy alone
  let start = now();
  copy.set(input);
  const memcpy = seconds(start);
  const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
  // Our pure unmasking, with the Node entry's native masking set aside for the measurement.
  const installed = { ...fastPaths };
  useFastPaths();
  start = now();
  for (let at = 0; at < copy.length; at += CHUNK) {
    applyMask(copy.subarray(at, Math.min(at + CHUNK, copy.length)), key, at & 3);
  }
  const unmask = seconds(start);
  useFastPaths(installed);
  let nativeUnmask = NaN;
  if (bufferUtil !== null) {
    const keyBuffer = Buffer.from(key);
    start = now();
    // CHUNK is a multiple of 4, so every piece starts on key byte 0, as bufferutil's unmask assumes.
    for (let at = 0; at < copy.length; at += CHUNK) bufferUtil.unmask(copy.subarray(at, Math.min(at + CHUNK, copy.length)), keyBuffer);
    nativeUnmask = seconds(start);
  }
  const payload = input.subarray(0, workload.size);
  start = now();
  for (let i = 0; i < workload.count; i++) new Uint8Array(workload.size).set(payload);
  const zeroFilled = seconds(start);
  start = now();
  for (let i = 0; i < workload.count; i++) Buffer.allocUnsafe(workload.size).set(payload);
  const uninitialised = seconds(start);
  return { memcpy, unmask, nativeUnmask, zeroFilled, uninitialised, bytes: input.length, payloadBytes: workload.size * workload.count };
}
