/**
 * Setup for the "fast paths" jest project: installs every runtime's fast paths into the core
 * before a spec file loads (Node's, and Deno's decoding by replacement), so the suites that judge
 * correctness byte by byte judge each of them, and refuses to run if bufferutil's native code is
 * missing, so that project never passes on the pure paths by accident.
 */
import { loadBufferUtil, nodeFastPaths } from "../../lib/node/fast-paths";
import { useFastPaths } from "../../lib/util/fast-paths";
import { decodeUtf8ByReplacement } from "../../lib/util/utf8";

if (loadBufferUtil() === null) throw new Error("bufferutil's native addon did not load: the fast-path specs would test the pure paths");
useFastPaths({ ...nodeFastPaths(), decodeUtf8: decodeUtf8ByReplacement });
