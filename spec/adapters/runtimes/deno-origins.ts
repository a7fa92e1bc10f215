/**
 * Run by spec/adapters/origins.spec.ts with `deno run`: the origin test's two listeners on the Deno
 * adapter's `accept` (see origins.ts), serving until the spec kills the process.
 */
import { accept } from "../../../lib/adapters/deno.js";
import { Deno, type DenoListener } from "./deno-runtime.js";
import { LISTENERS, serve } from "./origins.js";

async function acceptAll(name: string, listener: DenoListener, options: (typeof LISTENERS)[number][1]): Promise<void> {
  for (;;) serve(name, accept(await listener.accept(), options).driver, (line) => console.log(line));
}

const listeners = LISTENERS.map(([name, options]) => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  void acceptAll(name, listener, options);
  return listener;
});
console.log(`listening ${listeners.map((listener) => listener.addr.port).join(" ")}`);
