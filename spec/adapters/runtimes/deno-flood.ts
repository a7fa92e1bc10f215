/**
 * Run by spec/adapters/backpressure.spec.ts with `deno run`: a server on the Deno adapter that sends
 * until the connection's writer is full, then waits for it to drain (see flood.ts).
 */
import { accept } from "../../../lib/adapters/deno.js";
import { Deno } from "./deno-runtime.js";
import { flood } from "./flood.js";


const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log(`listening ${listener.addr.port}`);
const conn = await listener.accept();
await flood(accept(conn), (line) => console.log(line));
listener.close();
