// A small echo server on localhost built from node:net and the driver: every message comes back.
// `npm start` runs it (after building dist/). PORT picks the port (default 8080).
import { createServer } from "node:net";
import { Driver } from "../dist/esm/index.js";

const port = Number(process.env.PORT ?? 8080);

const server = createServer((socket) => {
  const driver = Driver.server(socket);
  driver.on("connect", () => {
    if (Driver.isWebSocket(driver.request)) driver.start();
    else socket.end("HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nContent-Length: 0\r\n\r\n");
  });
  driver.on("message", ({ data }) => (typeof data === "string" ? driver.text(data) : driver.binary(data)));
  driver.on("close", () => socket.end());
  socket.on("data", (chunk) => driver.parse(chunk));
  socket.on("close", () => driver.end());
  socket.on("error", () => driver.end());
});

server.listen(port, "127.0.0.1", () => {
  console.log(`wsdriver echo server on ws://127.0.0.1:${port}/ (Ctrl-C to stop)`);
});

process.on("SIGINT", () => {
  server.close();
  process.exit(0);
});
