/**
 * docs/security.md says what it does with the code's names and the code's defaults: every option in
 * its table is a member of a public options type (read with the TypeScript checker), every default
 * it states is the one a driver made without options shows, checked by its behaviour on real bytes,
 * and every identifier it writes in a code span is one of the package's (or another library's,
 * named as such).
 *
 * PENDING: adapter options the slow-peer section names before they exist in lib/. A pending name is
 * checked as the others once lib/ declares it; until then its table row states no default. The
 * adapters' limits are checked as the constants a server adapter falls back on (SERVER_LIMITS) and
 * as what `acceptSocket` gives a connection made without options; their behaviour on real sockets
 * is spec/adapters/timeouts.spec.ts's.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { PassThrough } from "node:stream";
import { acceptSocket } from "../../lib/adapters/node";
import { SERVER_LIMITS } from "../../lib/adapters/timeouts";
import { Driver } from "../../lib/driver";
import { DEFAULT_MAX_LENGTH, MAX_EARLY_BYTES, type ServerOptions } from "../../lib/options";
import { DRAFT75_REQUEST } from "../hixie/support";
import { CollectingIO, type Recorded, record, upgradeRequest, utf8 } from "../support/wire";
import { ROOT } from "./blocks";

const PENDING = new Set<string>();

const doc = readFileSync(join(ROOT, "docs/security.md"), "utf8");

/** The rows of the table under "## At a glance": the options named in its second column and its default. */
function glance(): Array<{ options: string[]; default: string }> {
  const start = doc.indexOf("\n## At a glance\n");
  expect(start).toBeGreaterThan(0);
  const lines = doc.slice(start).split("\n");
  const first = lines.findIndex((line) => line.startsWith("|"));
  const rows: Array<{ options: string[]; default: string }> = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    const cells = line.split("|").map((cell) => cell.trim());
    rows.push({ options: [...cells[2]!.matchAll(/`(\w+)`/g)].map((match) => match[1]!), default: cells[3]! });
  }
  return rows;
}

/** The files whose exported types hold the public options and members. */
const MODULES = ["lib/index.ts", "lib/adapters/node.ts", "lib/adapters/bun.ts", "lib/adapters/deno.ts", "lib/adapters/node-proxy.ts"];

let program: ts.Program;
let checker: ts.TypeChecker;

/** The property names of every exported interface or type alias of `module`. */
function exportedMembers(module: string): Map<string, Set<string>> {
  const file = program.getSourceFile(join(ROOT, module))!;
  const out = new Map<string, Set<string>>();
  for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(file)!)) {
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (!(target.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Class))) continue;
    const type = checker.getDeclaredTypeOfSymbol(target);
    out.set(exported.name, new Set(checker.getPropertiesOfType(type).map((property) => property.name)));
  }
  return out;
}

/** Every option of every public `…Options` type, and every public name at all. */
let options: Set<string>;
let names: Set<string>;

beforeAll(() => {
  program = ts.createProgram(MODULES.map((module) => join(ROOT, module)), {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true, noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(ROOT, "node_modules/@types")],
  });
  checker = program.getTypeChecker();
  options = new Set();
  names = new Set();
  for (const module of MODULES) {
    const file = program.getSourceFile(join(ROOT, module))!;
    for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(file)!)) names.add(exported.name);
    for (const [type, members] of exportedMembers(module)) {
      for (const member of members) {
        names.add(member);
        if (type.endsWith("Options")) options.add(member);
      }
    }
  }
}, 60_000);

/** A Driver.server given `options`, started on connect, fed `request`: its status line and events. */
function answer(request: string | Uint8Array, options: ServerOptions = {}): { status: string; events: Recorded[]; io: CollectingIO } {
  const io = new CollectingIO();
  const driver = Driver.server(io, options);
  const events = record(driver);
  driver.on("connect", () => driver.start());
  driver.parse(typeof request === "string" ? utf8(request) : request);
  return { status: io.text().split("\r\n")[0]!, events, io };
}

/** A server adapter's default for `name` is `value`: the constant, and what a connection made without options runs with. */
function expectServerLimit(name: keyof typeof SERVER_LIMITS, value: number): void {
  expect(SERVER_LIMITS[name]).toBe(value);
  const connection = acceptSocket(new PassThrough());
  try {
    expect((connection as unknown as { limits: typeof SERVER_LIMITS }).limits[name]).toBe(value);
  } finally {
    connection.destroy();
  }
}

/**
 * For each option the table gives a default for: the default as the table must write it, and a
 * check that a driver made without the option behaves so.
 */
const DEFAULTS: Record<string, { text: string; check: () => void }> = {
  origins: {
    text: "every origin",
    check: () => expect(answer(upgradeRequest({ Origin: "https://evil.example" })).status).toBe("HTTP/1.1 101 Switching Protocols"),
  },
  requireOrigin: {
    text: "`false`",
    check: () => expect(answer(upgradeRequest({ Origin: null })).status).toBe("HTTP/1.1 101 Switching Protocols"),
  },
  maxLength: {
    text: "2^26 − 1",
    check: () => {
      expect(DEFAULT_MAX_LENGTH).toBe(2 ** 26 - 1);
      // A masked binary frame's header with a 64-bit length: the parser judges the length before the payload.
      const header = (length: number): Uint8Array => {
        const bytes = new Uint8Array(14);
        bytes[0] = 0x82;
        bytes[1] = 0x80 | 127;
        new DataView(bytes.buffer).setUint32(6, length);
        return bytes;
      };
      const at = answer(new Uint8Array([...utf8(upgradeRequest()), ...header(2 ** 26 - 1)]));
      expect(at.events.map(([type]) => type)).toEqual(["connect", "open"]);
      const past = answer(new Uint8Array([...utf8(upgradeRequest()), ...header(2 ** 26)]));
      expect(past.events.map(([type]) => type)).toEqual(["connect", "open", "error", "close"]);
      expect(past.events[3]).toEqual(["close", expect.objectContaining({ code: 1009 })]);
    },
  },
  maxHeaderSize: {
    text: "16 KiB",
    check: () => {
      const sized = (total: number): string => {
        const head = upgradeRequest({ "X-Pad": "" });
        return head.replace("X-Pad: \r\n", `X-Pad: ${"a".repeat(total - head.length)}\r\n`);
      };
      expect(sized(16 * 1024).length).toBe(16384);
      expect(answer(sized(16 * 1024)).status).toBe("HTTP/1.1 101 Switching Protocols");
      expect(answer(sized(16 * 1024 + 1)).status).toBe("HTTP/1.1 431 Request Header Fields Too Large");
    },
  },
  allowDrafts: {
    text: "`false`",
    check: () => expect(answer(DRAFT75_REQUEST).status).toBe("HTTP/1.1 400 Bad Request"),
  },
  handshakeTimeout: { text: "10 s", check: () => expectServerLimit("handshakeTimeout", 10_000) },
  idleTimeout: { text: "120 s (servers)", check: () => expectServerLimit("idleTimeout", 120_000) },
  closeTimeout: { text: "10 s", check: () => expectServerLimit("closeTimeout", 10_000) },
  maxBufferedAmount: { text: "16 MiB", check: () => expectServerLimit("maxBufferedAmount", 16 * 1024 * 1024) },
  secure: {
    text: "`false`",
    check: () => expect(answer(DRAFT75_REQUEST, { allowDrafts: true }).io.text()).toContain("WebSocket-Location: ws://example.com/demo\r\n"),
  },
};

describe("docs/security.md: the options at a glance", () => {
  it("names options that exist, or pending ones whose rows state no default yet", () => {
    const rows = glance();
    expect(rows.length).toBeGreaterThan(6);
    for (const row of rows) {
      for (const name of row.options) {
        if (options.has(name)) continue;
        expect({ name, pending: PENDING.has(name), default: row.default }).toEqual({ name, pending: true, default: "(adapter)" });
      }
    }
  });

  it("lists as pending only names the table uses", () => {
    // A pending name lib/ has come to declare passes the check above as any option does; its row's
    // default is then to be written as the code's and given a check in DEFAULTS, and the name taken
    // out of PENDING.
    const named = new Set(glance().flatMap((row) => row.options));
    expect([...PENDING].filter((name) => !named.has(name))).toEqual([]);
  });

  for (const [name, { text, check }] of Object.entries(DEFAULTS)) {
    it(`${name}: the default the table states, ${text}, is the code's`, () => {
      const row = glance().find((candidate) => candidate.options.length === 1 && candidate.options[0] === name);
      expect(row?.default).toBe(text);
      check();
    });
  }

  it("every option with a default in the table has its check here", () => {
    const stated = glance().filter((row) => row.default !== "(adapter)").flatMap((row) => row.options);
    expect(stated.filter((name) => !(name in DEFAULTS))).toEqual([]);
  });
});

describe("docs/security.md: the prose's figures and names", () => {
  it("holds 64 KiB before start(), as lib/ does", () => {
    expect(doc).toMatch(/the driver holds at most 64 KiB \(or `maxLength`, if smaller\) of what\s+the peer sends/);
    expect(MAX_EARLY_BYTES).toBe(64 * 1024);
  });

  it("names in code spans only the package's identifiers, or other libraries' said to be theirs", () => {
    // Words in code spans that are not identifiers of ours: values, runtime and Node names, nginx.
    const theirs = new Set([
      "null", "true", "false", "start", "wss", "ws", "websocket", "server_no_context_takeover",
      "headersTimeout", "requestTimeout", "socket", "token", "verify", "async", "net",
    ]);
    const spans = [...doc.replace(/```[\s\S]*?```/g, "").matchAll(/`([a-z][A-Za-z]+)`/g)].map((match) => match[1]!);
    expect(spans.length).toBeGreaterThan(20);
    const unknown = spans.filter((name) => !names.has(name) && !PENDING.has(name) && !theirs.has(name));
    expect([...new Set(unknown)]).toEqual([]);
  });
});
