/**
 * The demo with a local certificate (TLS_CERT, TLS_KEY): HTTPS from node:http2, where a client
 * that speaks HTTP/2 gets the chat as an extended CONNECT stream (RFC 8441) and one that does not
 * gets the HTTP/1.1 upgrade; both are in the same chat. Other CONNECTs are refused.
 */
import { readFileSync } from "node:fs";
import * as http2 from "node:http2";
import { join } from "node:path";
import { connect } from "../../lib/adapters/node";
import type { ClientDriver } from "../../lib/types";
import { ensureBuilt } from "../support/build";
import { type Demo, startDemo } from "./start";

const TLS = join(__dirname, "../adapters/runtimes/tls");
const ca = readFileSync(join(TLS, "ca-cert.pem"));

/** The demo's JSON events on one client, until `count` have arrived. */
function events(driver: ClientDriver, count: number): Promise<Array<Record<string, unknown>>> {
  const seen: Array<Record<string, unknown>> = [];
  return new Promise((resolve) => driver.on("message", ({ data }) => {
    seen.push(JSON.parse(String(data)));
    if (seen.length === count) resolve(seen);
  }));
}

describe("the demo over HTTPS with HTTP/2", () => {
  let demo: Demo;
  beforeAll(async () => {
    ensureBuilt();
    demo = await startDemo({ TLS_CERT: join(TLS, "localhost-cert.pem"), TLS_KEY: join(TLS, "localhost-key.pem") });
  }, 120_000);
  afterAll(() => demo.stop());

  it("prints its https: URL and says it serves HTTP/2", () => {
    expect(demo.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    expect(demo.output()).toMatch(/over HTTP\/2/);
  });

  it("puts an HTTP/2 stream and an HTTP/1.1 upgrade in the same chat, each told which it got", async () => {
    const url = demo.url.replace("https://127.0.0.1", "wss://localhost") + "chat";
    const overHttp2 = connect(url, { http2: true, tls: { ca } });
    const h2Events = events(overHttp2.driver, 3);
    await new Promise((resolve) => overHttp2.driver.on("open", resolve));
    const overHttp1 = connect(url, { tls: { ca } });
    const h1Events = events(overHttp1.driver, 2);
    await new Promise((resolve) => overHttp1.driver.on("open", resolve));
    const [welcome1] = await h1Events;
    expect(welcome1).toMatchObject({ type: "welcome", over: "HTTP/1.1" });
    const [welcome2, , presence] = await h2Events;
    expect(welcome2).toMatchObject({ type: "welcome", over: "HTTP/2" });
    expect(presence).toEqual({ type: "presence", count: 2 });
    const message = events(overHttp1.driver, 1);
    overHttp2.driver.text("hello from a stream");
    expect((await message)[0]).toMatchObject({ type: "message", from: welcome2.name, text: "hello from a stream" });
    for (const { driver } of [overHttp1, overHttp2]) {
      const closed = new Promise((resolve) => driver.on("close", resolve));
      driver.close();
      expect(await closed).toEqual({ code: 1000, reason: "" });
    }
  });

  it("answers 404 to a CONNECT for another path and 400 to an extended CONNECT that is not a WebSocket's", async () => {
    const session = http2.connect(demo.url.replace("127.0.0.1", "localhost"), { ca });
    await new Promise((resolve) => session.once("remoteSettings", resolve));
    const status = (headers: http2.OutgoingHttpHeaders) => new Promise<[number, string]>((resolve) => {
      const stream = session.request(headers, { endStream: false });
      let body = "";
      stream.on("response", (response) => {
        stream.setEncoding("utf8");
        stream.on("data", (text: string) => (body += text));
        stream.on("end", () => {
          // Our side of the request stream was left open (a CONNECT's data would follow): close it.
          stream.close();
          resolve([Number(response[":status"]), body]);
        });
      });
    });
    try {
      const websocket = { ":method": "CONNECT", ":protocol": "websocket", ":scheme": "https", "sec-websocket-version": "13" };
      expect(await status({ ...websocket, ":path": "/elsewhere" })).toEqual([404, "Not found\n"]);
      expect(await status({ ...websocket, ":path": "/chat", "sec-websocket-version": "8" }))
        .toEqual([400, "Unsupported sec-websocket-version: 8"]);
    } finally {
      // Not a graceful close that would outlive the demo: a reset then is an error nobody awaits.
      session.destroy();
    }
  });
});
