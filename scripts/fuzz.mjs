#!/usr/bin/env node
/**
 * `npm run fuzz`: the property-based specs (spec/fuzz, spec/differential, and the properties of the hixie, proxy and
 * permessage-deflate specs) with a random seed and many more runs than `npm test` makes. Prints the seed first, and again with the command that reproduces a failure.
 *
 *   FUZZ_SEED=123 npm run fuzz     replay a seed
 *   FUZZ_SCALE=200 npm run fuzz    200× the runs of npm test (default 20×)
 *   npm run fuzz -- -t chunking    extra arguments go to jest
 */
import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

// jest's package exports do not include its bin; find it next to its package.json.
const require = createRequire(import.meta.url);
const jest = join(dirname(require.resolve("jest/package.json")), "bin", "jest.js");

// Every spec whose properties take their seed and run count from `fuzzParameters`.
const PROPERTY_SPECS = ["spec/fuzz", "spec/differential", "spec/hixie/frames.spec.ts", "spec/proxy/tunnel.spec.ts", "spec/extensions/properties.spec.ts"];

const seed = process.env.FUZZ_SEED ?? String(randomInt(0, 2 ** 31 - 1));
const scale = process.env.FUZZ_SCALE ?? "20";
process.stdout.write(`fuzz: seed ${seed}, ${scale}x the runs of npm test\n`);

const result = spawnSync(process.execPath, [jest, ...PROPERTY_SPECS, "--testTimeout=3600000", ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, FUZZ_SEED: seed, FUZZ_SCALE: scale },
});

if (result.status !== 0) {
  process.stderr.write(`\nfuzz: FAILED with seed ${seed} — reproduce with: FUZZ_SEED=${seed} FUZZ_SCALE=${scale} npm run fuzz\n`);
  process.exit(result.status ?? 1);
}
process.stdout.write(`fuzz: passed with seed ${seed}\n`);
