/**
 * Run by spec/adapters/streams-runtimes.spec.ts with `bun`: a message's reader that lags, our server
 * and our client on the Bun adapter over a loopback `Bun.listen` socket (see `slowReader`).
 */
import { type BunConnection, type BunSocket, connect, serverHandlers } from "../../../lib/adapters/bun.js";
import type { ServerDriver } from "../../../lib/types.js";
import { Bun } from "./bun-runtime.js";
import { slowReader } from "./streams-exercise.js";

let accepted: (connection: BunConnection<ServerDriver>) => void = () => undefined;
const server = new Promise<BunConnection<ServerDriver>>((resolve) => { accepted = resolve; });
const listener = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: serverHandlers<BunSocket>({ receive: "stream" }, (connection) => accepted(connection)),
});
const result = await slowReader(server, connect(`ws://127.0.0.1:${listener.port}/`, { receive: "stream" }));
listener.stop(true);
console.log(JSON.stringify({ runtime: "bun", ...result }));
