/**
 * Run by spec/adapters/backpressure.spec.ts with `bun`: a server on the Bun adapter that sends until
 * Bun's socket takes only part of a write, then waits for it to drain (see flood.ts).
 */
import { type BunSocket, serverHandlers } from "../../../lib/adapters/bun.js";
import { Bun } from "./bun-runtime.js";
import { flood } from "./flood.js";


let flooded: Promise<void> = new Promise(() => undefined);
let started: () => void = () => undefined;
const connected = new Promise<void>((resolve) => { started = resolve; });
const listener = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: serverHandlers<BunSocket>({}, (connection) => {
    flooded = flood(connection, (line) => console.log(line));
    started();
  }),
});
console.log(`listening ${listener.port}`);
await connected;
await flooded;
listener.stop(true);
