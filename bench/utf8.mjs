// Part "utf8": the ways the core can decode a text message and check it is UTF-8
// (lib/util/utf8.ts): the fatal `TextDecoder` alone, the core's default (short ASCII built in
// JavaScript, the rest by the fatal decoder), and decoding by replacement with a check for U+FFFD
// (short ASCII first too). Runs as it is under Node, Deno and Bun (`node bench/utf8.mjs`, `deno run bench/utf8.mjs`,
// `bun bench/utf8.mjs`) and prints one JSON line: messages per second for each way, per size.
// Each runtime's entry installs the faster of the two for that runtime (lib/*/fast-paths.ts).
const dist = new URL("../dist/esm/util/utf8.js", import.meta.url);
// The seam is empty here (no runtime entry is loaded), so decodeUtf8 is the core's default.
const { decodeUtf8, decodeUtf8ByReplacement, decodeUtf8Fatal } = await import(dist.href);

export const UTF8_SIZES = [16, 64, 1024, 16 * 1024];
const DISTINCT = 256;

/** DISTINCT messages of `size` bytes: ASCII, or text with a two-byte character every 7 bytes. */
function messages(size, mixed) {
  const bytes = new Uint8Array(size * (DISTINCT + 1));
  for (let i = 0; i < bytes.length; i++) bytes[i] = 97 + (i % 26);
  if (mixed) for (let i = 0; i + 1 < bytes.length; i += 7) { bytes[i] = 0xc3; bytes[i + 1] = 0xa9; }
  const out = [];
  for (let m = 0; m < DISTINCT; m++) {
    // Start and end on whole characters: a view never begins with a continuation byte.
    let start = m * size, end = start + size;
    while ((bytes[start] & 0xc0) === 0x80) start++;
    while ((bytes[end] & 0xc0) === 0x80) end--;
    out.push(bytes.subarray(start, end));
  }
  return out;
}

function rate(decode, views, seconds) {
  let count = 0, length = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < 1000; i++) length += decode(views[i % DISTINCT]).length;
    count += 1000;
    elapsed = (performance.now() - start) / 1000;
  } while (elapsed < seconds);
  if (length === 0) throw new Error("nothing decoded");
  return count / elapsed;
}

const ways = { fatal: decodeUtf8Fatal, core: decodeUtf8, replacement: decodeUtf8ByReplacement };
const result = {};
for (const mixed of [false, true]) {
  for (const size of UTF8_SIZES) {
    const views = messages(size, mixed);
    const names = Object.keys(ways);
    const samples = Object.fromEntries(names.map((n) => [n, []]));
    for (let round = -1; round < 5; round++) {
      for (const name of round % 2 ? names : [...names].reverse()) {
        const value = rate(ways[name], views, 0.1);
        if (round >= 0) samples[name].push(value);
      }
    }
    const median = (list) => list.sort((a, b) => a - b)[list.length >> 1];
    result[`${mixed ? "mixed" : "ASCII"} ${size < 1024 ? `${size} B` : `${size / 1024} KiB`}`] = Object.fromEntries(names.map((n) => [n, median(samples[n])]));
  }
}
console.log(JSON.stringify(result));
