// Loads the implementations under test: ours from the build in dist/, and the peers from
// node_modules. ws picks bufferutil up at load time unless WS_NO_BUFFER_UTIL is set, so the pure
// JavaScript ws runs in a child process started with that variable. Ours is loaded through its Node
// entry (what `import "wsdriver"` gives on Node), which installs its fast paths unless
// WSDRIVER_NO_FAST_PATHS is set: the pure core runs in that same child, started with both.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);

/** The ES module build to measure: dist/esm, or another build's folder in BENCH_DIST. */
const dist = process.env.BENCH_DIST ? pathToFileURL(`${process.env.BENCH_DIST.replace(/\/$/, "")}/`) : new URL("../dist/esm/", import.meta.url);

export const ours = await import(new URL("node/index.js", dist).href);
export const { fastPaths, useFastPaths } = await import(new URL("util/fast-paths.js", dist).href);
export const { applyMask } = await import(new URL("util/mask.js", dist).href);
export const nodeAdapter = await import(new URL("adapters/node.js", dist).href);
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

/** bufferutil's native masking, for the baselines: what ws + bufferutil unmasks with. */
export const bufferUtil = wsUsesBufferUtil() ? require("bufferutil") : null;
