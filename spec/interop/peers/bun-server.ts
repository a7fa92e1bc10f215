/**
 * A peer for spec/interop: Bun's built-in WebSocket server (`Bun.serve` with `websocket` handlers)
 * on an ephemeral port, with permessage-deflate. Echoes every message; "close-me" makes it close with 4003. Prints
 * `listening <port>`, then `closed <code> <reason>` for every connection that ends.
 */
interface BunServerWebSocket {
  send(data: string | Uint8Array): unknown;
  close(code?: number, reason?: string): void;
}
interface BunWebSocketServer {
  serve(options: {
    hostname: string;
    port: number;
    fetch(request: Request, server: { upgrade(request: Request, options?: { headers?: Record<string, string> }): boolean }): Response | undefined;
    websocket: {
      perMessageDeflate: boolean;
      message(ws: BunServerWebSocket, data: string | Uint8Array): void;
      close(ws: BunServerWebSocket, code: number, reason: string): void;
    };
  }): { port: number };
}
const Bun = (globalThis as unknown as { Bun: BunWebSocketServer }).Bun;

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(request, upgrader) {
    const offered = request.headers.get("sec-websocket-protocol") ?? "";
    const headers: Record<string, string> = offered.includes("echo") ? { "Sec-WebSocket-Protocol": "echo" } : {};
    if (upgrader.upgrade(request, { headers })) return undefined;
    return new Response("WebSocket only", { status: 426 });
  },
  websocket: {
    perMessageDeflate: true,
    message(ws, data) {
      if (data === "close-me") ws.close(4003, "server says bye");
      else ws.send(data);
    },
    close(_ws, code, reason) {
      console.log(`closed ${code} ${reason}`);
    },
  },
});
console.log(`listening ${server.port}`);
