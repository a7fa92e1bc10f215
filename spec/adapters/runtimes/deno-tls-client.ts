/**
 * Run by spec/adapters/deno-tls.spec.ts with `deno run`: our client on `wsdriver/deno` connects to
 * `WS_URL` (a `wss:` URL), trusting the PEM certificate in `WS_CA` through the adapter's `caCerts`
 * when it is set, runs the TLS exchange and prints what it saw as one JSON line.
 */
import { connect } from "../../../lib/adapters/deno.js";
import { Deno } from "./deno-runtime.js";
import { tlsExchange } from "./tls-exercise.js";

const env = Deno.env;
const url = env.get("WS_URL") ?? "";
const ca = env.get("WS_CA");
const result = await tlsExchange(connect(url, ca ? { caCerts: [ca] } : {}));
console.log(JSON.stringify({ runtime: "deno", ...result }));
