/**
 * The package as a user gets it. `npm pack` on a copy of the repository's files (the clean-clone
 * case: no dist/ there) must build the code into the tarball through the `prepare` script. The
 * tarball installs into a scratch project (its two dependencies come from npm's cache, or the
 * registry), where every entry of the `exports` map loads as an ES module and as CommonJS on every
 * Node line CI has (the machine's, 22, 24 and 26), on Deno and on Bun, exports the names its source
 * module exports, and type-checks with `tsc` under `node16` (from an `.mts` and a `.cts` file) and
 * `bundler` resolution. publint and @arethetypeswrong/cli find nothing.
 *
 * The entries are read from package.json, so a subpath added to `exports` is covered here at once.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BUN, DENO, ROOT } from "../adapters/runtimes/child";

interface Manifest {
  name: string;
  main: string;
  module: string;
  types: string;
  typesVersions?: Record<string, Record<string, string[]>>;
  exports: Record<string, unknown>;
  bin: Record<string, string>;
}

const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Manifest;

/** Every string a conditions object leads to, in order (`exports` values nest conditions). */
function targets(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (value && typeof value === "object") return Object.values(value).flatMap(targets);
  return [];
}

interface Entry {
  /** What a user writes: `wsdriver`, `wsdriver/node` … */
  specifier: string;
  /** The `exports` key: `.`, `./node` … */
  key: string;
  json: boolean;
  /** The files the conditions lead to (JavaScript and declarations). */
  files: string[];
}

const ENTRIES: Entry[] = Object.entries(manifest.exports).map(([key, value]) => ({
  specifier: key === "." ? manifest.name : `${manifest.name}/${key.slice(2)}`,
  key,
  json: targets(value).every((file) => file.endsWith(".json")),
  files: targets(value),
}));
const MODULES = ENTRIES.filter((entry) => !entry.json);

/**
 * The names an entry must export: those every source module behind its conditions exports
 * (`dist/cjs/adapters/node.js` comes from `lib/adapters/node.ts`), read by loading the sources here.
 */
function expectedNames(entry: Entry): string[] {
  const sources = [...new Set(entry.files.filter((file) => file.endsWith(".js"))
    .map((file) => file.replace(/^\.\/dist\/(esm|cjs)\/(.*)\.js$/, "lib/$2.ts")))];
  const sets = sources.map((source) => {
    expect(existsSync(join(ROOT, source))).toBe(true);
    return new Set(Object.keys(require(join(ROOT, source)) as object));
  });
  return [...sets[0]].filter((name) => sets.every((set) => set.has(name))).sort();
}

interface Result { code: number | null; stdout: string; stderr: string }

function exec(command: string, args: string[], cwd: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }));
  });
}

/** Fails with the command's output when it did not exit 0. */
async function ok(command: string, args: string[], cwd: string): Promise<string> {
  const result = await exec(command, args, cwd);
  if (result.code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

// A server driver answering an RFC 6455 §4.2.2 opening handshake: the loaded code works, not only loads.
const HANDSHAKE = `(Driver) => {
  const chunks = [];
  const server = Driver.server({ write: (chunk) => chunks.push(chunk) });
  server.on("connect", () => server.start());
  server.parse(new TextEncoder().encode("GET / HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n"));
  return new TextDecoder().decode(chunks[0]).split("\\r\\n")[0];
}`;

/** A script that loads every entry with `import()` (ESM) or `require` (CommonJS) and prints what each exports. */
function probe(format: "esm" | "cjs"): string {
  const load = (entry: Entry): string => {
    const name = JSON.stringify(entry.specifier);
    if (format === "cjs") return entry.json ? `require(${name}).name` : `Object.keys(require(${name})).sort()`;
    return entry.json ? `(await import(${name}, { with: { type: "json" } })).default.name` : `Object.keys(await import(${name})).sort()`;
  };
  const root = format === "cjs" ? `require(${JSON.stringify(manifest.name)})` : `(await import(${JSON.stringify(manifest.name)}))`;
  const lines = ENTRIES.map((entry) => `out[${JSON.stringify(entry.specifier)}] = ${load(entry)};`);
  const body = ["const out = {};", ...lines, `out.handshake = (${HANDSHAKE})(${root}.Driver);`, "console.log(JSON.stringify(out));"];
  return format === "esm" ? `${body.join("\n")}\n` : `"use strict";\n(() => {\n${body.join("\n")}\n})();\n`;
}

/** A TypeScript file importing every module entry; each must be typed (not `any`), and the root's `Driver` checked. */
function typeProbe(): string {
  const imports = MODULES.map((entry, i) => `import * as entry${i} from ${JSON.stringify(entry.specifier)};`);
  const checks = MODULES.map((_, i) => `export const typed${i}: IsAny<typeof entry${i}> = false;`);
  const root = MODULES.findIndex((entry) => entry.key === ".");
  return [
    ...imports,
    "type IsAny<T> = 0 extends 1 & T ? true : false;",
    ...checks,
    `export const server: entry${root}.ServerDriver = entry${root}.Driver.server({ write: (chunk: Uint8Array) => chunk.length });`,
    "// @ts-expect-error: a server driver needs an object with write(), which a number is not",
    `entry${root}.Driver.server(42);`,
    "",
  ].join("\n");
}

// Node lines: the one running this spec, and the binaries CI installs (devDependencies node22 …).
const NODES: Array<[string, string]> = [[`Node ${process.version}`, process.execPath]];
for (const line of ["node22", "node24", "node26"]) {
  const binary = join(ROOT, "node_modules", line, "bin/node");
  if (existsSync(binary) && binary !== process.execPath) NODES.push([`Node ${line.slice(4)}`, binary]);
}
const RUNTIMES: Array<[string, string, string[]]> = [
  ...NODES.map(([name, binary]): [string, string, string[]] => [name, binary, []]),
  ["Deno", DENO, ["run", "--quiet", "--allow-read", "--allow-env"]],
  ["Bun", BUN, []],
];

let work = "";
let app = "";
let tarball = "";
let packed: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "wsdriver-pack-"));
  // The repository's files as a clone has them (tracked, or new and not ignored): no dist/.
  const source = join(work, "source");
  const files = (await ok("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT)).split("\0");
  for (const file of files) {
    if (file === "" || !existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(source, file)), { recursive: true });
    cpSync(join(ROOT, file), join(source, file));
  }
  expect(existsSync(join(source, "dist"))).toBe(false);
  // A checkout where `npm run docs` ran: the generated pages must stay out of the tarball.
  mkdirSync(join(source, "docs/api"), { recursive: true });
  writeFileSync(join(source, "docs/api/index.html"), "<!doctype html>\n");
  symlinkSync(join(ROOT, "node_modules"), join(source, "node_modules"), "dir");
  const [pack] = JSON.parse(await ok("npm", ["pack", "--json", "--pack-destination", work], source)) as
    Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(work, pack.filename);
  packed = pack.files.map((file) => file.path);

  app = join(work, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true }) + "\n");
  await ok("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], app);
  writeFileSync(join(app, "probe.mjs"), probe("esm"));
  writeFileSync(join(app, "probe.cjs"), probe("cjs"));
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("npm pack", () => {
  it("builds the code into the tarball: every file package.json points at is in it", () => {
    const named = [
      manifest.main, manifest.module, manifest.types, ...Object.values(manifest.bin),
      ...ENTRIES.flatMap((entry) => entry.files),
      ...Object.values(manifest.typesVersions?.["*"] ?? {}).flat(),
    ].map((file) => file.replace(/^\.\//, ""));
    expect(named.filter((file) => !packed.includes(file))).toEqual([]);
    expect(packed).toEqual(expect.arrayContaining(["README.md", "LICENSE", "CHANGELOG.md", "package.json"]));
  });

  it("ships no sources, specs or generated API pages", () => {
    expect(packed.filter((file) => /^(lib|spec|scripts|bench|demo|docs\/api)\//.test(file))).toEqual([]);
  });

  it("maps each subpath in typesVersions to its CommonJS declarations, for TypeScript's node10 resolution", () => {
    // node10 resolution (moduleResolution "node") does not read `exports`; typesVersions stands in.
    const expected = Object.fromEntries(MODULES.filter((entry) => entry.key !== ".").map((entry) => {
      const declarations = entry.files.filter((file) => file.startsWith("./dist/cjs/") && file.endsWith(".d.ts"));
      return [entry.key.slice(2), declarations.slice(0, 1)];
    }));
    expect(manifest.typesVersions).toEqual({ "*": expected });
  });
});

describe.each(RUNTIMES)("the installed package on %s", (_name, command, args) => {
  it.each(["esm", "cjs"] as const)("loads every entry of the exports map (%s)", async (format) => {
    const { code, stdout, stderr } = await exec(command, [...args, `probe.${format === "esm" ? "mjs" : "cjs"}`], app);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const loaded = JSON.parse(stdout) as Record<string, unknown>;
    const expected: Record<string, unknown> = { handshake: "HTTP/1.1 101 Switching Protocols" };
    for (const entry of ENTRIES) expected[entry.specifier] = entry.json ? manifest.name : expectedNames(entry);
    expect(loaded).toEqual(expected);
  }, 60_000);
});

describe("the installed package's types", () => {
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  const options = {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    target: "ES2022",
    lib: ["ES2022"],
    types: ["node"],
    typeRoots: [join(ROOT, "node_modules/@types")],
  };
  const CONFIGS = [
    ["node16", { module: "node16", moduleResolution: "node16" }, ["types.mts", "types.cts"]],
    ["bundler", { module: "esnext", moduleResolution: "bundler" }, ["types.ts"]],
  ] as const;
  // Both checks start at once (each reads all of @types/node) and each test waits for its own.
  const checks = new Map<string, Promise<Result>>();
  beforeAll(() => {
    for (const [name, resolution, files] of CONFIGS) {
      const dir = join(app, `types-${name}`);
      mkdirSync(dir, { recursive: true });
      for (const file of files) writeFileSync(join(dir, file), typeProbe());
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { ...options, ...resolution }, files }, null, 2));
      checks.set(name, exec(process.execPath, [tsc, "-p", dir], dir));
    }
  });

  it.each(CONFIGS.map(([name]) => name))("check with tsc under %s resolution", async (name) => {
    const { code, stdout } = await (checks.get(name) as Promise<Result>);
    expect({ code, stdout }).toEqual({ code: 0, stdout: "" });
  }, 120_000);
});

describe("package linters", () => {
  it("publint reports nothing, suggestions included", async () => {
    const script = `import { publint } from "publint";
      import { formatMessage } from "publint/utils";
      const result = await publint({ pkgDir: ${JSON.stringify(join(app, "node_modules", manifest.name))}, pack: false, level: "suggestion" });
      console.log(JSON.stringify(result.messages.map((message) => formatMessage(message, result.pkg, { color: false }))));`;
    const messages = JSON.parse(await ok(process.execPath, ["--input-type=module", "-e", script], ROOT)) as string[];
    expect(messages).toEqual([]);
  }, 60_000);

  it("@arethetypeswrong/cli finds no problem under node10, node16 (CommonJS and ESM) or bundler resolution", async () => {
    const { stdout } = await exec(process.execPath, [join(ROOT, "node_modules/@arethetypeswrong/cli/dist/index.js"), tarball, "--format", "json"], ROOT);
    const report = JSON.parse(stdout) as { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> } };
    expect(report.analysis.problems).toEqual([]);
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(ENTRIES.map((entry) => entry.key).sort());
  }, 120_000);
});
