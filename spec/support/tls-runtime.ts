/**
 * What the Deno and Bun TLS specs share: running an adapter script in a runtime child to its end,
 * and the server-side cases (our server on the runtime's TLS listener against Node's `ws` client).
 */
import { run } from "../adapters/runtimes/child";
import { CA_PEM, CERT_PEM, KEY_PEM } from "../adapters/runtimes/tls-echo-server";
import { CLOSE_CODE, CLOSE_REASON, tlsMessages } from "../adapters/runtimes/tls-exercise";
import { wsTlsExchange } from "../adapters/runtimes/tls-node-client";

/** Every message of the exchange echoed intact, as the child reports it. */
export const ALL_OK = tlsMessages().map(() => "ok");

/** Runs a child (its command line `args`) until it exits cleanly, and returns its last line of output, parsed. */
export async function runToEnd(args: [string, string[]], env: Record<string, string>): Promise<unknown> {
  const child = run(args, env);
  try {
    const { code, stdout, stderr } = await child.exited;
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    return JSON.parse(stdout.trim().split("\n").pop() ?? "");
  } finally {
    child.kill();
  }
}

/**
 * The server cases: `args` starts the runtime's TLS server script, which prints `{"port": …}` and,
 * when its one connection has closed, the close it saw and its `error` events.
 */
export function describeTlsServer(runtime: "deno" | "bun", title: string, args: [string, string[]]): void {
  /** Starts the server, runs `exchange` against its port, and returns what the server reported. */
  async function serve<T>(exchange: (port: number) => Promise<T>): Promise<{ client: T; server: unknown }> {
    const child = run(args, { WS_CERT: CERT_PEM, WS_KEY: KEY_PEM });
    try {
      const { port } = JSON.parse(await child.line((line) => line.startsWith('{"port"'))) as { port: number };
      const client = await exchange(port);
      const { code, stdout, stderr } = await child.exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      return { client, server: JSON.parse(stdout.trim().split("\n").pop() ?? "") };
    } finally {
      child.kill();
    }
  }

  describe(title, () => {
    it("echoes text and binary of 0, 125, 126 and 65,536 bytes to a ws client that trusts the CA, and both sides see its close", async () => {
      const { client, server } = await serve((port) => wsTlsExchange(`wss://localhost:${port}/${runtime}-tls?x=2`, CA_PEM));
      expect(client).toEqual({ opened: true, echoes: ALL_OK, close: { code: CLOSE_CODE, reason: "" }, errors: [] });
      expect(server).toEqual({
        runtime,
        server: { code: CLOSE_CODE, reason: CLOSE_REASON, url: `/${runtime}-tls?x=2` },
        errors: [],
      });
    });

    it("a client that refuses the certificate ends the connection with an error event and close 1006 in the child", async () => {
      const { client, server } = await serve((port) => wsTlsExchange(`wss://localhost:${port}/${runtime}-tls`));
      expect(client).toEqual({ opened: false, echoes: [], close: { code: 1006, reason: "" }, errors: [expect.stringMatching(/certificate/)] });
      expect(server).toEqual({
        runtime,
        server: { code: 1006, reason: "", url: undefined },
        // The runtime reports the client's hang-up during the TLS handshake.
        errors: [expect.stringMatching(/^connection: /)],
      });
    });
  });
}
