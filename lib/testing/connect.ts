/**
 * Connections in memory: a client and a server driver wired to each other, a server handler run
 * against a test client, and scripted peers on either side of a real driver. Everything happens
 * synchronously inside the calls that cause it, so a test needs no clock and no event loop turn.
 */
import { Driver } from "../driver.js";
import { type DeflateOptions, deflate } from "../extensions/permessage-deflate.js";
import type { ClientOptions, ServerOptions } from "../options.js";
import type { ClientDriver, ServerDriver } from "../types.js";
import { type EventLog, events } from "./events.js";
import { type Draft, draftRequest, requestKey, upgradeRequest, upgradeResponse } from "./handshake.js";
import { type MaskingKeyChoice, withMaskingKeys } from "./keys.js";
import { type PeerOptions, ScriptedPeer } from "./peer.js";
import { Pipe, type Split } from "./transport.js";

/**
 * Server logic under test: given the server driver before it reads anything, as `Driver.server` and
 * the Deno and Bun adapters give it, so it can add listeners and extensions. `driver.request` is set
 * from `connect` on; logic written for a driver whose request is already known (Node's
 * `acceptUpgrade`) runs as `(driver) => driver.on("connect", () => logic(driver))`.
 */
export type ServerHandler = (driver: ServerDriver) => void;

/** permessage-deflate on both sides (`true` or the options for both), or per side. */
export type DeflateChoice = boolean | DeflateOptions | { client?: boolean | DeflateOptions; server?: boolean | DeflateOptions };

export interface PairOptions {
  /** The URL the client connects to. Default `ws://localhost/`. */
  url?: string;
  /** Subprotocols the client offers and the server accepts (each side's own `protocols` option wins). */
  protocols?: readonly string[];
  /** permessage-deflate (RFC 7692) on both sides, or on one. */
  deflate?: DeflateChoice;
  /** The client driver's options. */
  client?: ClientOptions;
  /** The server driver's options. */
  server?: ServerOptions;
  /** Server logic to run on the server driver before it reads the request (see `serve`). */
  handler?: ServerHandler;
  /** Answer the handshake once the request is read (after the handler's own `connect` handlers). Default true. */
  start?: boolean;
  /** Start the client at once, so the pair is open when returned. Default true; else call `client.start()`. */
  open?: boolean;
  /** Hand each write to the other side in pieces of at most this many bytes, or as a function cuts it (each piece a `parse` call). */
  split?: Split;
  /** The client's masking keys: default `EXAMPLE_MASKING_KEY` on every frame, so its bytes can be written out. */
  maskingKey?: MaskingKeyChoice;
  /** When a driver emits `close`, its side closes the transport, as an adapter does. Default true. */
  endOnClose?: boolean;
  /** A draft server (see `pair`'s draft form). */
  draft?: Draft;
}

export interface Pair {
  client: ClientDriver;
  server: ServerDriver;
  /** Every event of each driver since it was made (`events(driver)` returns the same log). */
  clientEvents: EventLog;
  serverEvents: EventLog;
  /** The bytes the client wrote (handshake included): `toServer.take()` for those since the last take. */
  toServer: Pipe;
  /** The bytes the server wrote. */
  toClient: Pipe;
}

function deflateFor(choice: DeflateChoice | undefined, side: "client" | "server"): DeflateOptions | null {
  if (choice === undefined || choice === false) return null;
  if (choice === true) return {};
  const perSide = choice as { client?: boolean | DeflateOptions; server?: boolean | DeflateOptions };
  const sided = "client" in perSide || "server" in perSide;
  const value = sided ? perSide[side] : (choice as DeflateOptions);
  if (value === undefined || value === false) return null;
  return value === true ? {} : value;
}

/** A server driver on `io` with the handler run and, unless told not to, started on `connect`. */
function makeServer(io: Pipe, options: ServerOptions, handler: ServerHandler | undefined, start: boolean, extension: DeflateOptions | null): ServerDriver {
  const server = Driver.server(io, options);
  events(server);
  if (extension !== null) server.addExtension(deflate(extension));
  handler?.(server);
  // Registered after the handler's own: a handler that starts (or refuses) itself is left to it.
  if (start) server.on("connect", () => server.start());
  return server;
}

/** A draft server and its test client: wsdriver's client speaks RFC 6455 only, so the client is a scripted peer. */
export interface DraftPair {
  client: ScriptedPeer<ServerDriver>;
  server: ServerDriver;
  serverEvents: EventLog;
}

/**
 * A client and a server driver connected in memory, open unless `open: false`. What one writes the
 * other reads at once, in order; `toServer` and `toClient` keep the bytes for assertions.
 *
 * With `draft`, the server speaks hixie-75 or hixie-76 (`allowDrafts`) to a scripted draft client
 * that has sent the draft's example handshake (see `clientPeer`).
 */
export function pair(options: PairOptions & { draft: Draft }): DraftPair;
export function pair(options?: PairOptions & { draft?: undefined }): Pair;
export function pair(options: PairOptions = {}): Pair | DraftPair {
  if (options.draft !== undefined) {
    const client = clientPeer(options.handler, { draft: options.draft, split: options.split, server: options.server, start: options.start });
    return { client, server: client.driver, serverEvents: events(client.driver) };
  }
  const toServer = withMaskingKeys(new Pipe(options.split), options.maskingKey);
  const toClient = new Pipe(options.split);
  const protocols = options.protocols === undefined ? {} : { protocols: options.protocols };
  const server = makeServer(toClient, { ...protocols, ...options.server }, options.handler, options.start ?? true,
    deflateFor(options.deflate, "server"));
  const client = Driver.client(options.url ?? "ws://localhost/", toServer, { ...protocols, ...options.client });
  const clientEvents = events(client);
  const clientDeflate = deflateFor(options.deflate, "client");
  if (clientDeflate !== null) client.addExtension(deflate(clientDeflate));
  toServer.target = server;
  toClient.target = client;
  if (options.endOnClose ?? true) {
    server.on("close", () => toClient.end());
    client.on("close", () => toServer.end());
  }
  if (options.open ?? true) client.start();
  return { client, server, clientEvents, serverEvents: events(server), toServer, toClient };
}

/**
 * Runs server logic against a test client without a socket: `handler` gets the server driver before
 * it reads anything (to add listeners and extensions), the handshake is answered, and the client
 * driver connected to it is returned with the rest of the pair.
 */
export function serve(handler: ServerHandler, options: Omit<PairOptions, "handler" | "draft"> = {}): Pair {
  return pair({ ...options, handler });
}

export interface ClientPeerOptions extends PeerOptions {
  /** The request's path. Default `/chat`. */
  path?: string;
  /** Headers added to or replacing the valid request's (`null` leaves one out). */
  headers?: Record<string, string | null>;
  /** Sent as `Sec-WebSocket-Protocol`. */
  protocols?: readonly string[];
  /** Sent as `Sec-WebSocket-Extensions`, as written (`"permessage-deflate"`). */
  extensions?: string;
  /** The whole request to send instead, as written (a draft's example is sent for `draft`). */
  request?: string | Uint8Array;
  /** Speak a draft protocol: its example request is sent and the server allows drafts. */
  draft?: Draft;
  /** The server driver's options. */
  server?: ServerOptions;
  /** Answer the handshake once the request is read. Default true. */
  start?: boolean;
  /** Send nothing yet: the test sends the request itself (`peer.send(bytes)`). */
  deferRequest?: boolean;
}

/**
 * A scripted client against a server driver running `handler` (or no handler: a server that only
 * answers the handshake): it sends a valid opening handshake (or the one described) and reads the
 * answer, so the connection is open when it returns unless the server refused (see `peer.status`).
 * The server driver is `peer.driver`.
 */
export function clientPeer(handler?: ServerHandler, options?: ClientPeerOptions): ScriptedPeer<ServerDriver>;
export function clientPeer(options: ClientPeerOptions): ScriptedPeer<ServerDriver>;
export function clientPeer(first?: ServerHandler | ClientPeerOptions, second: ClientPeerOptions = {}): ScriptedPeer<ServerDriver> {
  const handler = typeof first === "function" ? first : undefined;
  const options = typeof first === "object" ? first : second;
  const toServer = new Pipe(options.split);
  const toPeer = new Pipe();
  const serverOptions: ServerOptions = options.draft ? { allowDrafts: true, ...options.server } : { ...options.server };
  const server = makeServer(toPeer, serverOptions, handler, options.start ?? true, null);
  const peer = new ScriptedPeer("client", toServer, server, options.draft ?? null, options);
  toServer.target = server;
  toPeer.target = { parse: (bytes) => peer.receiveBytes(bytes), end: () => peer.receiveEnd() };
  server.on("close", () => toPeer.end());
  if (!options.deferRequest) peer.send(requestOf(options));
  return peer;
}

function requestOf(options: ClientPeerOptions): Uint8Array {
  if (options.request !== undefined) {
    return typeof options.request === "string" ? Uint8Array.from(options.request, (c) => c.charCodeAt(0) & 0xff) : options.request;
  }
  if (options.draft !== undefined) return draftRequest(options.draft);
  const headers: Record<string, string | null> = {};
  if (options.protocols !== undefined) headers["Sec-WebSocket-Protocol"] = options.protocols.join(", ");
  if (options.extensions !== undefined) headers["Sec-WebSocket-Extensions"] = options.extensions;
  const text = upgradeRequest({ ...headers, ...options.headers }, `GET ${options.path ?? "/chat"} HTTP/1.1`);
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

export interface ServerPeerOptions extends PeerOptions {
  /** The URL the client connects to. Default `ws://localhost/chat`. */
  url?: string;
  /** The client driver's options. */
  client?: ClientOptions;
  /** Runs on the client driver before it starts (to add extensions or listeners). */
  setup?: (driver: ClientDriver) => void;
  /** Answered as `Sec-WebSocket-Protocol`. */
  protocol?: string;
  /** Answered as `Sec-WebSocket-Extensions`, as written. */
  extensions?: string;
  /** The whole response instead, as written, or made from the request head and its key. */
  response?: string | Uint8Array | ((request: string, key: string) => string | Uint8Array);
  /** The client driver's masking keys (default `EXAMPLE_MASKING_KEY`; `"random"` for its own). */
  clientMaskingKey?: MaskingKeyChoice;
}

/**
 * A scripted server for a client driver: the client (`peer.driver`) starts, the peer reads its
 * request and answers it (a valid 101 unless told otherwise), so the connection is open when it
 * returns. The client's frames arrive masked with deterministic keys, and are decoded unmasked.
 */
export function serverPeer(options: ServerPeerOptions = {}): ScriptedPeer<ClientDriver> {
  const toClient = new Pipe(options.split);
  const toPeer = withMaskingKeys(new Pipe(), options.clientMaskingKey);
  const client = Driver.client(options.url ?? "ws://localhost/chat", toPeer, options.client);
  events(client);
  const peer = new ScriptedPeer("server", toClient, client, null, options);
  toClient.target = client;
  toPeer.target = { parse: (bytes) => peer.receiveBytes(bytes), end: () => peer.receiveEnd() };
  client.on("close", () => toPeer.end());
  peer.onHead = (request) => {
    let key = "";
    try {
      key = requestKey(request);
    } catch {
      // A request without a key still gets the response asked for.
    }
    const response = typeof options.response === "function" ? options.response(request, key) : options.response;
    if (response !== undefined) {
      peer.send(typeof response === "string" ? Uint8Array.from(response, (c) => c.charCodeAt(0) & 0xff) : response);
      return;
    }
    let extra = "";
    if (options.protocol !== undefined) extra += `Sec-WebSocket-Protocol: ${options.protocol}\r\n`;
    if (options.extensions !== undefined) {
      extra += `Sec-WebSocket-Extensions: ${options.extensions}\r\n`;
      peer.agreedExtensions = options.extensions;
    }
    peer.send(Uint8Array.from(upgradeResponse(key, extra), (c) => c.charCodeAt(0) & 0xff));
  };
  options.setup?.(client);
  client.start();
  return peer;
}
