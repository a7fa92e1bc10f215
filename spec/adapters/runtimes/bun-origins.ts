/**
 * Run by spec/adapters/origins.spec.ts with `bun`: the origin test's two listeners on the Bun
 * adapter's `serverHandlers` (see origins.ts), serving until the spec kills the process.
 */
import { type BunSocket, serverHandlers } from "../../../lib/adapters/bun.js";
import { Bun } from "./bun-runtime.js";
import { LISTENERS, serve } from "./origins.js";

const ports = LISTENERS.map(([name, options]) => Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: serverHandlers<BunSocket>(options, ({ driver }) => serve(name, driver, (line) => console.log(line))),
}).port);
console.log(`listening ${ports.join(" ")}`);
