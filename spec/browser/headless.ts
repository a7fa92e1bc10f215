/**
 * What the specs that drive Debian's Chromium (`/usr/bin/chromium`, installed by `.ci/run`) share:
 * where it is, whether to run or skip, and how to start it headless. Without a local Chromium a spec
 * is skipped with a notice, except under CI=true, where its `beforeAll` fails instead.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
const inCi = process.env.CI === "true";

/** `describe` when Chromium is installed or CI=true, else `describe.skip` after a notice naming `what`. */
export function describeWithChromium(what: string): jest.Describe {
  if (!present && !inCi) {
    console.warn(`Skipping the ${what}: ${CHROMIUM} is not installed (apt-get install chromium; .ci/run does).`);
  }
  return present || inCi ? describe : describe.skip;
}

/** For a `beforeAll` under CI=true: fails, saying why, where Chromium is missing. */
export function requireChromium(): void {
  if (!present) throw new Error(`CI=true but ${CHROMIUM} is not installed: .ci/run must apt-get install chromium`);
}

/**
 * Launches headless Chromium with the flags a closed network needs (no background networking, no
 * component updates or sync, which would otherwise try to reach the internet at every start).
 */
export async function launchChromium(): Promise<Browser> {
  requireChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}
