/**
 * Test support for the proxy specs: a transport that keeps what is written, and a recorder of the
 * tunnel's events.
 */
import { Driver } from "../../lib/driver";
import type { ProxyOptions, ProxyEvents, ProxyTunnel } from "../../lib/proxy";
import type { ClientDriver } from "../../lib/types";

export const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
export const ascii = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

/** An `io` that keeps a copy of every chunk written. */
export class CollectingIO {
  chunks: Uint8Array[] = [];

  write(chunk: Uint8Array): boolean {
    this.chunks.push(Uint8Array.from(chunk));
    return true;
  }

  text(): string {
    return this.chunks.map(ascii).join("");
  }
}

export type ProxyRecord = { [K in keyof ProxyEvents]: [K, ProxyEvents[K]] }[keyof ProxyEvents];

/** A client driver, its tunnel helper (started), and everything they write and emit. */
export function tunnel(
  target = "ws://example.com/chat", proxyUrl = "http://proxy.example:3128", options: ProxyOptions = {},
): { driver: ClientDriver; proxy: ProxyTunnel; io: CollectingIO; events: ProxyRecord[]; request: string } {
  const io = new CollectingIO();
  const driver = Driver.client(target, io);
  const proxy = driver.proxy(proxyUrl, options);
  const events: ProxyRecord[] = [];
  proxy.on("connect", (event) => events.push(["connect", event]));
  proxy.on("error", (error) => events.push(["error", error]));
  proxy.start();
  return { driver, proxy, io, events, request: io.text() };
}
