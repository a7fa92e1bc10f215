/**
 * The adapters as published: `wsdriver/node`, `wsdriver/deno` and `wsdriver/bun` resolve through the
 * package's `exports` map to the build in dist/, as ES modules and as CommonJS, and the command-line
 * client is the package's `bin`.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBuilt } from "../support/build";

const ROOT = join(__dirname, "../..");
const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" }).trim();

const EXPECTED = {
  "wsdriver/node": "TimeoutError,acceptSocket,acceptStream,acceptUpgrade,attach,connect,connectHttp2",
  "wsdriver/deno": "TimeoutError,accept,attach,connect",
  "wsdriver/bun": "TimeoutError,connect,serverHandlers",
  "wsdriver/streams": "receiveStreams,sendStream",
};

beforeAll(() => ensureBuilt(), 120_000);

describe.each(Object.entries(EXPECTED))("%s", (specifier, names) => {
  it("imports as an ES module", () => {
    const code = `const m = await import(${JSON.stringify(specifier)}); console.log(Object.keys(m).filter((k) => typeof m[k] === "function").sort().join());`;
    expect(node(["--input-type=module", "-e", code])).toBe(names);
  });

  it("requires as CommonJS", () => {
    const code = `const m = require(${JSON.stringify(specifier)}); console.log(Object.keys(m).filter((k) => typeof m[k] === "function").sort().join());`;
    expect(node(["-e", code])).toBe(names);
  });
});

describe("wsdriver on Node: the core with Node's fast paths, through the `node` export condition", () => {
  // What the core's seam holds once the package's main entry has loaded, seen from the build itself.
  const probe = (load: string, env: Record<string, string> = {}) => execFileSync(process.execPath, ["--input-type=module", "-e", `
    ${load}
    const { fastPaths } = await import("./dist/esm/util/fast-paths.js");
    console.log(JSON.stringify({ exports: typeof Driver, unmask: fastPaths.unmask !== null, mask: fastPaths.mask !== null, alloc: fastPaths.allocUninitialised !== null }));
  `], { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } }).trim();

  it("import installs bufferutil's masking and uninitialised buffers", () => {
    expect(JSON.parse(probe(`const { Driver } = await import("wsdriver");`))).toEqual({ exports: "object", unmask: true, mask: true, alloc: true });
  });

  it("require of the CommonJS build installs them in that build", () => {
    const code = `const { Driver } = require("wsdriver"); const { fastPaths } = require("./dist/cjs/util/fast-paths.js");
      console.log(JSON.stringify({ exports: typeof Driver, unmask: fastPaths.unmask !== null, alloc: fastPaths.allocUninitialised !== null }));`;
    expect(JSON.parse(node(["-e", code]))).toEqual({ exports: "object", unmask: true, alloc: true });
  });

  it("WSDRIVER_NO_FAST_PATHS=1 leaves the pure core", () => {
    expect(JSON.parse(probe(`const { Driver } = await import("wsdriver");`, { WSDRIVER_NO_FAST_PATHS: "1" }))).toEqual({ exports: "object", unmask: false, mask: false, alloc: false });
  });

  it("the build's core entry alone (what non-Node runtimes load) installs nothing", () => {
    expect(JSON.parse(probe(`const { Driver } = await import("./dist/esm/index.js");`))).toEqual({ exports: "object", unmask: false, mask: false, alloc: false });
  });
});

describe("wsdriver on Deno: the core with Deno's fast paths, through the `deno` export condition", () => {
  const DENO = join(ROOT, "node_modules/.bin/deno");
  // Which UTF-8 decoder the core's seam holds once the package's main entry has loaded on Deno.
  const probe = (flags: string[], env: Record<string, string> = {}) => execFileSync(DENO, ["eval", ...flags, `
    const { Driver } = await import("wsdriver");
    const { fastPaths } = await import("./dist/esm/util/fast-paths.js");
    console.log(JSON.stringify({ exports: typeof Driver, decodeUtf8: fastPaths.decodeUtf8?.name ?? null, unmask: fastPaths.unmask !== null }));
  `], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env } }).trim();

  it("import installs decoding by replacement, and nothing of Node's", () => {
    expect(JSON.parse(probe([]))).toEqual({ exports: "object", decodeUtf8: "decodeUtf8ByReplacement", unmask: false });
  });

  it("WSDRIVER_NO_FAST_PATHS=1 leaves the pure core when the variable may be read", () => {
    expect(JSON.parse(probe(["--allow-env=WSDRIVER_NO_FAST_PATHS"], { WSDRIVER_NO_FAST_PATHS: "1" }))).toEqual({ exports: "object", decodeUtf8: null, unmask: false });
  });

  it("wsdriver/deno installs the same, for a program that imports only the adapter", () => {
    const out = execFileSync(DENO, ["eval", `
      await import("wsdriver/deno");
      const { fastPaths } = await import("./dist/esm/util/fast-paths.js");
      console.log(fastPaths.decodeUtf8?.name ?? null);
    `], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } }).trim();
    expect(out).toBe("decodeUtf8ByReplacement");
  });
});

describe("wsdriver on Bun: the core with Bun's fast paths, through the `bun` export condition", () => {
  const BUN = join(ROOT, "node_modules/.bin/bun");
  const probe = (load: string, env: Record<string, string> = {}) => execFileSync(BUN, ["-e", `
    ${load}
    const { fastPaths } = await import("./dist/esm/util/fast-paths.js");
    console.log(JSON.stringify({ decodeUtf8: fastPaths.decodeUtf8?.name ?? null, unmask: fastPaths.unmask !== null }));
  `], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env } }).trim();

  it("import installs the fatal decoder alone, and nothing of Node's", () => {
    expect(JSON.parse(probe(`await import("wsdriver");`))).toEqual({ decodeUtf8: "decodeUtf8Fatal", unmask: false });
  });

  it("wsdriver/bun installs the same, for a program that imports only the adapter", () => {
    expect(JSON.parse(probe(`await import("wsdriver/bun");`))).toEqual({ decodeUtf8: "decodeUtf8Fatal", unmask: false });
  });

  it("WSDRIVER_NO_FAST_PATHS=1 leaves the pure core", () => {
    expect(JSON.parse(probe(`await import("wsdriver");`, { WSDRIVER_NO_FAST_PATHS: "1" }))).toEqual({ decodeUtf8: null, unmask: false });
  });
});

describe("wsdriver/deno and wsdriver/bun lend the core their runtime's isUtf8 (and Bun's uninitialised memory)", () => {
  // Each runtime loads the build's adapter and reports what the core's seam holds.
  const code = (adapter: string) => `await import(${JSON.stringify(join(ROOT, "dist/esm/adapters", adapter))});
    const { fastPaths } = await import(${JSON.stringify(join(ROOT, "dist/esm/util/fast-paths.js"))});
    console.log(JSON.stringify({ isUtf8: fastPaths.validUtf8 !== null && fastPaths.validUtf8(new Uint8Array([0xce, 0xba])) && !fastPaths.validUtf8(new Uint8Array([0xc0, 0x80])), unmask: fastPaths.unmask !== null, alloc: fastPaths.allocUninitialised !== null }));`;
  const run = (runtime: "deno" | "bun", env: Record<string, string> = {}): unknown => {
    const bin = join(ROOT, "node_modules/.bin", runtime);
    const args = runtime === "deno" ? ["eval", "--no-check", code("deno.js")] : ["-e", code("bun.js")];
    return JSON.parse(execFileSync(bin, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] }).trim());
  };

  it("deno: isUtf8, which refuses an overlong sequence; masking and allocation stay pure", () => {
    expect(run("deno")).toEqual({ isUtf8: true, unmask: false, alloc: false });
  });

  it("bun: isUtf8, which refuses an overlong sequence, and uninitialised memory; masking stays pure", () => {
    expect(run("bun")).toEqual({ isUtf8: true, unmask: false, alloc: true });
  });

  it.each(["deno", "bun"] as const)("%s: WSDRIVER_NO_FAST_PATHS=1 leaves the pure check", (runtime) => {
    expect(run(runtime, { WSDRIVER_NO_FAST_PATHS: "1" })).toEqual({ isUtf8: false, unmask: false, alloc: false });
  });
});

describe("the bin entry", () => {
  it("names bin/wsdriver.mjs, which prints its usage", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(manifest.bin).toEqual({ wsdriver: "bin/wsdriver.mjs" });
    expect(manifest.files).toContain("bin");
    expect(node(["bin/wsdriver.mjs", "--help"])).toContain("Usage: wsdriver connect");
  });
});
