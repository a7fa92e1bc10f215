/**
 * wsdriver/testing: unit tests of WebSocket logic without sockets, for any test runner.
 *
 * - `pair`, `serve`: a client and a server driver connected in memory; your server handler against a test client.
 * - `clientPeer`, `serverPeer`: a scripted peer that sends any frame, bad ones included, in any split,
 *   and records what the driver under test writes back as decoded frames and events.
 * - `frame`, `decodeFrames`, `closeOf` …: frames by hand and frames read back, with deterministic masking keys.
 * - `events`, `nextEvent`, `nextMessage`, `closed`: a driver's events recorded, and awaited.
 *
 * Everything here is for tests: the masking keys are predictable on purpose (RFC 6455 §10.3 asks
 * for unpredictable ones on a real connection). See docs/testing.md.
 * @module wsdriver/testing
 */
export {
  type ClientPeerOptions, type DeflateChoice, type DraftPair, type Pair, type PairOptions, type ServerHandler, type ServerPeerOptions,
  clientPeer, pair, serve, serverPeer,
} from "./connect.js";
export { type PeerEvent, type PeerEventType, type PeerOptions, type Sendable, ScriptedPeer } from "./peer.js";
export {
  type DecodedFrame, type FrameSpec, type OpcodeName, EXAMPLE_MASKING_KEY, FrameDecoder, Opcode,
  chunks, closeOf, closePayload, concat, decodeFrames, frame, fromHex, hex, latin1, opcodeOf, splitAt, utf8,
} from "./frames.js";
export { type MaskingKeyChoice, countingKeys, withMaskingKeys } from "./keys.js";
export { type RecordedEvent, EventLog, closed, events, nextEvent, nextMessage } from "./events.js";
export { type PipeEnd, type Split, Pipe, RecordingIO } from "./transport.js";
export {
  type Draft, DRAFT75_REQUEST, DRAFT75_RESPONSE, DRAFT76_BODY, DRAFT76_HEAD, DRAFT76_RESPONSE, DRAFT_CLOSING_FRAME, SAMPLE_KEY,
  draftLengthFrame, draftRequest, draftTextFrame, requestKey, upgradeRequest, upgradeResponse,
} from "./handshake.js";
