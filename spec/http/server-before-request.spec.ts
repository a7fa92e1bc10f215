import { Driver } from "../../lib/driver";
import { CollectingIO, record, upgradeRequest, utf8 } from "../support/wire";

/**
 * `Driver.server` before the request has been read: calls are kept and made on the version driver
 * once it exists, but what they answer, and what `close()` does, must be what the docs say of a
 * driver that is connecting.
 */
describe("Driver.server: setHeader before the request is read", () => {
  it("returns false at once for a name or value that would break the head, as once it is read", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    expect(driver.setHeader("X-Evil", "a\r\nSet-Cookie: x=1")).toBe(false);
    expect(driver.setHeader("Bad Name", "x")).toBe(false);
    expect(driver.setHeader("X-Nul", "a\0b")).toBe(false);
    expect(driver.setHeader("X-Fine", "yes")).toBe(true);
    driver.on("connect", () => driver.start());
    driver.parse(utf8(upgradeRequest()));
    const response = io.text();
    expect(response).toMatch(/^HTTP\/1\.1 101 /);
    expect(response).toContain("X-Fine: yes\r\n");
    expect(response).not.toContain("Set-Cookie");
  });
});
