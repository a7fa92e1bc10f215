/**
 * Run by spec/adapters/deno.spec.ts with `deno run`: our server and our client, both on the Deno
 * adapter, over a loopback `Deno.listen` socket.
 */
import { accept, connect, type StreamConn } from "../../../lib/adapters/deno.js";
import { echo, exchange } from "./exercise.js";

interface Listener {
  readonly addr: { port: number };
  accept(): Promise<StreamConn>;
  close(): void;
}
const Deno = (globalThis as unknown as { Deno: { listen(options: { hostname: string; port: number }): Listener } }).Deno;

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const serverClosed = listener.accept().then((conn) => echo(accept(conn).driver));
const client = connect(`ws://127.0.0.1:${listener.addr.port}/deno?x=1`);
const result = await exchange(client.driver);
const server = await serverClosed;
listener.close();
console.log(JSON.stringify({ runtime: "deno", ...result, server }));
