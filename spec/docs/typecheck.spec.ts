/**
 * Every TypeScript block of README.md and docs/ compiles, strict, against the built package as a user
 * installs it: `wsdriver`, `wsdriver/node` … resolve through the `exports` of package.json to
 * dist/esm/*.d.ts (a scratch project whose node_modules/wsdriver links to this checkout).
 * A block marked `<!-- fragment: a, b -->` gets a declaration of each name listed (FREE_NAMES);
 * the Deno and Bun runtimes' own globals (and `bun:test`) get the small declarations below, since
 * their type definitions are not installed.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { ensureBuilt } from "../support/build";
import { type Block, allBlocks, label, ROOT } from "./blocks";

/** What a fragment's free names stand for: the declarations a reader would have in scope. */
export const FREE_NAMES: Record<string, string> = {
  socket: `declare const socket: import("node:net").Socket;`,
  rawSocket: `declare const rawSocket: import("node:net").Socket;`,
  tlsSocket: `declare const tlsSocket: import("node:tls").TLSSocket;`,
  request: `declare const request: import("node:http").IncomingMessage;`,
  head: `declare const head: Buffer;`,
  server: `declare const server: import("node:http").Server;`,
  io: `declare const io: { write(bytes: Uint8Array): void };`,
  driver: `declare const driver: import("wsdriver").ServerDriver;`,
  key: `declare const key: string;`,
  cert: `declare const cert: string;`,
  myCaCert: `declare const myCaCert: string;`,
  myCaPem: `declare const myCaPem: string;`,
  chunks: `declare const chunks: Uint8Array[];`,
  url: `declare const url: string;`,
  proxyUrl: `declare const proxyUrl: string;`,
  connectThroughProxy: `import { connectThroughProxy } from "wsdriver/node-proxy";`,
  Driver: `import { Driver } from "wsdriver";`,
  attach: `import { attach } from "wsdriver/node";`,
  acceptUpgrade: `import { acceptUpgrade } from "wsdriver/node";`,
  file: `declare const file: import("node:fs").WriteStream;`,
  source: `declare const source: AsyncIterable<Uint8Array>;`,
  fileStream: `declare function fileStream(path: string): ReadableStream<Uint8Array>;`,
  "connection:node": `declare const connection: import("wsdriver/node").Connection<import("wsdriver").ServerDriver>;`,
  "connection:deno": `declare const connection: ReturnType<typeof import("wsdriver/deno").accept>;`,
  "connection:bun": `declare const connection: ReturnType<typeof import("wsdriver/bun").connect>;`,
};

/** The parts of Deno's and Bun's globals the docs use, as their runtimes define them. */
const RUNTIME_GLOBALS = `
declare global {
  namespace Deno {
    interface Conn {
      readonly readable: ReadableStream<Uint8Array>;
      readonly writable: WritableStream<Uint8Array>;
      close(): void;
    }
    interface Listener extends AsyncIterable<Conn> { readonly addr: { port: number } }
    function listen(options: { hostname?: string; port: number }): Listener;
    function test(name: string, fn: () => void | Promise<void>): void;
  }
  const Bun: {
    listen<T>(options: { hostname?: string; port: number; socket: T; tls?: unknown }): { port: number; stop(): void };
  };
}
export {};
`;

/** The part of bun:test the docs use (testing.md). */
const BUN_TEST = `
declare module "bun:test" {
  export function test(name: string, fn: () => void | Promise<void>): void;
  export const expect: typeof import("@jest/globals").expect;
}
`;

const blocks = allBlocks().filter((block) => block.lang === "ts" || block.lang === "js");

function source(block: Block): string {
  const prelude = (block.fragment ?? []).map((name) => {
    const declaration = FREE_NAMES[name];
    if (!declaration) throw new Error(`${label(block)}: the fragment mark names ${name}, which FREE_NAMES does not declare`);
    return declaration;
  });
  // `export {}` keeps each block a module of its own, as a user's file would be.
  return `${prelude.join("\n")}\n${block.code}\nexport {};\n`;
}

describe("the docs' TypeScript blocks compile against the built package", () => {
  let dir: string;
  let diagnostics: Map<string, string[]>;

  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), "wsdriver-docs-"));
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(ROOT, join(dir, "node_modules/wsdriver"), "dir");
    // The engine a doc shows for runtimes without node:zlib (docs/extensions.md), a devDependency.
    symlinkSync(join(ROOT, "node_modules/pako"), join(dir, "node_modules/pako"), "dir");
    writeFileSync(join(dir, "runtime-globals.d.ts"), RUNTIME_GLOBALS);
    writeFileSync(join(dir, "bun-test.d.ts"), BUN_TEST);
    // testing.md's jest example imports @jest/globals, which a jest project has installed.
    mkdirSync(join(dir, "node_modules/@jest"));
    symlinkSync(join(ROOT, "node_modules/@jest/globals"), join(dir, "node_modules/@jest/globals"), "dir");
    const names = new Map<string, Block>();
    blocks.forEach((block, index) => {
      if (block.skip) return;
      names.set(join(dir, `block-${index}.${block.lang === "js" ? "mjs" : "mts"}`), block);
    });
    for (const [name, block] of names) writeFileSync(name, source(block));
    const program = ts.createProgram([join(dir, "runtime-globals.d.ts"), join(dir, "bun-test.d.ts"), ...names.keys()], {
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      strict: true,
      allowJs: true,
      checkJs: true,
      noEmit: true,
      skipLibCheck: true,
      esModuleInterop: true,
      types: ["node"],
      typeRoots: [join(ROOT, "node_modules/@types")],
    });
    diagnostics = new Map();
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const file = diagnostic.file?.fileName ?? "";
      const block = names.get(file);
      const where = block ? label(block) : file || "(program)";
      let text = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
      if (block && diagnostic.file && diagnostic.start !== undefined) {
        const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
        const preludeLines = (block.fragment ?? []).length + 1;
        text = `line ${line - preludeLines + 1} of the block: ${text}`;
      }
      diagnostics.set(where, [...(diagnostics.get(where) ?? []), text]);
    }
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("finds the blocks", () => {
    expect(blocks.length).toBeGreaterThan(20);
  });

  it("has no diagnostics outside the blocks", () => {
    const outside = [...diagnostics].filter(([where]) => !blocks.some((block) => label(block) === where));
    expect(outside).toEqual([]);
  });

  // A block marked `<!-- skip: why -->` is not compiled. The list is spelled out here, so that a new
  // skip is a decision made in this spec, not a mark slipped into a doc.
  it("leaves out only the blocks that are not wsdriver code, each with its reason", () => {
    const skipped = blocks.filter((block) => block.skip).map((block) => block.file);
    expect(skipped).toEqual(["docs/migration.md", "docs/proxy.md"]);
    for (const block of blocks) if (block.skip) expect(block.skip.length).toBeGreaterThan(10);
  });

  for (const block of blocks) {
    if (block.skip) continue;
    it(`${label(block)} compiles`, () => {
      expect(diagnostics.get(label(block)) ?? []).toEqual([]);
    });
  }
});
