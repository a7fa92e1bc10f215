// The heap an open, idle connection costs the protocol code alone, without a socket: 10,000 server
// drivers that have read a request and answered it, and, for ours, 10,000 that have then also read
// a message and echoed it (a driver makes its frame parser, message assembler and framer on first
// use, so a connection that has carried traffic holds more than one that has not). Run as a child
// with --expose-gc; prints JSON.
import { UPGRADE_HEADERS, frameBytes, gc, upgradeRequestBytes } from "./common.mjs";
import { ours, websocketDriver } from "./peers.mjs";

const COUNT = 10_000;
const sink = { write() { return true; } };

function measure(open) {
  const keep = new Array(COUNT);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < COUNT; i++) keep[i] = open();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (keep.some((driver) => driver.readyState !== 1 && driver.getState?.() !== 1)) throw new Error("a driver did not open");
  return (after - before) / COUNT;
}

const request = upgradeRequestBytes("/");
/** A masked text message from the client (RFC 6455 §5.3). */
const MESSAGE = frameBytes(1, Buffer.from("hello, idle world", "latin1"), Buffer.from([0x37, 0xfa, 0x21, 0x3d]));
const result = {
  "wsdriver (Driver.server)": measure(() => {
    const driver = ours.Driver.server(sink);
    driver.on("message", () => {});
    driver.parse(Buffer.from(request));
    driver.start();
    return driver;
  }),
  "wsdriver (Driver.server), after a message each way": measure(() => {
    const driver = ours.Driver.server(sink);
    driver.on("message", ({ data }) => driver.text(data));
    driver.parse(Buffer.from(request));
    driver.start();
    driver.parse(Buffer.from(MESSAGE));
    return driver;
  }),
  "wsdriver (Driver.fromRequest)": measure(() => {
    const driver = ours.Driver.fromRequest({ method: "GET", url: "/", headers: { ...UPGRADE_HEADERS } }, sink);
    driver.on("message", () => {});
    driver.start();
    return driver;
  }),
  "websocket-driver": measure(() => {
    const driver = websocketDriver.http({ method: "GET", url: "/", headers: { ...UPGRADE_HEADERS } });
    driver.on("message", () => {});
    driver.io.on("data", () => {});
    driver.start();
    return driver;
  }),
};
process.stdout.write(JSON.stringify(result) + "\n");
