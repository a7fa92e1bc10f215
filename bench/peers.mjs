// Loads the implementations under test: ours from the build in dist/, and the peers from
// node_modules. ws picks bufferutil up at load time unless WS_NO_BUFFER_UTIL is set, so the pure
// JavaScript ws runs in a child process started with that variable.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export const ours = await import("../dist/esm/index.js");
export const { applyMask } = await import("../dist/esm/util/mask.js");
export const WebSocket = require("ws");
export const { Receiver, Sender, WebSocketServer } = WebSocket;
export const websocketDriver = require("websocket-driver");

/** Whether this process's ws uses the native bufferutil masking. */
export function wsUsesBufferUtil() {
  if (process.env.WS_NO_BUFFER_UTIL) return false;
  try {
    require.resolve("bufferutil");
    return true;
  } catch {
    return false;
  }
}
