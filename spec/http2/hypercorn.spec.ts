/**
 * Our HTTP/2 client against another implementation: Hypercorn (Debian's python3-hypercorn,
 * installed by .ci/run), which answers RFC 8441 extended CONNECTs over TLS with h2 and speaks
 * RFC 6455 through wsproto, permessage-deflate included (spec/http2/peers/hypercorn_echo.py).
 * Without Hypercorn the spec is skipped with a notice, except under CI=true where it fails.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type StreamConnection } from "../../lib/adapters/node";
import { deflate } from "../../lib/extensions/permessage-deflate";
import type { CloseEvent } from "../../lib/events";
import type { Http2ClientDriver } from "../../lib/types";
import { type Child, killChildren, listeningPort, run } from "../adapters/runtimes/child";

/** Debian's interpreter, where apt installs python3-hypercorn (another python3 may come first on PATH). */
const PYTHON = "/usr/bin/python3";
const present = (() => {
  try {
    execFileSync(PYTHON, ["-c", "import hypercorn, h2, wsproto"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const inCi = process.env.CI === "true";
if (!present && !inCi) {
  console.warn("Skipping the Hypercorn spec: python3-hypercorn is not installed (apt-get install python3-hypercorn; .ci/run does).");
}
const describeWithHypercorn = present || inCi ? describe : describe.skip;

const TLS = join(__dirname, "../adapters/runtimes/tls");
const ca = readFileSync(join(TLS, "ca-cert.pem"));

const closed = (driver: Http2ClientDriver): Promise<CloseEvent> => new Promise((resolve) => driver.on("close", resolve));

function messages(driver: Http2ClientDriver, count: number): Promise<Array<string | Uint8Array>> {
  const received: Array<string | Uint8Array> = [];
  return new Promise((resolve) => driver.on("message", ({ data }) => {
    received.push(data);
    if (received.length === count) resolve(received);
  }));
}

function open(url: string): Promise<StreamConnection<Http2ClientDriver>> {
  const connection = connect(url, { http2: true, tls: { ca }, protocols: ["echo"] });
  connection.driver.addExtension(deflate());
  return new Promise((resolve, reject) => {
    connection.on("error", reject);
    connection.driver.on("error", reject);
    connection.driver.on("open", () => resolve(connection));
  });
}

describeWithHypercorn("our HTTP/2 client against Hypercorn", () => {
  let server: Child;
  let url = "";

  beforeAll(async () => {
    if (!present) throw new Error("CI=true but python3-hypercorn is not installed: .ci/run must apt-get install python3-hypercorn");
    server = run([PYTHON, [join(__dirname, "peers/hypercorn_echo.py"), join(TLS, "localhost-cert.pem"), join(TLS, "localhost-key.pem")]]);
    url = `wss://localhost:${await listeningPort(server)}/echo`;
  }, 30_000);

  afterAll(() => killChildren());

  it("opens with 200 over h2, negotiates echo and permessage-deflate, and echoes text and binary", async () => {
    const client = await open(url);
    expect(client.driver.statusCode).toBe(200);
    expect(client.driver.headers["server"]).toBe("hypercorn-h2");
    expect(client.driver.protocol).toBe("echo");
    expect(client.driver.headers["sec-websocket-extensions"]).toMatch(/^permessage-deflate/);
    expect((client.session as unknown as { alpnProtocol: string }).alpnProtocol).toBe("h2");
    const replies = messages(client.driver, 3);
    client.driver.text("hello ☃");
    client.driver.binary(Uint8Array.of(1, 2, 3, 4));
    // 1 MiB of text that compresses poorly: many DATA frames, flow-control window updates both ways.
    const large = Array.from({ length: 1 << 20 }, (_, i) => String.fromCharCode(97 + ((i * 7919) % 26))).join("");
    client.driver.text(large);
    expect(await replies).toEqual(["http/2 hello ☃", Uint8Array.of(4, 3, 2, 1), `http/2 ${large}`]);
    const done = closed(client.driver);
    client.driver.close("done", 1000);
    expect(await done).toEqual({ code: 1000, reason: "done" });
  });

  it("hears Hypercorn's close code and reason", async () => {
    const client = await open(url);
    const done = closed(client.driver);
    client.driver.text("close 4001 bye now");
    expect(await done).toEqual({ code: 4001, reason: "bye now" });
  });

  it("ten clients to one origin share one HTTP/2 connection", async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => open(url)));
    expect(new Set(clients.map((c) => c.session)).size).toBe(1);
    expect(new Set(clients.map((c) => c.stream!.id)).size).toBe(10);
    const replies = await Promise.all(clients.map((c, i) => {
      const reply = messages(c.driver, 1);
      c.driver.text(`client ${i}`);
      return reply;
    }));
    expect(replies).toEqual(clients.map((_, i) => [`http/2 client ${i}`]));
    const codes = await Promise.all(clients.map((c, i) => {
      const done = closed(c.driver);
      c.driver.close("", 4000 + i);
      return done;
    }));
    expect(codes.map((event) => event.code)).toEqual(clients.map((_, i) => 4000 + i));
  });
});
