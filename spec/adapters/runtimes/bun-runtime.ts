/**
 * The parts of Bun's global the child scripts use, typed once: the specs are compiled without
 * Bun's own types.
 */
import type { BunSocket, BunSocketHandlers } from "../../../lib/adapters/bun.js";

export interface BunListener {
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

export const Bun = (globalThis as unknown as {
  Bun: {
    listen(options: { hostname: string; port: number; tls?: { cert: string; key: string }; socket: BunSocketHandlers<BunSocket> }): BunListener;
  };
}).Bun;
