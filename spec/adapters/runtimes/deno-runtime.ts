/**
 * The parts of Deno's global the child scripts use, typed once: the specs are compiled without
 * Deno's own types.
 */
import type { StreamConn } from "../../../lib/adapters/deno.js";

export interface DenoListener {
  readonly addr: { port: number };
  accept(): Promise<StreamConn>;
  close(): void;
}

export const Deno = (globalThis as unknown as {
  Deno: {
    listen(options: { hostname: string; port: number }): DenoListener;
    listenTls(options: { hostname: string; port: number; cert: string; key: string }): DenoListener;
    env: { get(name: string): string | undefined };
  };
}).Deno;
