/**
 * Run by spec/adapters/deno-tls.spec.ts with `deno run`: our server on `wsdriver/deno` accepts one
 * connection from `Deno.listenTls` (certificate and key as PEM in `WS_CERT` and `WS_KEY`), echoes
 * every message, and prints `{"port":…}` once listening, then one JSON line with the close it saw.
 */
import { accept } from "../../../lib/adapters/deno.js";
import { Deno } from "./deno-runtime.js";
import { echo } from "./exercise.js";
import { errorsOf } from "./tls-exercise.js";


const listener = Deno.listenTls({
  hostname: "127.0.0.1", port: 0, cert: Deno.env.get("WS_CERT") ?? "", key: Deno.env.get("WS_KEY") ?? "",
});
console.log(JSON.stringify({ port: listener.addr.port }));
const connection = accept(await listener.accept());
listener.close();
// Handlers go on before the connection reads anything: accept() starts reading on a later tick.
const errors = errorsOf(connection);
const server = await echo(connection.driver);
console.log(JSON.stringify({ runtime: "deno", server, errors }));
