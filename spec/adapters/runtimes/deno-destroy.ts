/**
 * Run by spec/adapters/destroy.spec.ts with `deno run`: a server on the Deno adapter that, once
 * open, sends 32 MiB to a peer that has stopped reading, then calls `destroy()`, and prints whether
 * the connection was closed at once and how much was still waiting.
 */
import { accept } from "../../../lib/adapters/deno.js";
import { Deno } from "./deno-runtime.js";

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log(`listening ${listener.addr.port}`);
const conn = await listener.accept();
listener.close();
let closeCalls = 0;
const connection = accept({
  readable: conn.readable,
  writable: conn.writable,
  close: () => { closeCalls++; conn.close?.(); },
});
const { driver } = connection;
driver.on("connect", () => driver.start());
const closed = new Promise<number>((resolve) => driver.on("close", ({ code }) => resolve(code)));
driver.on("open", () => {
  const chunk = new Uint8Array(1 << 20).fill(7);
  for (let i = 0; i < 32; i++) driver.binary(chunk);
  const buffered = connection.bufferedAmount;
  connection.destroy();
  console.log(JSON.stringify({ destroyed: true, sent: 32, buffered, closedAtOnce: closeCalls === 1 }));
});
console.log(JSON.stringify({ code: await closed }));
