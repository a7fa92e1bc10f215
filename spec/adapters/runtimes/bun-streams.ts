/**
 * Run by spec/adapters/streams-runtimes.spec.ts with `bun`: messages in pieces as web streams, our
 * server and our client on the Bun adapter over a loopback `Bun.listen` socket.
 */
import { type BunSocket, connect, serverHandlers } from "../../../lib/adapters/bun.js";
import { Bun } from "./bun-runtime.js";
import { streamEcho, streamExchange } from "./streams-exercise.js";

let serverClosed: Promise<number> | undefined;
const listener = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: serverHandlers<BunSocket>({ receive: "stream" }, (connection) => { serverClosed = streamEcho(connection); }),
});
const result = await streamExchange(connect(`ws://127.0.0.1:${listener.port}/`, { receive: "stream" }));
const server = await serverClosed;
listener.stop(true);
console.log(JSON.stringify({ runtime: "bun", ...result, server }));
