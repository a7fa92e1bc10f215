/**
 * Memory: 10,000 messages of the largest size `maxLength` allows, echoed between a client and a
 * server driver, leave the heap where it was — no buffer is retained once its message has been
 * delivered. And a message sent as a great many tiny fragments costs memory in proportion to its
 * length, not to its fragment count. The exchanges run in a child process started with
 * --expose-gc, so each measurement is taken after full collections, undisturbed by the test
 * runner's own heap.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import ts from "typescript";
import { group } from "./peer";

const ROOT = join(__dirname, "..", "..");

/** Compiles `lib/` and the child's sources to CommonJS in `out`, keeping the layout. */
function compile(out: string): void {
  const sources: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) sources.push(path);
    }
  };
  walk(join(ROOT, "lib"));
  sources.push(join(ROOT, "spec", "support", "wire.ts"), join(__dirname, "memory.child.ts"));
  for (const source of sources) {
    const { outputText } = ts.transpileModule(readFileSync(source, "utf8"), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: source,
    });
    const target = join(out, relative(ROOT, source)).replace(/\.ts$/, ".js");
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
}

const MAX_LENGTH = 64 * 1024;
const COUNT = 10_000;
/** Generous: a tenth of a percent of what 10,000 retained messages would hold (655 MB). */
const BOUND = 16 * 1024 * 1024;

/** Runs the compiled child with `args`; returns the JSON it printed last. */
function runChild(out: string, args: string[]): unknown {
  const stdout = execFileSync(process.execPath, ["--expose-gc", join(out, "spec", "conformance", "memory.child.js"), ...args], {
    env: { ...process.env, NODE_PATH: join(ROOT, "node_modules") },
    encoding: "utf8",
  });
  return JSON.parse(stdout.trim().split("\n").pop() as string);
}

let out = "";
beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), "wsdriver-memory-"));
  compile(out);
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

const FRAGMENTS = 200_000;

group("memory", (testCase) => {
  testCase("200 heads trickled one byte at a time hold memory in proportion to what was sent", () => {
    // 8000 bytes each, under the default 16 KiB maxHeaderSize: the head reader's buffer doubles, so
    // it holds at most about twice what arrived, and nothing per byte or per call.
    const result = runChild(out, ["trickle", "8000", "200"]) as { sent: number; held: number };
    process.stdout.write(`memory: 200 trickled heads, ${result.sent} bytes sent, ${result.held} bytes held\n`);
    expect(result.held).toBeLessThan(2.5 * result.sent);
  });

  testCase("a 256 MiB chunk after a partial head is refused without being copied", () => {
    // The chunk is the embedder's already; copying it to look for the end of the head would double it.
    const result = runChild(out, ["flood", String(256 * 2 ** 20)]) as { chunk: number; peakRise: number; events: string[] };
    process.stdout.write(`memory: a ${result.chunk}-byte chunk after a partial head raised the peak by ${result.peakRise} bytes\n`);
    expect(result.events).toEqual(["HTTP head is larger than maxHeaderSize (16384 bytes)"]);
    expect(result.peakRise).toBeLessThan(32 * 2 ** 20);
  });

  testCase("frames trickled one byte at a time before start() hold memory in proportion to what was sent", () => {
    // 50 servers that have read a request and not answered it, each handed a 20,000-byte frame one
    // byte per parse call: each call's chunk used to be kept as it was, over 100 bytes per byte.
    const result = runChild(out, ["early", "20000", "50"]) as { sent: number; held: number; messages: number };
    process.stdout.write(`memory: 50 unanswered servers, ${result.sent} early bytes sent, ${result.held} bytes held\n`);
    expect(result.held).toBeLessThan(2.5 * result.sent);
    expect(result.messages).toBe(50);
  });

  testCase(`an unfinished message of ${FRAGMENTS} one-byte fragments holds under 4 bytes per byte received`, () => {
    // Before: each fragment was held as a view of its input chunk, over 100 bytes per payload byte.
    const result = runChild(out, ["fragments", String(2 ** 20), String(FRAGMENTS)]) as { text: number; binary: number };
    process.stdout.write(`memory: ${FRAGMENTS} one-byte fragments hold ${result.text} bytes (text), ${result.binary} bytes (binary)\n`);
    expect(result.text).toBeLessThan(4 * FRAGMENTS);
    expect(result.binary).toBeLessThan(4 * FRAGMENTS);
  });

  testCase(`${COUNT} messages of maxLength (${MAX_LENGTH} bytes) each leave heap growth under ${BOUND / 2 ** 20} MiB`, () => {
    const result = runChild(out, ["messages", String(MAX_LENGTH), String(COUNT)]) as { received: number; receivedBytes: number; growth: number };
    process.stdout.write(`memory: ${result.received} messages, ${result.receivedBytes} bytes, heap growth ${result.growth} bytes\n`);
    expect(result.received).toBe(COUNT);
    expect(result.receivedBytes).toBe(COUNT * MAX_LENGTH);
    expect(result.growth).toBeLessThan(BOUND);
  });
});
