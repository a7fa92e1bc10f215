// The API reference (`npm run docs`, written to docs/api/): it opens on the README, with the guides
// in docs/ beside it, and has one module per entry of package.json's `exports`, each named by its
// import path through the `@module` tag at the top of its source (`@module wsdriver/node`).
import { readFileSync } from "node:fs";

const manifest = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

/** The source in lib/ of each entry's ES module build: ./dist/esm/adapters/node.js → lib/adapters/node.ts. */
const sources = Object.values(manifest.exports)
  .map((conditions) => conditions?.import?.default)
  .filter((target) => typeof target === "string" && target.startsWith("./dist/esm/"))
  .map((target) => target.replace(/^\.\/dist\/esm\/(.*)\.js$/, "lib/$1.ts"));

/** @type {Partial<import("typedoc").TypeDocOptions>} */
export default {
  name: manifest.name,
  entryPoints: [...new Set(sources)],
  tsconfig: "tsconfig.build.json",
  out: "docs/api",
  readme: "README.md",
  projectDocuments: ["docs/*.md", "docs/adapters/*.md"],
  excludePrivate: true,
  excludeInternal: true,
  treatWarningsAsErrors: false,
  disableSources: true,
  intentionallyNotExported: ["ZlibHandle"],
};
