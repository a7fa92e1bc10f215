/**
 * The code blocks of README.md and docs/ (not docs/api/, generated, nor docs/benchmarks.md, written
 * by the bench), with the mark that may precede each:
 *
 *   <!-- fragment: socket, request -->   the block uses these names without declaring them; the
 *                                         spec declares each (FREE_NAMES in typecheck.spec.ts)
 *   <!-- skip: why -->                    the block is not checked; the reason is reported
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export const ROOT = join(__dirname, "../..");

export interface Block {
  /** The markdown file, relative to the root. */
  file: string;
  /** The line of the opening fence (1-based). */
  line: number;
  lang: string;
  code: string;
  /** Names a `fragment` mark declares free. */
  fragment?: string[];
  skip?: string;
}

const GENERATED = new Set(["docs/benchmarks.md"]);

export function markdownFiles(): string[] {
  const files = ["README.md"];
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(ROOT, dir)).sort()) {
      const path = `${dir}/${name}`;
      if (path === "docs/api") continue;
      if (statSync(join(ROOT, path)).isDirectory()) walk(path);
      else if (name.endsWith(".md") && !GENERATED.has(path)) files.push(path);
    }
  };
  walk("docs");
  return files;
}

export function blocksOf(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    let j = start - 1;
    while (j >= 0 && lines[j]!.trim() === "") j--;
    const mark = j >= 0 ? /^<!--\s*(fragment|skip)\s*:\s*(.*?)\s*-->$/.exec(lines[j]!.trim()) : null;
    const block: Block = { file: relative(ROOT, join(ROOT, file)), line: start + 1, lang: open[1]!, code: body.join("\n") + "\n" };
    if (mark?.[1] === "fragment") block.fragment = mark[2]!.split(/[\s,]+/).filter(Boolean);
    if (mark?.[1] === "skip") block.skip = mark[2]!;
    blocks.push(block);
  }
  return blocks;
}

export const allBlocks = (): Block[] => markdownFiles().flatMap(blocksOf);

export const label = (block: Block): string => `${block.file}:${block.line}`;
