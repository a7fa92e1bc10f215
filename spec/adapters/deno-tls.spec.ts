/**
 * The Deno adapter over TLS on Deno itself, across real loopback sockets: our client
 * (`connect("wss:…", { caCerts })`, which calls `Deno.connectTls`) in a Deno child against a
 * `node:tls` echo server built from our driver, and our server (`accept` on `Deno.listenTls`) in a
 * Deno child against Node's `ws` client. The certificate is spec/adapters/runtimes/tls/'s
 * localhost certificate, signed by a test CA that each client trusts only when told to.
 */
import { denoArgs, killChildren } from "./runtimes/child";
import { CA_PEM, type TlsEchoServer, startTlsEchoServer } from "./runtimes/tls-echo-server";
import { CLOSE_CODE, CLOSE_REASON } from "./runtimes/tls-exercise";
import { ALL_OK, describeTlsServer, runToEnd as runChild } from "../support/tls-runtime";

afterEach(killChildren);


/** Runs a script in a Deno child until it exits, and returns its last line of output, parsed. */
const runToEnd = (script: string, env: Record<string, string>): Promise<unknown> => runChild(denoArgs(script), env);

describe("wsdriver/deno connect() to a wss: server (Deno.connectTls with caCerts)", () => {
  let server: TlsEchoServer;
  beforeAll(async () => { server = await startTlsEchoServer(); });
  afterAll(() => server.stop());

  it.each([
    ["127.0.0.1", false],
    // Deno sends the host name in the ClientHello (SNI) for a name, not for an IP address.
    ["localhost", "localhost"],
  ] as const)("trusting the CA through caCerts, echoes text and binary of 0, 125, 126 and 65,536 bytes on %s and closes with a code both sides see", async (host, servername) => {
    const first = server.sessions.length;
    const result = await runToEnd("spec/adapters/runtimes/deno-tls-client.ts", {
      WS_URL: `wss://${host}:${server.port}/deno-tls?x=1`, WS_CA: CA_PEM,
    });
    expect(result).toEqual({
      runtime: "deno",
      opened: true,
      echoes: ALL_OK,
      close: { code: CLOSE_CODE, reason: "" },
      errors: [],
    });
    expect(server.sessions).toHaveLength(first + 1);
    expect(server.sessions[first].servername).toBe(servername);
    expect(await server.sessions[first].closed).toEqual({ code: CLOSE_CODE, reason: CLOSE_REASON, url: "/deno-tls?x=1" });
  });

  it("without caCerts, a certificate from an untrusted CA is an error event and close 1006 in the child, not a hang or a throw", async () => {
    const first = server.sessions.length;
    const refused = server.nextClientError();
    const result = await runToEnd("spec/adapters/runtimes/deno-tls-client.ts", {
      WS_URL: `wss://127.0.0.1:${server.port}/deno-tls`,
    });
    expect(result).toEqual({
      runtime: "deno",
      opened: false,
      echoes: [],
      close: { code: 1006, reason: "" },
      errors: [expect.stringMatching(/^connection: invalid peer certificate: UnknownIssuer/)],
    });
    // The client refused the handshake (TLS alert 48, unknown_ca): no WebSocket session began.
    expect(await refused).toMatch(/unknown ca/);
    expect(server.sessions).toHaveLength(first);
  });
});

describeTlsServer("deno", "wsdriver/deno accept() on Deno.listenTls", denoArgs("spec/adapters/runtimes/deno-tls-server.ts"));
