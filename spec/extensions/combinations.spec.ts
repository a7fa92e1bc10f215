/**
 * RFC 7692 §7.1 negotiation, every combination: each set of client options against each set of
 * server options, our client and server joined in memory. The response must carry exactly the
 * parameters §7.1 calls for, the connection must open, and the frames each side then sends must
 * follow what was agreed: context takeover (a repeated "Hello" shrinks to a back-reference) or not,
 * and no compression from a side whose window was limited to 8 bits (which zlib cannot honour).
 */
import type { DeflateOptions } from "../../lib/extensions/permessage-deflate";
import { decodeFrames, pair } from "../../lib/testing";

const PMD = "permessage-deflate";

function* product<T extends Record<string, readonly unknown[]>>(axes: T): Generator<{ [K in keyof T]: T[K][number] }> {
  const keys = Object.keys(axes) as Array<keyof T>;
  const walk = function* (i: number, acc: Partial<{ [K in keyof T]: T[K][number] }>): Generator<{ [K in keyof T]: T[K][number] }> {
    if (i === keys.length) { yield { ...acc } as { [K in keyof T]: T[K][number] }; return; }
    for (const value of axes[keys[i]]) yield* walk(i + 1, { ...acc, [keys[i]]: value });
  };
  yield* walk(0, {});
}

const clientSets = [...product({
  serverNoContextTakeover: [false, true],
  clientNoContextTakeover: [false, true],
  serverMaxWindowBits: [undefined, 8, 10, 15],
  clientMaxWindowBits: [true, false, 8, 15],
})];
const serverSets = [...product({
  serverNoContextTakeover: [false, true],
  clientNoContextTakeover: [false, true],
  serverMaxWindowBits: [undefined, 9, 12],
  clientMaxWindowBits: [undefined, 10],
})];

/** What §7.1 says the server answers, and the windows each side may then compress with. */
function expected(client: DeflateOptions, server: DeflateOptions) {
  const params: string[] = [];
  const serverNoContext = Boolean(client.serverNoContextTakeover || server.serverNoContextTakeover);
  const clientNoContext = Boolean(client.clientNoContextTakeover || server.clientNoContextTakeover);
  if (serverNoContext) params.push("server_no_context_takeover");
  if (clientNoContext) params.push("client_no_context_takeover");
  let serverBits = 15;
  if (client.serverMaxWindowBits !== undefined || server.serverMaxWindowBits !== undefined) {
    serverBits = Math.min(client.serverMaxWindowBits ?? 15, server.serverMaxWindowBits ?? 15);
    params.push(`server_max_window_bits=${serverBits}`);
  }
  const offered = client.clientMaxWindowBits;
  let clientBits = typeof offered === "number" ? offered : 15;
  if (offered !== false && typeof server.clientMaxWindowBits === "number") {
    clientBits = Math.min(clientBits, server.clientMaxWindowBits);
    params.push(`client_max_window_bits=${clientBits}`);
  }
  return { header: [PMD, ...params].join("; "), serverNoContext, clientNoContext, serverBits, clientBits };
}

/** Our client and server with the given options, joined in memory; the bytes each side writes from now on, by side. */
function connectPair(clientOptions: DeflateOptions, serverOptions: DeflateOptions) {
  const { client, server, clientEvents, serverEvents, toServer, toClient } = pair({ deflate: { client: clientOptions, server: serverOptions } });
  toServer.take();
  toClient.take();
  const errors = [...serverEvents.errors.map((e) => `server: ${e.message}`), ...clientEvents.errors.map((e) => `client: ${e.message}`)];
  return { server, client, wrote: { server: toClient, client: toServer }, messages: { server: serverEvents, client: clientEvents }, errors };
}

/** The data frames in what one side wrote, as [rsv, payload length]. */
const shape = (wrote: { take(): Uint8Array }) => decodeFrames(wrote.take()).map((f) => [f.rsv, f.payload.length]);

describe("RFC 7692 §7.1: every client offer against every server configuration", () => {
  it.each(clientSets.map((options) => [JSON.stringify(options), options] as const))("client %s", (_, clientOptions) => {
    const failures: string[] = [];
    for (const serverOptions of serverSets) {
      const want = expected(clientOptions, serverOptions);
      const { server, client, wrote, messages, errors } = connectPair(clientOptions, serverOptions);
      const context = `server ${JSON.stringify(serverOptions)}`;
      if (client.readyState !== 1 || server.readyState !== 1 || errors.length > 0) {
        failures.push(`${context}: did not open (${errors.join("; ")})`);
        continue;
      }
      const header = client.headers["sec-websocket-extensions"];
      if (header !== want.header) failures.push(`${context}: answered '${header}', expected '${want.header}'`);

      client.text("Hello");
      client.text("Hello");
      client.binary(new Uint8Array(300).fill(7));
      server.text("Hello");
      server.text("Hello");
      server.binary(new Uint8Array(300).fill(7));
      const sent = ["Hello", "Hello", new Uint8Array(300).fill(7)];
      for (const side of ["server", "client"] as const) {
        const received = JSON.stringify(messages[side].messages);
        if (received !== JSON.stringify(sent)) failures.push(`${context}: ${side} received ${received}`);
      }

      // A side limited to 8 bits sends plain frames; otherwise "Hello" is 7 bytes compressed, and
      // 5 the second time if that side keeps its window.
      for (const [side, bits, noContext] of [
        ["server", want.serverBits, want.serverNoContext], ["client", want.clientBits, want.clientNoContext],
      ] as const) {
        const frames = shape(wrote[side]);
        const hello = bits === 8 ? [[0, 5], [0, 5]] : [[0x40, 7], [0x40, noContext ? 7 : 5]];
        if (JSON.stringify(frames.slice(0, 2)) !== JSON.stringify(hello)) {
          failures.push(`${context}: ${side} sent ${JSON.stringify(frames.slice(0, 2))}, expected ${JSON.stringify(hello)}`);
        }
        if ((frames[2][0] === 0x40) !== (bits !== 8)) failures.push(`${context}: ${side} binary frame ${JSON.stringify(frames[2])}`);
      }
      client.close();
    }
    expect(failures).toEqual([]);
  });
});
