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
  "wsdriver/node": "acceptSocket,acceptUpgrade,attach,connect",
  "wsdriver/deno": "accept,attach,connect",
  "wsdriver/bun": "connect,serverHandlers",
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

describe("the bin entry", () => {
  it("names bin/wsdriver.mjs, which prints its usage", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(manifest.bin).toEqual({ wsdriver: "bin/wsdriver.mjs" });
    expect(manifest.files).toContain("bin");
    expect(node(["bin/wsdriver.mjs", "--help"])).toContain("Usage: wsdriver connect");
  });
});
