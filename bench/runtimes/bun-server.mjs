// A WebSocket echo server on Bun for npm run bench, started by bench/runtimes.mjs with its kind:
// "wsdriver" (wsdriver/bun's serverHandlers on Bun.listen, as shipped) or "native" (Bun.serve's
// own websocket, uWebSockets in C++). Prints `listening <port>`, then echoes every message as it
// came (text as text, binary as binary) until killed. Ours takes text as bytes (`textData:
// "bytes"`); Bun.serve's handler does what its users do.
import { serverHandlers } from "../../dist/esm/adapters/bun.js";

const kind = process.argv[2];
let port;
if (kind === "wsdriver") {
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    // Text as its checked UTF-8 bytes, echoed without a decode and an encode.
    socket: serverHandlers({ textData: "bytes" }, ({ driver }) => {
      driver.on("connect", () => driver.start());
      driver.on("message", ({ data, binary }) => {
        if (binary) driver.binary(data);
        else driver.text(data);
      });
    }),
  });
  port = listener.port;
} else if (kind === "native") {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request, server) {
      if (server.upgrade(request)) return undefined;
      return new Response("WebSocket only", { status: 426 });
    },
    websocket: {
      perMessageDeflate: false,
      message(ws, data) {
        ws.send(data);
      },
    },
  });
  port = server.port;
} else {
  throw new Error(`unknown server kind ${kind}`);
}
console.log(`listening ${port}`);
