/**
 * The API reference (`npm run docs`, typedoc.config.mjs) has one module per entry of package.json's
 * `exports`, named by its import path: the source behind each entry carries `@module <import path>`
 * in its first comment, which typedoc reads as the module's name.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "../..");
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  exports: Record<string, string | { import?: { default?: string } }>;
};

const ENTRIES = Object.entries(manifest.exports)
  .filter((entry): entry is [string, { import: { default: string } }] => typeof entry[1] === "object" && typeof entry[1].import?.default === "string")
  .map(([key, conditions]) => ({
    specifier: key === "." ? manifest.name : `${manifest.name}/${key.slice(2)}`,
    source: conditions.import.default.replace(/^\.\/dist\/esm\/(.*)\.js$/, "lib/$1.ts"),
  }));

describe("each entry of the exports map is a module of the API reference named by its import path", () => {
  it("covers every module entry", () => {
    expect(ENTRIES.map(({ specifier }) => specifier)).toContain(manifest.name);
  });

  it.each(ENTRIES)("$source says @module $specifier", ({ specifier, source }) => {
    const text = readFileSync(join(ROOT, source), "utf8");
    const first = /^\/\*\*[\s\S]*?\*\//.exec(text)?.[0] ?? "";
    expect(/@module (\S+)/.exec(first)?.[1]).toBe(specifier);
  });
});
