import { once } from "node:events";
import * as net from "node:net";
import { connectThroughProxy } from "../../lib/adapters/node-proxy";
import { ProxyError } from "../../lib/proxy";
import {
  CERT, CERT_FILE, KEY_FILE, type Peer, type ProxyProcess, converse, startDriverServer, startProxy, startWsServer,
} from "./peers";

/**
 * A hand-made "proxy" on a loopback socket: reads the CONNECT head, then writes `answer` and does
 * whatever `then` says. For the answers a well-behaved proxy never gives.
 */
async function fakeProxy(answer: string, then: "end" | "wait" = "wait"): Promise<{ port: number; heads: string[]; stop(): Promise<void> }> {
  const heads: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => socket.destroy());
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      heads.push(head);
      if (answer) socket.write(Buffer.from(answer, "latin1"));
      if (then === "end") socket.end();
      else socket.resume();
    };
    socket.on("data", onData);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as net.AddressInfo).port,
    heads,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("connectThroughProxy: the connection to the proxy", () => {
  // Nagle's algorithm would hold small frames back for an ACK, as on a direct connection.
  it("turns Nagle's algorithm off, as connect() does", async () => {
    const proxy = await fakeProxy("");
    const setNoDelay = jest.spyOn(net.Socket.prototype, "setNoDelay");
    const client = connectThroughProxy("ws://example.com/", `http://127.0.0.1:${proxy.port}`);
    try {
      const calls = setNoDelay.mock.calls.filter((_, i) => setNoDelay.mock.contexts[i] === client.socket);
      expect(calls).toEqual([[true]]);
    } finally {
      setNoDelay.mockRestore();
      client.destroy();
      await proxy.stop();
    }
  });
});

describe("connectThroughProxy: answers a well-behaved proxy does not give", () => {
  it("hands bytes that came with the 200 to the driver for ws: (here a 101 with a wrong accept key)", async () => {
    const proxy = await fakeProxy(
      "HTTP/1.1 200 Connection established\r\n\r\n" +
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n");
    try {
      const client = connectThroughProxy("ws://example.com/chat", `http://127.0.0.1:${proxy.port}`);
      const outcome = await converse(client, []);
      expect(proxy.heads).toEqual(["CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n\r\n"]);
      expect(client.proxy.statusCode).toBe(200);
      // The driver read the pipelined 101: the bytes were handed on, not lost.
      expect(client.driver.statusCode).toBe(101);
      expect(outcome.errors.map((e) => e.message)).toEqual(["Sec-WebSocket-Accept mismatch"]);
      expect(outcome.close.code).toBe(1002);
    } finally {
      await proxy.stop();
    }
  });

  it("refuses bytes that came with the 200 for wss: (a TLS server never speaks first)", async () => {
    const proxy = await fakeProxy("HTTP/1.1 200 OK\r\n\r\nnot TLS");
    try {
      const client = connectThroughProxy("wss://example.com/", `http://127.0.0.1:${proxy.port}`);
      const outcome = await converse(client, []);
      expect(outcome.errors.map((e) => e.message)).toEqual(["The proxy sent 7 bytes after its answer, before the TLS handshake"]);
      expect(outcome.close.code).toBe(1006);
    } finally {
      await proxy.stop();
    }
  });

  it("reports a proxy that hangs up without answering", async () => {
    const proxy = await fakeProxy("HTTP/1.1 200 OK\r\n", "end");
    try {
      const client = connectThroughProxy("ws://example.com/", `http://127.0.0.1:${proxy.port}`);
      const outcome = await converse(client, []);
      expect(outcome.errors).toHaveLength(1);
      expect(outcome.errors[0]).toBeInstanceOf(ProxyError);
      expect(outcome.errors[0].message).toBe("The proxy closed the connection before answering the CONNECT request");
      expect(outcome.close.code).toBe(1006);
    } finally {
      await proxy.stop();
    }
  });

  it("reports an answer over maxHeaderSize and drops the connection", async () => {
    const proxy = await fakeProxy("HTTP/1.1 200 OK\r\nX-Filler: " + "a".repeat(2048));
    try {
      const client = connectThroughProxy("ws://example.com/", `http://127.0.0.1:${proxy.port}`, { proxy: { maxHeaderSize: 1024 } });
      const outcome = await converse(client, []);
      expect(outcome.errors.map((e) => e.message)).toEqual([
        "Invalid response from the proxy: HTTP head is larger than maxHeaderSize (1024 bytes)",
      ]);
      expect(client.socket.destroyed).toBe(true);
      expect(outcome.close.code).toBe(1006);
    } finally {
      await proxy.stop();
    }
  });

  it("reports a malformed answer", async () => {
    const proxy = await fakeProxy("SSH-2.0-OpenSSH_9.6\r\n\r\n");
    try {
      const client = connectThroughProxy("ws://example.com/", `http://127.0.0.1:${proxy.port}`);
      const outcome = await converse(client, []);
      expect(outcome.errors).toHaveLength(1);
      expect(outcome.errors[0].message).toMatch(/^Invalid response from the proxy: Malformed HTTP response/);
      expect((outcome.errors[0] as ProxyError).status).toBe(0);
    } finally {
      await proxy.stop();
    }
  });

  it("closes quietly when the driver is closed before the tunnel is up", async () => {
    const proxy = await fakeProxy("");
    try {
      const client = connectThroughProxy("ws://example.com/", `http://127.0.0.1:${proxy.port}`);
      const errors: Error[] = [];
      client.on("error", (error) => errors.push(error));
      client.proxy.on("error", (error) => errors.push(error));
      await once(client.socket, "connect");
      const closed = new Promise((resolve) => client.driver.on("close", resolve));
      client.driver.close("changed my mind", 1000);
      expect(await closed).toEqual({ code: 1000, reason: "changed my mind" });
      await once(client.socket, "close");
      expect(errors).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });
});

describe("connectThroughProxy: a proxy spoken to over TLS (https: proxy URL)", () => {
  let tlsProxy: ProxyProcess;
  let ourServer: Peer;
  let wssServer: Peer;

  beforeAll(async () => {
    [tlsProxy, ourServer, wssServer] = await Promise.all([
      startProxy({ PROXY_TLS_CERT: CERT_FILE, PROXY_TLS_KEY: KEY_FILE, PROXY_USER: "bob", PROXY_PASS: "pw" }),
      startDriverServer(),
      startWsServer(true),
    ]);
  });

  afterAll(async () => {
    await Promise.all([tlsProxy, ourServer, wssServer].map((peer) => peer?.stop()));
  });

  it("tunnels ws: through an https: proxy with credentials", async () => {
    const client = connectThroughProxy(`ws://127.0.0.1:${ourServer.port}/`, `https://bob:pw@127.0.0.1:${tlsProxy.port}`,
      { proxyTls: { ca: CERT } });
    const outcome = await converse(client, ["through TLS to the proxy"]);
    expect(outcome.errors).toEqual([]);
    expect(outcome.received).toEqual(["through TLS to the proxy"]);
    expect(tlsProxy.requests.at(-1)?.url).toBe(`127.0.0.1:${ourServer.port}`);
  });

  it("tunnels wss: through an https: proxy (TLS inside TLS)", async () => {
    const client = connectThroughProxy(`wss://127.0.0.1:${wssServer.port}/`, `https://bob:pw@127.0.0.1:${tlsProxy.port}`,
      { proxyTls: { ca: CERT }, tls: { ca: CERT } });
    const outcome = await converse(client, ["two layers of TLS"]);
    expect(outcome.errors).toEqual([]);
    expect(outcome.received).toEqual(["two layers of TLS"]);
  });

  it("reports an untrusted proxy certificate", async () => {
    const client = connectThroughProxy(`ws://127.0.0.1:${ourServer.port}/`, `https://bob:pw@127.0.0.1:${tlsProxy.port}`);
    const outcome = await converse(client, []);
    expect(outcome.errors).toHaveLength(1);
    expect(outcome.errors[0]).toBeInstanceOf(ProxyError);
    expect(outcome.errors[0].message).toMatch(/certificate/i);
    expect(client.proxy.state).toBe("failed");
  });
});
