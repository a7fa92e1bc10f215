/**
 * What the docs name exists with that name: links point at files, the commands of their `sh` blocks
 * are scripts and flags the package has, and the options, events, members and error messages their
 * tables and prose name are the ones lib/ declares (read with the TypeScript checker, so a doc that
 * names `maxPayload` where the option is `maxLength` fails here).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import ts from "typescript";
import { Driver } from "../../lib/index";
import { allBlocks, label, markdownFiles, ROOT } from "./blocks";

const read = (file: string): string => readFileSync(join(ROOT, file), "utf8");
const pkg = JSON.parse(read("package.json")) as { name: string; scripts: Record<string, string>; bin: Record<string, string> };

/** The first-column names (`name` or `name: …`) of the table that follows `heading` in `file`. */
function tableNames(file: string, heading: string): string[] {
  const text = read(file);
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`${file} has no heading ${heading}`);
  const rows = text.slice(start + heading.length + 2).split("\n");
  const first = rows.findIndex((row) => row.startsWith("|"));
  const names: string[] = [];
  for (const row of rows.slice(first + 2)) {
    if (!row.startsWith("|")) break;
    const cell = row.split("|")[1]!;
    for (const match of cell.matchAll(/`([A-Za-z]\w*)[`:(?]/g)) names.push(match[1]!);
  }
  return names;
}

/** The property names of an exported type of a lib/ module, as the checker sees them. */
let checker: ts.TypeChecker;
let program: ts.Program;
function members(module: string, name: string): string[] {
  const file = program.getSourceFile(join(ROOT, module))!;
  const symbol = checker.getSymbolAtLocation(file)!;
  const exported = checker.getExportsOfModule(symbol).find((candidate) => candidate.name === name);
  if (!exported) throw new Error(`${module} exports no ${name}`);
  const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const type = checker.getDeclaredTypeOfSymbol(target);
  return checker.getPropertiesOfType(type).map((property) => property.name).sort();
}

const sorted = (names: Iterable<string>): string[] => [...new Set(names)].sort();

beforeAll(() => {
  program = ts.createProgram(
    ["lib/index.ts", "lib/adapters/node.ts", "lib/adapters/node-proxy.ts", "lib/testing/index.ts"].map((file) => join(ROOT, file)),
    {
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
      strict: true, noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(ROOT, "node_modules/@types")],
    },
  );
  checker = program.getTypeChecker();
});

describe("links", () => {
  for (const file of markdownFiles()) {
    it(`${file}: every relative link names a file that exists`, () => {
      const text = read(file).replace(/```[\s\S]*?```/g, "");
      const missing = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
        .map((match) => match[1]!.replace(/#.*$/, ""))
        .filter((target) => target !== "" && !/^[a-z]+:/.test(target))
        .filter((target) => !existsSync(join(ROOT, dirname(file), target)));
      expect(missing).toEqual([]);
    });
  }
});

describe("paths", () => {
  // `npm run docs` writes docs/api/, which is not in the repository: a fresh clone has none of it.
  const generated = (path: string): boolean => path.startsWith("docs/api/");

  for (const file of markdownFiles()) {
    it(`${file}: every file of the repository it names in code spans exists`, () => {
      const named = [...read(file).matchAll(/`((?:lib|spec|bench|demo|scripts|bin|docs)\/[^`\s]*)`/g)].map((match) => match[1]!);
      expect(named.filter((path) => !generated(path) && !existsSync(join(ROOT, path)))).toEqual([]);
    });
  }
});

describe("the sh blocks' commands", () => {
  const shell = allBlocks().filter((block) => block.lang === "sh" || (block.lang === "" && /\bnpm\b/.test(block.code)));
  const commands = shell.flatMap((block) => block.code.split("\n").map((line) => ({ where: label(block), line: line.replace(/^\$ /, "").replace(/#.*$/, "") })));
  const help = execFileSync(process.execPath, [join(ROOT, pkg.bin.wsdriver!), "--help"], { encoding: "utf8" });

  it("npm start, npm test and npm run <name> name scripts of package.json", () => {
    const named = commands.flatMap(({ where, line }) =>
      [...line.matchAll(/\bnpm (?:run (\S+)|(start|test))/g)].map((match) => ({ where, script: match[1] ?? match[2]! })));
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter(({ script }) => !(script in pkg.scripts))).toEqual([]);
  });

  it("npm install names this package, and npx wsdriver its bin, with a subcommand and flags the client has", () => {
    for (const { line } of commands) {
      const install = /\bnpm install (\w\S*)/.exec(line);
      if (install) expect(install[1]).toBe(pkg.name);
      const npx = /\bnpx (\S+) (\S+) (.*)$/.exec(line);
      if (!npx) continue;
      expect(npx[1]).toBe(pkg.name);
      expect(Object.keys(pkg.bin)).toContain(npx[1]);
      expect(help).toContain(`wsdriver ${npx[2]} `);
      for (const flag of npx[3]!.match(/(?<=\s|^)--?[a-z][\w-]*/g) ?? []) expect(help).toMatch(new RegExp(`(^|[ ,])${flag}\\b`, "m"));
    }
  });

  it("the fuzz commands' variables are read by scripts/fuzz.mjs and their -t names a property", () => {
    const fuzz = read("scripts/fuzz.mjs");
    const specs = ["chunking", "roundtrip", "garbage"].map((name) => read(`spec/fuzz/${name}.spec.ts`)).join("\n");
    const lines = commands.filter(({ line }) => /npm run fuzz/.test(line));
    expect(lines.length).toBeGreaterThan(0);
    for (const { line } of lines) {
      for (const variable of line.match(/\b[A-Z_]+(?==)/g) ?? []) expect(fuzz).toContain(`process.env.${variable}`);
      const filter = /-t "([^"]+)"/.exec(line);
      if (filter) expect(specs).toContain(`describe("${filter[1]}"`);
    }
  });
});

describe("the names in the docs' tables and lists are lib/'s", () => {
  it("protocol.md's options are ServerOptions' and ClientOptions'", () => {
    expect(sorted(tableNames("docs/protocol.md", "## Options")))
      .toEqual(sorted([...members("lib/index.ts", "ServerOptions"), ...members("lib/index.ts", "ClientOptions")]));
  });

  it("extensions.md's permessage-deflate options are DeflateOptions'", () => {
    expect(sorted(tableNames("docs/extensions.md", "## permessage-deflate"))).toEqual(members("lib/index.ts", "DeflateOptions"));
  });

  it("the events tables of getting-started.md and protocol.md name DriverEvents", () => {
    const events = members("lib/index.ts", "DriverEvents");
    expect(sorted(tableNames("docs/getting-started.md", "## Events"))).toEqual(events);
    expect(sorted(tableNames("docs/protocol.md", "## Events"))).toEqual(events);
  });

  it("node.md's acceptUpgrade options are UpgradeOptions'", () => {
    const sentence = /The options are the driver's `ServerOptions` \(([^)]*)\)\s+plus `(\w+)`,\s+and the adapter's limits\s+\(([^;)]*)/
      .exec(read("docs/adapters/node.md"));
    expect(sentence).not.toBeNull();
    const named = [sentence![1]!, sentence![3]!].flatMap((list) => [...list.matchAll(/`(\w+)`/g)].map((match) => match[1]!));
    expect(sorted([...named, sentence![2]!])).toEqual(members("lib/adapters/node.ts", "UpgradeOptions"));
  });

  it("node.md's connection members are Connection's", () => {
    const paragraph = /return a `Connection`:\s*([\s\S]*?)\n\n/.exec(read("docs/adapters/node.md"));
    expect(paragraph).not.toBeNull();
    const named = [...paragraph![1]!.matchAll(/`(\w+)(?:\(\))?`/g)].map((match) => match[1]!).filter((name) => !["drain", "error", "close"].includes(name));
    expect(sorted(named)).toEqual(members("lib/adapters/node.ts", "Connection"));
  });

  it("bun.md's list of the handlers serverHandlers returns is complete", async () => {
    const sentence = /`serverHandlers\(options, onConnection\)` returns the ([^;]*) handlers;/.exec(read("docs/adapters/bun.md"));
    expect(sentence).not.toBeNull();
    const named = [...sentence![1]!.matchAll(/`(\w+)`/g)].map((match) => match[1]!);
    const { serverHandlers } = await import("../../lib/adapters/bun");
    expect(sorted(named)).toEqual(sorted(Object.keys(serverHandlers({}, () => {}))));
  });

  it("testing.md's pair options are PairOptions'", () => {
    expect(sorted(tableNames("docs/testing.md", "### In-memory connections"))).toEqual(members("lib/testing/index.ts", "PairOptions"));
  });

  it("proxy.md's connectThroughProxy options are ProxiedClientOptions' (the rest: ClientOptions')", () => {
    const own = tableNames("docs/proxy.md", "## In Node: `connectThroughProxy`");
    const client = members("lib/index.ts", "ClientOptions");
    expect(sorted([...own, ...client])).toEqual(members("lib/adapters/node-proxy.ts", "ProxiedClientOptions"));
  });

  it("proxy.md's reference names ProxyTunnel's and ProxyOptions' members", () => {
    const block = allBlocks().find((candidate) => candidate.file === "docs/proxy.md" && candidate.code.startsWith("interface ProxyTunnel"));
    expect(block).toBeDefined();
    const [tunnel, options] = block!.code.split("interface ProxyOptions");
    const names = (text: string) => sorted([...text.matchAll(/^\s+(?:readonly )?(\w+)[?(:]/gm)].map((match) => match[1]!));
    expect(names(tunnel!)).toEqual(members("lib/index.ts", "ProxyTunnel"));
    expect(names(options!)).toEqual(members("lib/index.ts", "ProxyOptions"));
  });

  it("cli.md's options are the client's", () => {
    const help = execFileSync(process.execPath, [join(ROOT, pkg.bin.wsdriver!), "--help"], { encoding: "utf8" });
    const text = read("docs/cli.md");
    const flags = [...text.matchAll(/^\| (`[^|]+)\|/gm)].flatMap((match) => match[1]!.match(/(?<=[`\s])--?[a-z][\w-]*/g) ?? []);
    expect(flags.length).toBeGreaterThan(15);
    for (const flag of flags) expect(help).toMatch(new RegExp(`(^|[ ,])${flag}\\b`, "m"));
    const listed = help.match(/(?<=\s)--[a-z][\w-]*/g) ?? [];
    expect(sorted(listed.filter((flag) => !flags.includes(flag)))).toEqual([]);
  });
});

describe("the error messages the docs quote are lib/'s", () => {
  // [doc, the words it quotes, the source that writes them]
  const quotes: Array<[string, string, string]> = [
    ["docs/proxy.md", "The proxy sent N bytes after its answer, before the TLS handshake", "lib/adapters/node-proxy.ts"],
    ["docs/proxy.md", "Invalid response from the proxy: …", "lib/proxy.ts"],
    ["docs/proxy.md", "The proxy closed the connection before answering …", "lib/proxy.ts"],
    ["docs/protocol.md", "… draft protocol is disabled", "lib/hixie/handshake.ts"],
    ["docs/http2.md", "does not offer WebSockets over HTTP/2: its SETTINGS lack SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)", "lib/adapters/node-http2.ts"],
    ["docs/http2.md", "is a connection-specific header, malformed in HTTP/2 (RFC 9113 §8.2.2)", "lib/hybi/handshake-http2.ts"],
    ["docs/http2.md", "Missing :protocol pseudo-header: a plain CONNECT is not a WebSocket (RFC 8441 §4)", "lib/hybi/handshake-http2.ts"],
  ];
  for (const [doc, words, source] of quotes) {
    it(`${doc}: "${words}"`, () => {
      expect(read(doc)).toContain(words);
      const pattern = words.split(/(?:\s*…\s*|\bN\b)/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("[\\s\\S]*?");
      expect(read(source)).toMatch(new RegExp(pattern));
    });
  }
});

describe("drafts.md: the draft-76 keys a server refuses", () => {
  // draft-hixie-thewebsocketprotocol-76 §5.2: the number is divided by the spaces; the quotient is
  // written as 32 bits, so it is the quotient, not the number, that must fit.
  const answer = (key1: string): string => {
    const written: Uint8Array[] = [];
    const driver = Driver.server({ write: (bytes) => written.push(bytes) }, { allowDrafts: true });
    driver.on("connect", () => driver.start());
    driver.parse(new TextEncoder().encode([
      "GET /demo HTTP/1.1", "Host: example.com", "Connection: Upgrade", "Upgrade: WebSocket",
      `Sec-WebSocket-Key1: ${key1}`, "Sec-WebSocket-Key2: 12998 5 Y3 1  .P00", "Origin: http://example.com", "", "^n:ds[4U",
    ].join("\r\n")));
    return new TextDecoder().decode(written[0]).split("\r\n")[0]!;
  };

  it.each([
    ["a number beyond 32 bits whose quotient fits", "85899 34590 x", "HTTP/1.1 101 WebSocket Protocol Handshake"],
    ["a quotient of 2^32", "85899 34592 x", "HTTP/1.1 400 Bad Request"],
    ["no spaces", "4294967295", "HTTP/1.1 400 Bad Request"],
    ["no digits", "a b", "HTTP/1.1 400 Bad Request"],
    ["a number that is not a multiple of the spaces", "3  x", "HTTP/1.1 400 Bad Request"],
  ])("%s (%j): %s", (_, key1, status) => {
    expect(read("docs/drafts.md")).toMatch(/without digits or without spaces, whose\s+number is not a whole multiple of the spaces, or whose quotient does not fit in 32 bits/);
    expect(answer(key1)).toBe(status);
  });
});

describe("architecture.md: the web platform APIs the core uses", () => {
  it("are the ones it lists", () => {
    const sentence = /The core \(everything but `lib\/adapters\/`\) uses only ([\s\S]*?), so it runs unchanged/.exec(read("docs/architecture.md"));
    expect(sentence).not.toBeNull();
    const listed = new Set([...sentence![1]!.matchAll(/`(\w+)/g)].map((match) => match[1]!));
    // The core compiled as tsconfig.core.json does: the ES library and the DOM's, no Node types.
    const core = ts.createProgram([join(ROOT, "lib/index.ts")], {
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
      strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    });
    const coreChecker = core.getTypeChecker();
    const used = new Set<string>();
    for (const file of core.getSourceFiles()) {
      if (!file.fileName.startsWith(join(ROOT, "lib/")) || file.fileName.startsWith(join(ROOT, "lib/adapters/"))) continue;
      const visit = (node: ts.Node): void => {
        // A free name (not a property's) whose every declaration is the DOM library's: a platform API.
        if (ts.isIdentifier(node) && !(ts.isPropertyAccessExpression(node.parent) && node.parent.name === node)) {
          const declarations = coreChecker.getSymbolAtLocation(node)?.declarations ?? [];
          if (declarations.length > 0 && declarations.every((declaration) => declaration.getSourceFile().fileName.endsWith("lib.dom.d.ts"))) {
            used.add(node.text);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(file);
    }
    expect(used.size).toBeGreaterThan(4);
    expect(sorted([...used].filter((name) => !listed.has(name)))).toEqual([]);
  });
});
