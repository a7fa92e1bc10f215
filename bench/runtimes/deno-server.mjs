// A WebSocket echo server on Deno for npm run bench, started by bench/runtimes.mjs with its kind:
// "wsdriver" (wsdriver/deno's accept on Deno.listen, as shipped) or "native" (Deno.serve with
// Deno.upgradeWebSocket). Prints `listening <port>`, then echoes every message as it came (text as
// text, binary as binary) until killed. Ours takes text as bytes (`textData: "bytes"`); Deno's
// server does what its users do, a string in and out.
import { accept } from "../../dist/esm/adapters/deno.js";

const kind = Deno.args[0];
if (kind === "wsdriver") {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`listening ${listener.addr.port}`);
  for await (const conn of listener) {
    // Text as its checked UTF-8 bytes, echoed without a decode and an encode.
    const { driver } = accept(conn, { textData: "bytes" });
    driver.on("connect", () => driver.start());
    driver.on("message", ({ data, binary }) => {
      if (binary) driver.binary(data);
      else driver.text(data);
    });
  }
} else if (kind === "native") {
  Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log(`listening ${port}`) }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    socket.onmessage = ({ data }) => socket.send(data);
    return response;
  });
} else {
  throw new Error(`unknown server kind ${kind}`);
}
