/**
 * The sending side of the closing-under-backpressure test each runtime runs: once open, send 1 MiB
 * messages until the adapter says the transport is full (bounded) and report; then, when the peer's
 * close frame has been answered, report the close.
 */
import type { ServerDriver } from "../../../lib/types.js";

export interface Filling {
  readonly driver: ServerDriver;
  readonly needsDrain: boolean;
}

export function fillThenAnswerClose(connection: Filling, print: (line: string) => void): Promise<void> {
  const { driver } = connection;
  driver.on("connect", () => driver.start());
  return new Promise((resolve) => {
    driver.on("close", ({ code }) => {
      print(JSON.stringify({ closed: code }));
      resolve();
    });
    driver.on("open", () => {
      const chunk = new Uint8Array(1 << 20).fill(7);
      let sent = 0;
      while (!connection.needsDrain && sent < 256) {
        driver.binary(chunk);
        sent++;
      }
      print(JSON.stringify({ full: connection.needsDrain, sent }));
    });
  });
}
