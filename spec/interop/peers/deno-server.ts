/**
 * A peer for spec/interop: Deno's built-in WebSocket server (`Deno.serve` + `Deno.upgradeWebSocket`)
 * on an ephemeral port. Echoes every message; "close-me" makes it close with 4003. Prints
 * `listening <port>`, then `closed <code> <reason>` for every connection that ends.
 */
interface DenoWebSocketServer {
  serve(options: { hostname: string; port: number; onListen(addr: { port: number }): void },
    handler: (request: Request) => Response): unknown;
  upgradeWebSocket(request: Request, options?: { protocol?: string }): { socket: WebSocket; response: Response };
}
const Deno = (globalThis as unknown as { Deno: DenoWebSocketServer }).Deno;

Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log(`listening ${port}`) }, (request) => {
  const offered = request.headers.get("sec-websocket-protocol") ?? "";
  const { socket, response } = Deno.upgradeWebSocket(request, offered.includes("echo") ? { protocol: "echo" } : {});
  socket.onmessage = ({ data }) => {
    if (data === "close-me") socket.close(4003, "server says bye");
    else socket.send(data);
  };
  socket.onclose = ({ code, reason }) => console.log(`closed ${code} ${reason}`);
  return response;
});
