/**
 * Run by spec/adapters/streams-runtimes.spec.ts with `deno run`: a message's reader that lags, our
 * server and our client on the Deno adapter over a loopback `Deno.listen` socket (see `slowReader`).
 */
import { accept, connect } from "../../../lib/adapters/deno.js";
import { Deno } from "./deno-runtime.js";
import { slowReader } from "./streams-exercise.js";

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const server = listener.accept().then((conn) => accept(conn, { receive: "stream" }));
const result = await slowReader(server, connect(`ws://127.0.0.1:${listener.addr.port}/`, { receive: "stream" }));
listener.close();
console.log(JSON.stringify({ runtime: "deno", ...result }));
