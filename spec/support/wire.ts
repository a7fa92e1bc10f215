/**
 * Test support: the frame builder, decoder, handshakes, recording io and event log of
 * wsdriver/testing under the names the specs use, and drivers that have completed a handshake.
 */
import { Driver } from "../../lib/driver";
import type { ClientOptions, ServerOptions } from "../../lib/options";
import type { ClientDriver, ServerDriver } from "../../lib/types";
import {
  EXAMPLE_MASKING_KEY, type FrameSpec, type RecordedEvent, RecordingIO, closeOf, decodeFrames, events, frame, requestKey,
  upgradeRequest, upgradeResponse, utf8,
} from "../../lib/testing";

export {
  type DecodedFrame, type FrameSpec, SAMPLE_KEY, concat, decodeFrames as readFrames, frame, requestKey, splitAt,
  upgradeRequest, upgradeResponse, utf8,
} from "../../lib/testing";

export const ascii = (bytes: Uint8Array): string => String.fromCharCode(...bytes);
export const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

/** An `io` that keeps a copy of every chunk written (`all`, `take`, `text`). */
export { RecordingIO as CollectingIO };

export type Recorded = RecordedEvent;

/** Records every event a driver emits, in order (the driver's event log, from now on). */
export const record = (driver: Parameters<typeof events>[0]): Recorded[] => events(driver).all;

export const FIXED_KEY = EXAMPLE_MASKING_KEY;

/** A client frame: masked with the fixed key. */
export const clientFrame = (spec: FrameSpec): Uint8Array => frame({ mask: true, ...spec });

/** A server driver that has read and answered a valid request; its handshake output is discarded. */
export function openServer(options: ServerOptions = {}): { driver: ServerDriver; io: RecordingIO; events: Recorded[] } {
  const io = new RecordingIO();
  const driver = Driver.server(io, options);
  driver.on("connect", () => driver.start());
  driver.parse(utf8(upgradeRequest()));
  io.take();
  const events = record(driver);
  return { driver, io, events };
}

/** A client driver that has sent its request and read a valid 101; its handshake output is discarded. */
export function openClient(options: ClientOptions = {}): { driver: ClientDriver; io: RecordingIO; events: Recorded[] } {
  const io = new RecordingIO();
  const driver = Driver.client("ws://example.com/chat", io, options);
  driver.start();
  const key = requestKey(io.text());
  io.take();
  driver.parse(utf8(upgradeResponse(key)));
  const events = record(driver);
  return { driver, io, events };
}

/** The close frame (code, reason) a driver wrote last. */
export function closeFrameOf(data: Uint8Array): { code: number | null; reason: string } | null {
  const close = decodeFrames(data).filter((f) => f.opcode === 8).pop();
  return close ? closeOf(close) : null;
}

/**
 * Events in a form jest compares quickly: byte arrays become base64 strings (a deep `toEqual` on a
 * 1 MiB `Uint8Array` walks it element by element).
 */
export function comparable(events: Recorded[]): unknown[] {
  return events.map(([type, event]) => {
    if (event instanceof Error) return [type, `${event.name}: ${event.message}`];
    const data = (event as { data?: unknown }).data;
    if (data instanceof Uint8Array) return [type, { data: `bytes:${Buffer.from(data).toString("base64")}` }];
    return [type, event];
  });
}
