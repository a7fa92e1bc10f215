/**
 * Run by spec/adapters/bun-tls.spec.ts with `bun`: our client on `wsdriver/bun` connects to
 * `WS_URL` (a `wss:` URL) with `WS_TLS` (JSON) as the adapter's `tls` option, `WS_CA` (PEM) added
 * as its `ca` when set, runs the TLS exchange and prints what it saw as one JSON line.
 */
import { type BunClientOptions, connect } from "../../../lib/adapters/bun.js";
import { tlsExchange } from "./tls-exercise.js";

const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;
const url = env.WS_URL ?? "";
const tls = env.WS_TLS === undefined ? undefined : JSON.parse(env.WS_TLS) as Record<string, unknown>;
const options: BunClientOptions = env.WS_CA ? { tls: { ...tls, ca: env.WS_CA } } : tls ? { tls } : {};
const result = await tlsExchange(connect(url, options));
console.log(JSON.stringify({ runtime: "bun", ...result }));
