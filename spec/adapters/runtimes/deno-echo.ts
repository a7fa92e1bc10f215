/**
 * Run by spec/adapters/deno.spec.ts with `deno run`: our server and our client, both on the Deno
 * adapter, over a loopback `Deno.listen` socket.
 */
import { accept, connect } from "../../../lib/adapters/deno.js";
import { Deno } from "./deno-runtime.js";
import { echo, exchange } from "./exercise.js";


const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const serverClosed = listener.accept().then((conn) => echo(accept(conn).driver));
const client = connect(`ws://127.0.0.1:${listener.addr.port}/deno?x=1`);
const result = await exchange(client.driver);
const server = await serverClosed;
listener.close();
console.log(JSON.stringify({ runtime: "deno", ...result, server }));
