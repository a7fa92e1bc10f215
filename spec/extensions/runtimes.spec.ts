/**
 * permessage-deflate on Node, Deno and Bun: our server and client joined in memory
 * (spec/extensions/runtimes/deflate-pair.ts), with and without context takeover, messages from 0
 * bytes to 1 MiB, the RFC 7692 §7.2.3.2 bytes, a zip bomb that must close with 1009, and messages
 * after one a BFINAL block ended (§7.2.3.4), and connections taking turns on shared streams, with a
 * prepared message written once for three of them (lib/extensions/contexts.ts). Deno and Bun run the same script as child processes,
 * on their own `node:zlib`.
 */
import { bunArgs, denoArgs, run } from "../adapters/runtimes/child";
import { SIZES, afterFinalBlock, pair, shared, zipBomb } from "./runtimes/deflate-pair";

const SCRIPT = "spec/extensions/runtimes/deflate-pair.ts";

const expected = {
  takeover: {
    negotiated: "permessage-deflate",
    echoed: SIZES.map(() => true),
    texts: true,
    ratio: expect.any(Number),
    hello: "c1 07 f2 48 cd c9 c9 07 00 | c1 05 f2 00 11 00 00",
  },
  noTakeover: {
    negotiated: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    echoed: SIZES.map(() => true),
    texts: true,
    ratio: expect.any(Number),
    hello: "c1 07 f2 48 cd c9 c9 07 00 | c1 07 f2 48 cd c9 c9 07 00",
  },
  bomb: {
    code: 1009,
    reason: "Inflated message exceeds maxLength (1048576)",
    errors: ["Inflated message exceeds maxLength (1048576)"],
  },
  afterFinalBlock: ["Hello", "Hello", "Hello", "Hello"],
  shared: {
    context: conversation(),
    noContext: conversation(),
    prepared: Array(3).fill("one for all, ".repeat(20)),
    oneFrame: true,
  },
};

/** What each client and server of `shared()` reads: every message of its own connection, in order. */
function conversation(): string[] {
  const said = (who: string, i: number, word: string) => [0, 1, 2].map((round) => `${who} ${i} says ${`${word} `.repeat(i + 5)}`.repeat(round + 1)).join(" | ");
  return [0, 1, 2].flatMap((i) => [said("server", i, "la"), said("client", i, "lo")]);
}

function check(result: { takeover: { ratio: number }; noTakeover: { ratio: number } }): void {
  expect(result).toEqual(expected);
  // The payloads are highly repetitive: compressed, they take a few percent of their size.
  expect(result.takeover.ratio).toBeLessThan(0.1);
  expect(result.noTakeover.ratio).toBeLessThan(0.1);
}

describe("permessage-deflate on each runtime's node:zlib", () => {
  it("works on Node", () => {
    check({
      takeover: pair({}),
      noTakeover: pair({ serverNoContextTakeover: true, clientNoContextTakeover: true }),
      bomb: zipBomb(),
      afterFinalBlock: afterFinalBlock(),
      shared: shared(),
    } as never);
  });

  it.each([
    ["Deno", denoArgs(SCRIPT, "--print")],
    ["Bun", bunArgs(SCRIPT, "--print")],
  ])("works on %s", async (_, command) => {
    const child = run(command);
    try {
      const { code, stdout, stderr } = await child.exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      check(JSON.parse(stdout.trim()));
    } finally {
      child.kill();
    }
  });
});
