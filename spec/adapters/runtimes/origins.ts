/**
 * The server side of the origin test each runtime runs (spec/adapters/origins.spec.ts): two
 * listeners, one allowing a list of origins and one whose `origins` function throws. Each
 * connection echoes text once open and prints, when it closes, one line: `closed` and what it saw.
 */
import type { ServerOptions } from "../../../lib/options.js";
import type { ServerDriver } from "../../../lib/types.js";

export const ALLOWED = "https://app.example";

/** The options of the two listeners, in the order their ports are printed. */
export const LISTENERS: ReadonlyArray<readonly [string, ServerOptions]> = [
  ["list", { origins: [ALLOWED] }],
  ["throwing", { origins: () => { throw new Error("origin store unreachable"); } }],
];

/** Wires one accepted connection: start on connect, echo text, report on close. */
export function serve(listener: string, driver: ServerDriver, print: (line: string) => void): void {
  const events: string[] = [];
  const errors: Array<{ status: number | undefined; message: string }> = [];
  driver.on("connect", () => driver.start());
  driver.on("open", () => events.push("open"));
  driver.on("message", ({ data }) => {
    events.push("message");
    driver.text(String(data));
  });
  driver.on("error", (error) => {
    events.push("error");
    errors.push({ status: (error as { status?: number }).status, message: error.message });
  });
  driver.on("close", ({ code }) => {
    events.push("close");
    print(`closed ${JSON.stringify({ listener, url: driver.request?.url ?? null, events, errors, code })}`);
  });
}
