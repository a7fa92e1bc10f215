/**
 * Run by spec/adapters/closing.spec.ts with `bun`: a server on the Bun adapter fills the socket,
 * then answers the peer's close (see close-full.ts).
 */
import { serveOneConnection } from "./bun-runtime.js";
import { fillThenAnswerClose } from "./close-full.js";

await serveOneConnection((connection) => fillThenAnswerClose(connection, (line) => console.log(line)), false);
