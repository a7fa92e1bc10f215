/**
 * wsdriver: a sans-I/O WebSocket protocol driver.
 * @module wsdriver
 */
export { Driver } from "./driver.js";
export type { ClientDriver, Http2ClientDriver, HttpRequest, MessageWriter, Payload, ServerDriver } from "./types.js";
export type { HeaderList, Http2HeadersInput } from "./hybi/handshake-http2.js";
export type { Http2ClientIO, Http2ServerIO } from "./hybi/http2.js";
export type { ReadyState } from "./base.js";
export type {
  CloseEvent, ConnectEvent, DriverEventHandler, DriverEventType, DriverEvents, MessageDataEvent, MessageEndEvent, MessageEvent,
  MessageStartEvent, OpenEvent, PingEvent, PongEvent,
} from "./events.js";
export type { ClientOptions, DriverIO, DriverOptions, ReceiveMode, RequestLike, ServerOptions, TextDataMode } from "./options.js";
export type { HeaderMap, HeadersInput, HeaderRecord } from "./http/headers.js";
export type { OriginPolicy } from "./http/origin.js";
export type { RejectOptions } from "./http/rejection.js";
export type { ByteSource } from "./util/bytes.js";
export { HandshakeError, ProtocolError } from "./errors.js";
export { CloseCode, isValidCloseCode } from "./hybi/close.js";
export { ProxyError } from "./proxy.js";
export { PreparedMessage, prepareMessage } from "./prepared.js";
export { deflate, PERMESSAGE_DEFLATE } from "./extensions/permessage-deflate.js";
export type { DeflateOptions } from "./extensions/permessage-deflate.js";
export type {
  EncodedMessage, Extension, ExtensionContext, ExtensionResponse, ExtensionSession,
} from "./extensions/extension.js";
export type { ExtensionParamValue, ExtensionParams } from "./extensions/negotiation.js";
export { InflateLimitError } from "./extensions/engine.js";
export type { DeflateEngine, Deflater, DeflaterOptions, Inflater, InflaterOptions } from "./extensions/engine.js";
export { zlibEngine } from "./node/zlib.js";
export { pakoEngine } from "./extensions/pako.js";
export type { PakoModule, PakoStream } from "./extensions/pako.js";
export type { ZlibModule, ZlibStream } from "./node/zlib.js";
export type {
  ProxyConnectEvent, ProxyEventHandler, ProxyEventType, ProxyEvents, ProxyOptions, ProxyState, ProxyTunnel,
} from "./proxy.js";
