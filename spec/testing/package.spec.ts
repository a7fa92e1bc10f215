/**
 * `wsdriver/testing` as published: the subpath resolves through the package's `exports` to dist/,
 * as an ES module and as CommonJS, and the deterministic masking keys reach a driver of either build.
 */
import { execFileSync } from "node:child_process";
import { ROOT, ensureBuilt } from "../support/build";

beforeAll(() => ensureBuilt(), 120_000);

const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" }).trim();

/** The RFC 6455 §5.7 example frame, as the kit's client writes it. */
const EXAMPLE = "81 85 37 fa 21 3d 7f 9f 4d 51 58";
const SNIPPET = `const { client, toServer } = t.pair(); toServer.take(); client.text("Hello"); console.log(t.hex(toServer.take()));`;

describe("wsdriver/testing", () => {
  it("imports as an ES module", () => {
    expect(node(["--input-type=module", "-e", `import * as t from "wsdriver/testing"; ${SNIPPET}`])).toBe(EXAMPLE);
  });

  it("requires as CommonJS", () => {
    expect(node(["-e", `const t = require("wsdriver/testing"); ${SNIPPET}`])).toBe(EXAMPLE);
  });

  it("an io given keys by one build masks with them in a driver of the other", () => {
    const code = `
      import { createRequire } from "node:module";
      import * as t from "wsdriver/testing";
      const { Driver } = createRequire(import.meta.url)("wsdriver");
      const io = t.withMaskingKeys(new t.RecordingIO());
      const client = Driver.client("ws://localhost/", io);
      client.start();
      client.parse(t.latin1.encode(t.upgradeResponse(t.requestKey(io.text()))));
      io.take();
      client.text("Hello");
      console.log(t.hex(io.take()));`;
    expect(node(["--input-type=module", "-e", code])).toBe(EXAMPLE);
  });
});
