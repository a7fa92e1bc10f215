/**
 * Run by spec/adapters/closing.spec.ts with `deno run`: a server on the Deno adapter fills the
 * connection's writer, then answers the peer's close (see close-full.ts).
 */
import { accept } from "../../../lib/adapters/deno.js";
import { Deno } from "./deno-runtime.js";
import { fillThenAnswerClose } from "./close-full.js";

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log(`listening ${listener.addr.port}`);
const conn = await listener.accept();
listener.close();
await fillThenAnswerClose(accept(conn), (line) => console.log(line));
