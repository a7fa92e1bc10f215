/**
 * A peer for spec/interop: the runtime's built-in `WebSocket` client (Deno's or Bun's), pointed at
 * the URL in `WS_URL`. First connection: text and binary of several sizes echoed, then the client
 * closes with 4002. Second connection: asks the server to close, and reports the code and reason it
 * hears. Prints one JSON line.
 */
export {};

const SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20];
const TEXT = "héllo wörld ☃ 😀";

function payloadOf(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 131 + 7) & 0xff;
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

type Env = { Deno?: { env: { get(name: string): string | undefined } }; process?: { env: Record<string, string | undefined> } };
const env = globalThis as unknown as Env;
const url = env.Deno ? env.Deno.env.get("WS_URL") : env.process?.env.WS_URL;
if (!url) throw new Error("WS_URL is not set");

function open(): Promise<WebSocket> {
  const ws = new WebSocket(url as string, ["echo"]);
  ws.binaryType = "arraybuffer";
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`could not connect to ${url}`));
  });
}

const closeOf = (ws: WebSocket): Promise<{ code: number; reason: string; wasClean: boolean }> =>
  new Promise((resolve) => { ws.onclose = ({ code, reason, wasClean }) => resolve({ code, reason, wasClean }); });

const first = await open();
const messages: Array<string | Uint8Array> = [];
const arrived = new Promise<void>((resolve) => {
  first.onmessage = ({ data }) => {
    messages.push(typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
    if (messages.length === SIZES.length + 1) resolve();
  };
});
first.send(TEXT);
for (const size of SIZES) first.send(payloadOf(size));
await arrived;
const firstClosed = closeOf(first);
first.close(4002, "client done");
const echo = {
  protocol: first.protocol,
  extensions: first.extensions,
  text: messages[0],
  binaries: SIZES.map((size, i) => messages[i + 1] instanceof Uint8Array && sameBytes(messages[i + 1] as Uint8Array, payloadOf(size))),
  close: await firstClosed,
};

const second = await open();
const secondClosed = closeOf(second);
second.send("close-me");
const serverClose = await secondClosed;

console.log(JSON.stringify({ echo, serverClose }));
