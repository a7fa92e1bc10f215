/**
 * Run by spec/adapters/streams-runtimes.spec.ts with `deno run`: messages in pieces as web streams,
 * our server and our client on the Deno adapter over a loopback `Deno.listen` socket.
 */
import { accept, connect } from "../../../lib/adapters/deno.js";
import { Deno } from "./deno-runtime.js";
import { streamEcho, streamExchange } from "./streams-exercise.js";

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const serverClosed = listener.accept().then((conn) => streamEcho(accept(conn, { receive: "stream" })));
const result = await streamExchange(connect(`ws://127.0.0.1:${listener.addr.port}/`, { receive: "stream" }));
const server = await serverClosed;
listener.close();
console.log(JSON.stringify({ runtime: "deno", ...result, server }));
