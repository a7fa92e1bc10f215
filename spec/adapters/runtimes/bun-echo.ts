/**
 * Run by spec/adapters/bun.spec.ts with `bun`: our server and our client, both on the Bun adapter,
 * over a loopback `Bun.listen` socket.
 */
import { type BunSocket, connect, serverHandlers } from "../../../lib/adapters/bun.js";
import { Bun } from "./bun-runtime.js";
import type { ServerDriver } from "../../../lib/types.js";
import { echo, exchange } from "./exercise.js";


let serverClosed: Promise<Awaited<ReturnType<typeof echo>>> | undefined;
const listener = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: serverHandlers<BunSocket>({}, ({ driver }: { driver: ServerDriver }) => { serverClosed = echo(driver); }),
});
const client = connect(`ws://127.0.0.1:${listener.port}/bun?x=1`);
const result = await exchange(client.driver);
const server = await serverClosed;
listener.stop(true);
console.log(JSON.stringify({ runtime: "bun", ...result, server }));
