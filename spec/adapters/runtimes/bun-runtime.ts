/**
 * The parts of Bun's global the child scripts use, typed once: the specs are compiled without
 * Bun's own types.
 */
import { type BunConnection, type BunSocket, type BunSocketHandlers, serverHandlers } from "../../../lib/adapters/bun.js";
import type { ServerDriver } from "../../../lib/types.js";

export interface BunListener {
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

export const Bun = (globalThis as unknown as {
  Bun: {
    listen(options: { hostname: string; port: number; tls?: { cert: string; key: string }; socket: BunSocketHandlers<BunSocket> }): BunListener;
  };
}).Bun;

/**
 * Listens on a loopback port (printed as `listening <port>` for the spec), runs `serve` on the first
 * connection the Bun adapter accepts, and stops listening once it settles (`closeActive`: dropping
 * any connection still open).
 */
export async function serveOneConnection(
  serve: (connection: BunConnection<ServerDriver>) => Promise<void>, closeActive: boolean,
): Promise<void> {
  let served: Promise<void> = new Promise(() => undefined);
  let accepted: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => { accepted = resolve; });
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: serverHandlers<BunSocket>({}, (connection) => {
      served = serve(connection);
      accepted();
    }),
  });
  console.log(`listening ${listener.port}`);
  await connected;
  await served;
  listener.stop(closeActive);
}
