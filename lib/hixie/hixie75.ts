/**
 * draft-hixie-thewebsocketprotocol-75: no key, no body; the response names the origin and the
 * location (§4.1), and the connection opens as soon as it is written. There is no closing frame.
 */
import type { DriverHandlers } from "../base.js";
import type { DriverIO, ServerOptions } from "../options.js";
import type { HttpRequest } from "../types.js";
import { DraftDriver } from "./driver.js";

export class Hixie75Driver extends DraftDriver {
  override readonly version = "hixie-75";

  constructor(request: HttpRequest, io: DriverIO, options: ServerOptions = {}, handlers?: DriverHandlers) {
    super(request, io, options, handlers, false, 0);
  }

  protected checkRequest(): void {
    // Nothing beyond the checks both drafts share.
  }

  protected handshakeTail(): null {
    return null;
  }
}
