/**
 * testing.md's examples run as written under their own test runners: jest, node:test, Deno.test and
 * bun test, each in a scratch project whose node_modules/wsdriver is this checkout (the built
 * package, through its `exports`). Every test of a block must pass; and each block, with its 1008
 * expectation changed to 1009, must fail, so the examples are shown to assert what they say.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { BUN, DENO } from "../adapters/runtimes/child";
import { ensureBuilt } from "../support/build";
import { type Block, blocksOf, label, ROOT } from "./blocks";

type Runner = "jest" | "node:test" | "Deno.test" | "bun test";

const runnerOf = (block: Block): Runner | null =>
  block.code.includes('from "@jest/globals"') ? "jest"
    : block.code.includes('from "node:test"') ? "node:test"
      : block.code.includes("Deno.test(") ? "Deno.test"
        : block.code.includes('from "bun:test"') ? "bun test" : null;

const examples = blocksOf("docs/testing.md").filter((block) => block.lang === "ts" && runnerOf(block) !== null);

/** How many tests a block declares. */
const testCount = (block: Block): number => block.code.match(/^(?:Deno\.)?test\(/gm)?.length ?? 0;

const transpile = (code: string, module: ts.ModuleKind): string =>
  ts.transpileModule(code, { compilerOptions: { module, target: ts.ScriptTarget.ES2022 } }).outputText;

interface Outcome { code: number | null; output: string }

function exec(program: string, args: string[], cwd: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { cwd, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => { output += text; });
    child.stderr.setEncoding("utf8").on("data", (text: string) => { output += text; });
    child.once("close", (code) => resolve({ code, output }));
  });
}

/** Runs `code` (the block's TypeScript) under its runner in a project of its own; returns the exit code, the output, and the counts the runner printed. */
async function runUnder(runner: Runner, code: string, dir: string): Promise<Outcome & { passed: number; failed: number }> {
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(ROOT, join(dir, "node_modules/wsdriver"), "dir");
  let outcome: Outcome;
  let counts: RegExp[];
  if (runner === "jest") {
    // jest's own transform would be ts-jest or babel in a user's project; the types are removed here.
    writeFileSync(join(dir, "chat.test.js"), transpile(code, ts.ModuleKind.CommonJS));
    writeFileSync(join(dir, "jest.config.json"), JSON.stringify({ testEnvironment: "node", transform: {} }));
    outcome = await exec(process.execPath, [join(ROOT, "node_modules/jest/bin/jest.js"), "--ci", "--config", "jest.config.json"], dir);
    counts = [/Tests:.*?(\d+) passed/, /Tests:.*?(\d+) failed/];
  } else if (runner === "node:test") {
    writeFileSync(join(dir, "chat.test.mjs"), transpile(code, ts.ModuleKind.ESNext));
    outcome = await exec(process.execPath, ["--test", "--test-reporter=tap", "chat.test.mjs"], dir);
    counts = [/^# pass (\d+)$/m, /^# fail (\d+)$/m];
  } else if (runner === "Deno.test") {
    // As an npm project would: package.json names the dependency, node_modules holds it.
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", dependencies: { wsdriver: "*" } }));
    writeFileSync(join(dir, "chat_test.ts"), code);
    // Deno's type check wants @types/node installed for node:assert; typecheck.spec.ts compiles the block instead.
    outcome = await exec(DENO, ["test", "--no-check", "--node-modules-dir=manual", "chat_test.ts"], dir);
    counts = [/(\d+) passed/, /(\d+) failed/];
  } else {
    writeFileSync(join(dir, "chat.test.ts"), code);
    outcome = await exec(BUN, ["test", "./chat.test.ts"], dir);
    counts = [/^\s*(\d+) pass$/m, /^\s*(\d+) fail$/m];
  }
  const count = (pattern: RegExp): number => Number(pattern.exec(outcome.output)?.[1] ?? -1);
  const passed = count(counts[0]!);
  // jest leaves "0 failed" out of its summary line.
  const failed = runner === "jest" && passed >= 0 ? Math.max(count(counts[1]!), 0) : count(counts[1]!);
  return { ...outcome, passed, failed };
}

describe("testing.md's examples run under their test runners", () => {
  let root: string;

  beforeAll(() => {
    ensureBuilt();
    root = mkdtempSync(join(tmpdir(), "wsdriver-docs-testing-"));
  }, 120_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("finds one example per runner", () => {
    expect(examples.map(runnerOf)).toEqual(["jest", "node:test", "Deno.test", "bun test"]);
  });

  examples.forEach((block, index) => {
    const runner = runnerOf(block)!;
    it(`${label(block)} (${runner}): its ${testCount(block)} tests pass, and fail when the 1008 it expects is changed`, async () => {
      const mutated = block.code.replace("code: 1008", "code: 1009");
      expect(mutated).not.toBe(block.code);
      const [asWritten, broken] = await Promise.all([
        runUnder(runner, block.code, join(root, `${index}-as-written`)),
        runUnder(runner, mutated, join(root, `${index}-mutated`)),
      ]);
      expect({ code: asWritten.code, passed: asWritten.passed, failed: asWritten.failed, output: asWritten.code === 0 ? "" : asWritten.output })
        .toEqual({ code: 0, passed: testCount(block), failed: 0, output: "" });
      expect({ code: broken.code === 0, passed: broken.passed, failed: broken.failed })
        .toEqual({ code: false, passed: testCount(block) - 1, failed: 1 });
    }, 120_000);
  });
});
