/**
 * Run by spec/adapters/timeouts-runtimes.spec.ts under Deno or Bun (`deno run … limits-child.ts`,
 * `bun limits-child.ts`). `server`: a server on the runtime's adapter with small limits, serving
 * the application of limits-app.ts and printing each connection's report; it also opens one
 * connection of the runtime's own WebSocket client that stays idle through seven idle periods.
 * `clients <silent port> <answering port>`: the adapter's client against a server that never
 * answers and one that answers the 101 and then ignores everything.
 */
import * as bun from "../../../lib/adapters/bun.js";
import * as deno from "../../../lib/adapters/deno.js";
import type { ClientDriver } from "../../../lib/types.js";
import { Bun } from "./bun-runtime.js";
import { Deno } from "./deno-runtime.js";
import { serveLimits } from "./limits-app.js";

export const LIMITS = { handshakeTimeout: 150, idleTimeout: 100, closeTimeout: 150, maxBufferedAmount: 1 << 20 };

const onDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const [mode, ...ports] = (onDeno ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args : process.argv.slice(2));

function report(line: string, value: unknown): void {
  console.log(`${line} ${JSON.stringify(value)}`);
}

/** The runtime's own client (it answers pings by itself): open, idle, an echo, then a normal close. */
async function nativeClient(port: number): Promise<void> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/native`);
  await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
  await new Promise((resolve) => setTimeout(resolve, 7 * LIMITS.idleTimeout));
  const echoed = new Promise<string>((resolve) => { socket.onmessage = (event) => resolve(String(event.data)); });
  socket.send("still here");
  report("native", { echoed: await echoed });
  socket.close(1000);
}

async function server(): Promise<void> {
  let port: number;
  if (onDeno) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    port = listener.addr.port;
    void (async () => {
      for (;;) serveLimits(deno.accept(await listener.accept(), LIMITS), (value) => report("report", value));
    })();
  } else {
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: bun.serverHandlers(LIMITS, (connection) => serveLimits(connection, (value) => report("report", value))),
    });
    port = listener.port;
  }
  console.log(`listening ${port}`);
  await nativeClient(port);
}

function outcome(connection: { driver: ClientDriver; on(type: "error", handler: (error: Error) => void): void }): Promise<unknown> {
  const started = Date.now();
  let error = "";
  connection.on("error", (cause) => { error ||= (cause as { option?: string }).option ?? cause.message; });
  return new Promise((resolve) => connection.driver.on("close", ({ code }) => resolve({ code, error, ms: Date.now() - started })));
}

async function clients(silentPort: number, answeringPort: number): Promise<void> {
  const connect = onDeno ? deno.connect : bun.connect;
  report("client", { name: "silent", ...(await outcome(connect(`ws://127.0.0.1:${silentPort}/`, LIMITS)) as object) });
  report("client", { name: "answering", ...(await outcome(connect(`ws://127.0.0.1:${answeringPort}/`, LIMITS)) as object) });
  const closing = connect(`ws://127.0.0.1:${answeringPort}/`, LIMITS);
  closing.driver.on("open", () => closing.driver.close());
  report("client", { name: "deaf", ...(await outcome(closing) as object) });
}

if (mode === "server") await server();
else await clients(Number(ports[0]), Number(ports[1]));
