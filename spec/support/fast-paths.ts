/**
 * Setup for the "fast paths" jest project: installs Node's fast paths into the core before a spec
 * file loads, and refuses to run if bufferutil's native code is missing, so that project never
 * passes on the pure paths by accident.
 */
import { loadBufferUtil, nodeFastPaths } from "../../lib/node/fast-paths";
import { useFastPaths } from "../../lib/util/fast-paths";

if (loadBufferUtil() === null) throw new Error("bufferutil's native addon did not load: the fast-path specs would test the pure paths");
useFastPaths(nodeFastPaths());
