/**
 * The sending side of the backpressure test each runtime runs: once open, send 1 MiB messages until
 * the adapter says the transport is full (bounded), report, wait for `drained()`, report again and
 * close. The peer is a paused socket in the spec, so the transport really does fill up.
 */
import type { ServerDriver } from "../../../lib/types.js";

export interface Flooding {
  readonly driver: ServerDriver;
  readonly needsDrain: boolean;
  readonly bufferedAmount: number;
  drained(): Promise<void>;
  on(type: "drain", handler: () => void): void;
}

export function flood(connection: Flooding, print: (line: string) => void): Promise<void> {
  const { driver } = connection;
  driver.on("connect", () => driver.start());
  return new Promise((resolve) => {
    driver.on("close", () => resolve());
    driver.on("open", async () => {
      let drainEvents = 0;
      connection.on("drain", () => { drainEvents++; });
      const chunk = new Uint8Array(1 << 20).fill(7);
      let sent = 0;
      while (!connection.needsDrain && sent < 256) {
        driver.binary(chunk);
        sent++;
      }
      print(JSON.stringify({ full: connection.needsDrain, sent, buffered: connection.bufferedAmount }));
      await connection.drained();
      print(JSON.stringify({ drained: !connection.needsDrain, drainEvents: drainEvents > 0 }));
      driver.close("flood over", 1000);
    });
  });
}
