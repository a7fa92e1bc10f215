/**
 * The Bun adapter over TLS on Bun itself, across real loopback sockets: our client
 * (`connect("wss:…", { tls })`, which calls `Bun.connect` with `tls`) in a Bun child against a
 * `node:tls` echo server built from our driver, and our server (`serverHandlers` on `Bun.listen`
 * with `tls`) in a Bun child against Node's `ws` client. The certificate is
 * spec/adapters/runtimes/tls/'s localhost certificate, signed by a test CA that each client trusts
 * only when told to.
 */
import { bunArgs, killChildren } from "./runtimes/child";
import { CA_PEM, type TlsEchoServer, startTlsEchoServer } from "./runtimes/tls-echo-server";
import { CLOSE_CODE, CLOSE_REASON } from "./runtimes/tls-exercise";
import { ALL_OK, describeTlsServer, runToEnd as runChild } from "../support/tls-runtime";

afterEach(killChildren);

const CLIENT = "spec/adapters/runtimes/bun-tls-client.ts";
const SERVER = "spec/adapters/runtimes/bun-tls-server.ts";

/** Runs a script in a Bun child until it exits, and returns its last line of output, parsed. */
const runToEnd = (script: string, env: Record<string, string>): Promise<unknown> => runChild(bunArgs(script), env);

/** What the child prints when the TLS handshake failed: no open, no echo, an `error`, then 1006. */
const refusedWith = (message: RegExp) => ({
  runtime: "bun",
  opened: false,
  echoes: [],
  close: { code: 1006, reason: "" },
  errors: [expect.stringMatching(message)],
});

describe("wsdriver/bun connect() to a wss: server (Bun.connect with tls)", () => {
  let server: TlsEchoServer;
  beforeAll(async () => { server = await startTlsEchoServer(); });
  afterAll(() => server.stop());

  it.each(["127.0.0.1", "localhost"])("trusting the CA through tls.ca, echoes text and binary of 0, 125, 126 and 65,536 bytes on %s and closes with a code both sides see", async (host) => {
    const first = server.sessions.length;
    const result = await runToEnd(CLIENT, { WS_URL: `wss://${host}:${server.port}/bun-tls?x=1`, WS_CA: CA_PEM });
    expect(result).toEqual({ runtime: "bun", opened: true, echoes: ALL_OK, close: { code: CLOSE_CODE, reason: "" }, errors: [] });
    expect(server.sessions).toHaveLength(first + 1);
    // The host name goes out in the ClientHello (SNI).
    if (host === "localhost") expect(server.sessions[first].servername).toBe("localhost");
    expect(await server.sessions[first].closed).toEqual({ code: CLOSE_CODE, reason: CLOSE_REASON, url: "/bun-tls?x=1" });
  });

  describe.each([
    ["with no tls option", undefined],
    // Bun.connect treats a tls object with no option it knows as "no TLS" and would speak plain TCP.
    ["with an empty tls object", "{}"],
  ])("%s, a certificate from an untrusted CA", (_name, tls) => {
    it("is an error event and close 1006 in the child after a TLS handshake, not a hang or a throw", async () => {
      const first = server.sessions.length;
      const refused = server.nextClientError();
      const result = await runToEnd(CLIENT, { WS_URL: `wss://127.0.0.1:${server.port}/bun-tls`, ...(tls ? { WS_TLS: tls } : {}) });
      expect(result).toEqual(refusedWith(/^connection: unable to verify the first certificate/));
      // The client hung up during the TLS handshake: plain HTTP would read as "wrong version number".
      expect(await refused).not.toMatch(/wrong version number|http request/i);
      expect(server.sessions).toHaveLength(first);
    });
  });

  it("a server certificate that does not name tls.serverName is an error event and close 1006", async () => {
    const result = await runToEnd(CLIENT, {
      WS_URL: `wss://127.0.0.1:${server.port}/bun-tls`, WS_CA: CA_PEM, WS_TLS: JSON.stringify({ serverName: "example.com" }),
    });
    expect(result).toEqual(refusedWith(/^connection: Hostname\/IP does not match certificate's altnames/));
  });

  it("tls.rejectUnauthorized: false is passed on: an untrusted certificate is accepted and the exchange runs", async () => {
    const first = server.sessions.length;
    const result = await runToEnd(CLIENT, {
      WS_URL: `wss://127.0.0.1:${server.port}/bun-tls?x=2`, WS_TLS: JSON.stringify({ rejectUnauthorized: false }),
    });
    expect(result).toEqual({ runtime: "bun", opened: true, echoes: ALL_OK, close: { code: CLOSE_CODE, reason: "" }, errors: [] });
    expect(await server.sessions[first].closed).toEqual({ code: CLOSE_CODE, reason: CLOSE_REASON, url: "/bun-tls?x=2" });
  });
});

describeTlsServer("bun", "wsdriver/bun serverHandlers on Bun.listen with tls", bunArgs(SERVER));
