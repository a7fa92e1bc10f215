/**
 * Run by spec/adapters/bun-tls.spec.ts with `bun`: our server on `wsdriver/bun` accepts one
 * connection from `Bun.listen` with `tls` (certificate and key as PEM in `WS_CERT` and `WS_KEY`),
 * echoes every message, and prints `{"port":…}` once listening, then one JSON line with the close
 * it saw.
 */
import { type BunSocket, serverHandlers } from "../../../lib/adapters/bun.js";
import { Bun } from "./bun-runtime.js";
import { echo } from "./exercise.js";
import { errorsOf } from "./tls-exercise.js";

const { process } = globalThis as unknown as { process: { env: Record<string, string | undefined> } };

let accepted: (result: { server: ReturnType<typeof echo>; errors: string[] }) => void = () => undefined;
const session = new Promise<{ server: ReturnType<typeof echo>; errors: string[] }>((resolve) => { accepted = resolve; });
const listener = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  tls: { cert: process.env.WS_CERT ?? "", key: process.env.WS_KEY ?? "" },
  // Handlers go on before the connection reads anything.
  socket: serverHandlers<BunSocket>({}, (connection) => accepted({ errors: errorsOf(connection), server: echo(connection.driver) })),
});
console.log(JSON.stringify({ port: listener.port }));
const { errors, server } = await session;
const closed = await server;
listener.stop(true);
console.log(JSON.stringify({ runtime: "bun", server: closed, errors }));
