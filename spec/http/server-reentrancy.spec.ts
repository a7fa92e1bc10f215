import { Driver } from "../../lib/driver";
import { CollectingIO, clientFrame, concat, upgradeRequest, utf8 } from "../support/wire";

/**
 * Bytes handed to `parse()` from a handler come after the chunk being read, as the RFC 6455 driver
 * does for frames. The chunk that ends the request head may carry frames after it (a client that did
 * not wait for the 101); bytes a `connect` handler hands over follow those frames.
 */
describe("Driver.server: parse() called from a connect handler", () => {
  const text = (payload: string) => clientFrame({ opcode: 1, payload });
  const head = utf8(upgradeRequest());

  function serve(onConnect: (driver: ReturnType<typeof Driver.server>, messages: string[]) => void) {
    const driver = Driver.server(new CollectingIO());
    const messages: string[] = [];
    driver.on("message", ({ data }) => {
      messages.push(String(data));
      if (data === "A") driver.parse(text("C"));
    });
    driver.on("connect", () => onConnect(driver, messages));
    return { driver, messages };
  }

  it("reads the frames that came with the head first, when the handler starts the driver", () => {
    const { driver, messages } = serve((d) => {
      d.start();
      d.parse(text("B"));
    });
    driver.parse(concat(head, text("A")));
    expect(messages).toEqual(["A", "B", "C"]);
  });

  it("reads the frames that came with the head first, when start() comes later", () => {
    const { driver, messages } = serve((d) => d.parse(text("B")));
    driver.parse(concat(head, text("A")));
    expect(messages).toEqual([]);
    driver.start();
    expect(messages).toEqual(["A", "B", "C"]);
  });

  it("keeps reading a frame cut between the head's chunk and the handler's bytes", () => {
    const frame = text("whole");
    const { driver, messages } = serve((d) => {
      d.start();
      d.parse(frame.subarray(3));
    });
    driver.parse(concat(head, frame.subarray(0, 3)));
    expect(messages).toEqual(["whole"]);
    expect(driver.readyState).toBe(1);
  });

  it("reads bytes handed over after the head's chunk at once, as before", () => {
    const { driver, messages } = serve((d) => d.start());
    driver.parse(head);
    driver.parse(text("A"));
    driver.parse(text("B"));
    expect(messages).toEqual(["A", "C", "B"]);
  });
});
