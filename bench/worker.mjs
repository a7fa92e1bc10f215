// A child process that runs parse and framing runs on request, for the pure JavaScript ws and our
// pure core (started with WS_NO_BUFFER_UTIL=1 and WSDRIVER_NO_FAST_PATHS=1): the parent interleaves
// its rounds with the in-process ones.
import { buildMessages, FRAME_WORKLOADS, runFramer } from "./framing.mjs";
import { buildInput, PARSE_WORKLOADS, runParser } from "./parse.mjs";

let cached = { key: "", value: null };

function input(key, build) {
  if (cached.key !== key) {
    cached = { key: "", value: null };
    cached = { key, value: build() };
  }
  return cached.value;
}

process.on("message", async (task) => {
  try {
    let result;
    if (task.type === "parse") {
      const workload = PARSE_WORKLOADS[task.workload];
      result = runParser(task.impl, workload, input(`parse ${task.workload}`, () => buildInput(workload)));
    } else if (task.type === "frame") {
      const workload = FRAME_WORKLOADS[task.workload];
      result = await runFramer(task.impl, workload, input(`frame ${task.workload}`, () => buildMessages(workload)), task.masked);
    } else if (task.type === "exit") {
      process.disconnect();
      return;
    }
    process.send({ ok: true, result });
  } catch (error) {
    process.send({ ok: false, error: String(error && error.stack || error) });
  }
});
