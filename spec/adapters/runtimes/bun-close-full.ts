/**
 * Run by spec/adapters/closing.spec.ts with `bun`: a server on the Bun adapter fills the socket,
 * then answers the peer's close (see close-full.ts).
 */
import { type BunSocket, serverHandlers } from "../../../lib/adapters/bun.js";
import { Bun } from "./bun-runtime.js";
import { fillThenAnswerClose } from "./close-full.js";

let done: Promise<void> = new Promise(() => undefined);
let started: () => void = () => undefined;
const connected = new Promise<void>((resolve) => { started = resolve; });
const listener = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: serverHandlers<BunSocket>({}, (connection) => {
    done = fillThenAnswerClose(connection, (line) => console.log(line));
    started();
  }),
});
console.log(`listening ${listener.port}`);
await connected;
await done;
listener.stop();
