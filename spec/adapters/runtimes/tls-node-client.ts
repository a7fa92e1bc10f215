/**
 * The TLS exchange from Node's side, with the `ws` client, against our server in a Deno or Bun
 * child: every message of spec/adapters/runtimes/tls-exercise.ts is sent once open, each echo is
 * checked byte for byte, then the client closes with 4002.
 */
import WebSocket from "ws";
import { CLOSE_CODE, CLOSE_REASON, compareMessage, tlsMessages } from "./tls-exercise";

export interface WsClientResult {
  opened: boolean;
  echoes: string[];
  close: { code: number; reason: string };
  errors: string[];
}

export function wsTlsExchange(url: string, ca?: string): Promise<WsClientResult> {
  const sent = tlsMessages();
  const received: Array<string | Uint8Array> = [];
  const errors: string[] = [];
  let opened = false;
  const socket = new WebSocket(url, ca ? { ca } : {});
  socket.on("open", () => {
    opened = true;
    for (const message of sent) socket.send(message, { binary: typeof message !== "string" });
  });
  socket.on("message", (data: Buffer, isBinary: boolean) => {
    // A text message's bytes are decoded strictly: invalid UTF-8 would fail the comparison loudly.
    received.push(isBinary ? new Uint8Array(data) : new TextDecoder("utf-8", { fatal: true }).decode(data));
    if (received.length === sent.length) socket.close(CLOSE_CODE, CLOSE_REASON);
  });
  socket.on("error", (error) => errors.push(error.message));
  return new Promise((resolve) => socket.on("close", (code: number, reason: Buffer) => resolve({
    opened,
    echoes: opened ? sent.map((message, i) => compareMessage(message, received[i])) : [],
    close: { code, reason: reason.toString() },
    errors,
  })));
}
