/**
 * The Deno adapter over TLS on Deno itself, across real loopback sockets: our client
 * (`connect("wss:…", { caCerts })`, which calls `Deno.connectTls`) in a Deno child against a
 * `node:tls` echo server built from our driver, and our server (`accept` on `Deno.listenTls`) in a
 * Deno child against Node's `ws` client. The certificate is spec/adapters/runtimes/tls/'s
 * localhost certificate, signed by a test CA that each client trusts only when told to.
 */
import { denoArgs, killChildren, run } from "./runtimes/child";
import { CA_PEM, CERT_PEM, KEY_PEM, type TlsEchoServer, startTlsEchoServer } from "./runtimes/tls-echo-server";
import { CLOSE_CODE, CLOSE_REASON, tlsMessages } from "./runtimes/tls-exercise";
import { wsTlsExchange } from "./runtimes/tls-node-client";

afterEach(killChildren);

const ALL_OK = tlsMessages().map(() => "ok");

/** Runs a script in a Deno child until it exits, and returns its last line of output, parsed. */
async function runToEnd(script: string, env: Record<string, string>): Promise<unknown> {
  const child = run(denoArgs(script), env);
  try {
    const { code, stdout, stderr } = await child.exited;
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    return JSON.parse(stdout.trim().split("\n").pop() ?? "");
  } finally {
    child.kill();
  }
}

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

describe("wsdriver/deno accept() on Deno.listenTls", () => {
  it("echoes text and binary of 0, 125, 126 and 65,536 bytes to a ws client that trusts the CA, and both sides see its close", async () => {
    const child = run(denoArgs("spec/adapters/runtimes/deno-tls-server.ts"), { WS_CERT: CERT_PEM, WS_KEY: KEY_PEM });
    try {
      const { port } = JSON.parse(await child.line((line) => line.startsWith('{"port"'))) as { port: number };
      expect(await wsTlsExchange(`wss://localhost:${port}/deno-tls?x=2`, CA_PEM)).toEqual({
        opened: true, echoes: ALL_OK, close: { code: CLOSE_CODE, reason: "" }, errors: [],
      });
      const { code, stdout, stderr } = await child.exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(stdout.trim().split("\n").pop() ?? "")).toEqual({
        runtime: "deno",
        server: { code: CLOSE_CODE, reason: CLOSE_REASON, url: "/deno-tls?x=2" },
        errors: [],
      });
    } finally {
      child.kill();
    }
  });

  it("a client that refuses the certificate ends the connection with an error event and close 1006 in the child", async () => {
    const child = run(denoArgs("spec/adapters/runtimes/deno-tls-server.ts"), { WS_CERT: CERT_PEM, WS_KEY: KEY_PEM });
    try {
      const { port } = JSON.parse(await child.line((line) => line.startsWith('{"port"'))) as { port: number };
      const client = await wsTlsExchange(`wss://localhost:${port}/deno-tls`);
      expect(client).toEqual({
        opened: false, echoes: [], close: { code: 1006, reason: "" }, errors: [expect.stringMatching(/certificate/)],
      });
      const { code, stdout, stderr } = await child.exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(stdout.trim().split("\n").pop() ?? "")).toEqual({
        runtime: "deno",
        server: { code: 1006, reason: "", url: undefined },
        errors: [expect.stringMatching(/^connection: /)],
      });
    } finally {
      child.kill();
    }
  });
});
