/**
 * draft-hixie-thewebsocketprotocol-76: the server proves it read the handshake by answering a
 * challenge built from `Sec-WebSocket-Key1`, `Sec-WebSocket-Key2` and the 8 bytes that follow the
 * request head (§5.2). Those 8 bytes may come with the head, in a later `parse` call (proxies hold
 * them back until they see the response, so the head is sent as soon as `start()` is called), or in
 * `request.body`; the digest and `open` wait for them.
 */
import type { DriverHandlers } from "../base.js";
import type { DriverIO, ServerOptions } from "../options.js";
import type { HttpRequest } from "../types.js";
import { DraftDriver } from "./driver.js";
import { challengeResponse, keyNumber } from "./handshake.js";

/** draft-hixie-76 §5.1: the request's body, /key_3/, is 8 bytes. */
const KEY3_LENGTH = 8;

export class Hixie76Driver extends DraftDriver {
  override readonly version = "hixie-76";

  private numbers: [number, number] = [0, 0];

  constructor(request: HttpRequest, io: DriverIO, options: ServerOptions = {}, handlers?: DriverHandlers) {
    super(request, io, options, handlers, true, KEY3_LENGTH);
  }

  protected checkRequest(): void {
    const headers = this.request.headers;
    this.numbers = [
      keyNumber("Sec-WebSocket-Key1", headers["sec-websocket-key1"]),
      keyNumber("Sec-WebSocket-Key2", headers["sec-websocket-key2"]),
    ];
  }

  protected handshakeTail(key3: Uint8Array): Uint8Array {
    return challengeResponse(this.numbers[0], this.numbers[1], key3);
  }
}
