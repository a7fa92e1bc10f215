/**
 * Test support for the draft drivers: wsdriver/testing's example requests of draft-hixie-75 and -76,
 * their answers and draft frames under the names the specs use, and a server driver that has
 * answered a draft handshake.
 */
import { Driver } from "../../lib/driver";
import type { ServerOptions } from "../../lib/options";
import type { ServerDriver } from "../../lib/types";
import { type Draft, draftRequest, latin1 as latin1Codec } from "../../lib/testing";
import { CollectingIO, type Recorded, record } from "../support/wire";

export {
  DRAFT75_REQUEST, DRAFT75_RESPONSE, DRAFT76_BODY, DRAFT76_HEAD, DRAFT76_RESPONSE, type Draft,
  DRAFT_CLOSING_FRAME as CLOSING_FRAME, draftRequest as exampleRequest, draftLengthFrame as lengthFrame,
  draftTextFrame as textFrame,
} from "../../lib/testing";

export const latin1 = latin1Codec.encode;

/** A `Driver.server` with drafts allowed that has answered a draft's example request; its output is discarded. */
export function openDraft(draft: Draft, options: ServerOptions = {}): { driver: ServerDriver; io: CollectingIO; events: Recorded[] } {
  const io = new CollectingIO();
  const driver = Driver.server(io, { allowDrafts: true, ...options });
  driver.on("connect", () => driver.start());
  driver.parse(draftRequest(draft));
  if (driver.readyState !== 1) throw new Error(`${draft} example did not open`);
  io.take();
  return { driver, io, events: record(driver) };
}
