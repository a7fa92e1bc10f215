/**
 * A client that gives up while its adapter is still connecting (`driver.close()` or `destroy()`
 * before the runtime's connect has resolved) must not leave the socket open once it does: the child
 * script's server counts the sockets that open and close, and prints once both have closed.
 */
import { bunArgs, killChildren, run } from "./runtimes/child";

afterEach(killChildren);

describe("a client closed while its Bun socket is connecting", () => {
  it("ends the socket once it opens, after close() and after destroy()", async () => {
    const child = run(bunArgs("spec/adapters/runtimes/bun-cancel.ts"));
    const { code, stdout, stderr } = await child.exited;
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(stdout.trim())).toEqual({ opened: 2, closed: 2, events: ["close() 1000", "destroy() 1006"] });
  }, 15_000);
});
