import * as net from "node:net";
import { connectThroughProxy } from "../../lib/adapters/node-proxy";
import { Driver } from "../../lib/driver";
import { ProxyError } from "../../lib/proxy";
import {
  CERT, type Peer, type ProxyProcess, closedPort, converse, startDriverServer, startProxy, startWsServer,
} from "./peers";

// Credentials with characters that must be percent-encoded in a URL, and non-ASCII.
const USER = "al@ice";
const PASS = "s3:cret wörd";
const CREDENTIALS = `${encodeURIComponent(USER)}:${encodeURIComponent(PASS)}`;
const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`, "utf8").toString("base64")}`;

let openProxy: ProxyProcess;
let authProxy: ProxyProcess;
let wsServer: Peer;
let wssServer: Peer;
let ourServer: Peer;

beforeAll(async () => {
  [openProxy, authProxy, wsServer, wssServer, ourServer] = await Promise.all([
    startProxy(),
    startProxy({ PROXY_USER: USER, PROXY_PASS: PASS }),
    startWsServer(),
    startWsServer(true),
    startDriverServer(),
  ]);
});

afterAll(async () => {
  await Promise.all([openProxy, authProxy, wsServer, wssServer, ourServer].map((peer) => peer?.stop()));
});

/** The CONNECT request the proxy logged for `port`. */
const logged = (proxy: ProxyProcess, port: number) => proxy.requests.filter((request) => request.url === `127.0.0.1:${port}`);

describe("through the `proxy` package, without credentials", () => {
  it("tunnels to a ws server: the proxy sees CONNECT host:port and no credentials, messages echo", async () => {
    const client = connectThroughProxy(`ws://127.0.0.1:${wsServer.port}/chat?room=1`, `http://127.0.0.1:${openProxy.port}`);
    const outcome = await converse(client, ["hello through the proxy", Uint8Array.of(0, 1, 2, 255)]);
    expect(outcome.errors).toEqual([]);
    expect(outcome.opened).toBe(true);
    expect(outcome.received).toEqual(["hello through the proxy", Uint8Array.of(0, 1, 2, 255)]);
    expect(outcome.close).toEqual({ code: 1000, reason: "done" });
    expect(client.proxy.statusCode).toBe(200);
    expect(client.proxy.state).toBe("connected");
    const [request] = logged(openProxy, wsServer.port);
    expect(request.method).toBe("CONNECT");
    expect(request.headers.host).toBe(`127.0.0.1:${wsServer.port}`);
    expect(request.headers["proxy-authorization"]).toBeUndefined();
  });

  it("tunnels to our own server (Driver.server over node:net)", async () => {
    const client = connectThroughProxy(`ws://127.0.0.1:${ourServer.port}/`, `http://127.0.0.1:${openProxy.port}`);
    const big = new Uint8Array(100_000).map((_, i) => i & 0xff);
    const outcome = await converse(client, ["ü€𝄞", big]);
    expect(outcome.errors).toEqual([]);
    expect(outcome.received).toEqual(["ü€𝄞", big]);
    expect(outcome.close.code).toBe(1000);
    expect(logged(openProxy, ourServer.port)).toHaveLength(1);
  });

  it("tunnels TLS: a wss: server behind the proxy, with the certificate checked", async () => {
    const client = connectThroughProxy(`wss://127.0.0.1:${wssServer.port}/secure`, `http://127.0.0.1:${openProxy.port}`,
      { tls: { ca: CERT } });
    const outcome = await converse(client, ["over TLS in the tunnel"]);
    expect(outcome.errors).toEqual([]);
    expect(outcome.received).toEqual(["over TLS in the tunnel"]);
    expect(outcome.close.code).toBe(1000);
    expect(logged(openProxy, wssServer.port)).toHaveLength(1);
  });

  it("reports a TLS failure inside the tunnel (an untrusted certificate), and the driver closes 1006", async () => {
    const client = connectThroughProxy(`wss://127.0.0.1:${wssServer.port}/`, `http://127.0.0.1:${openProxy.port}`);
    const outcome = await converse(client, ["never sent"]);
    expect(outcome.opened).toBe(false);
    expect(client.proxy.statusCode).toBe(200);
    expect(outcome.errors).toHaveLength(1);
    expect(outcome.errors[0].message).toMatch(/certificate/i);
    expect(outcome.close.code).toBe(1006);
  });

  it("sends extra CONNECT headers given in options.proxy", async () => {
    const client = connectThroughProxy(`ws://127.0.0.1:${ourServer.port}/`, `http://127.0.0.1:${openProxy.port}`,
      { proxy: { headers: { "User-Agent": "wsdriver-spec/1" } } });
    const before = logged(openProxy, ourServer.port).length;
    await converse(client, ["x"]);
    const requests = logged(openProxy, ourServer.port);
    expect(requests).toHaveLength(before + 1);
    expect(requests[before].headers["user-agent"]).toBe("wsdriver-spec/1");
  });

  it("reports the proxy's refusal when the server cannot be reached (500 from the proxy)", async () => {
    const port = await closedPort();
    const client = connectThroughProxy(`ws://127.0.0.1:${port}/`, `http://127.0.0.1:${openProxy.port}`);
    const outcome = await converse(client, []);
    expect(outcome.opened).toBe(false);
    expect(outcome.errors).toHaveLength(1);
    expect(outcome.errors[0]).toBeInstanceOf(ProxyError);
    expect((outcome.errors[0] as ProxyError).status).toBe(500);
    expect(client.proxy.statusCode).toBe(500);
    expect(outcome.close.code).toBe(1006);
  });

  it("reports a proxy that cannot be reached (the socket's error is the cause)", async () => {
    const port = await closedPort();
    const client = connectThroughProxy(`ws://127.0.0.1:${wsServer.port}/`, `http://127.0.0.1:${port}`);
    const outcome = await converse(client, []);
    expect(outcome.opened).toBe(false);
    expect(outcome.errors).toHaveLength(1);
    const error = outcome.errors[0] as ProxyError;
    expect(error).toBeInstanceOf(ProxyError);
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect((error.cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
    expect(client.proxy.state).toBe("failed");
    expect(outcome.close.code).toBe(1006);
  });
});

describe("through the `proxy` package with Basic authentication", () => {
  it("tunnels to a ws server with the right credentials, percent-decoded from the URL", async () => {
    const client = connectThroughProxy(`ws://127.0.0.1:${wsServer.port}/`, `http://${CREDENTIALS}@127.0.0.1:${authProxy.port}`);
    const outcome = await converse(client, ["authorised"]);
    expect(outcome.errors).toEqual([]);
    expect(outcome.received).toEqual(["authorised"]);
    const [request] = logged(authProxy, wsServer.port);
    expect(request.headers["proxy-authorization"]).toBe(basic(USER, PASS));
  });

  it("tunnels to our own server with the right credentials; they never reach the WebSocket server", async () => {
    const before = ourServer.requests.length;
    const client = connectThroughProxy(`ws://127.0.0.1:${ourServer.port}/`, `http://${CREDENTIALS}@127.0.0.1:${authProxy.port}`);
    const outcome = await converse(client, ["authorised"]);
    expect(outcome.errors).toEqual([]);
    expect(outcome.received).toEqual(["authorised"]);
    const seen = ourServer.requests[before];
    expect(seen["proxy-authorization"]).toBeUndefined();
    expect(seen["authorization"]).toBeUndefined();
  });

  it("reports 407 with its status and headers for wrong credentials", async () => {
    const client = connectThroughProxy(`ws://127.0.0.1:${wsServer.port}/`, `http://${encodeURIComponent(USER)}:wrong@127.0.0.1:${authProxy.port}`);
    const outcome = await converse(client, ["never sent"]);
    expect(outcome.opened).toBe(false);
    expect(outcome.errors).toHaveLength(1);
    const error = outcome.errors[0] as ProxyError;
    expect(error).toBeInstanceOf(ProxyError);
    expect(error.status).toBe(407);
    expect(error.message).toBe(`The proxy refused to open a tunnel to 127.0.0.1:${wsServer.port}: 407 Proxy Authentication Required`);
    expect(error.headers["proxy-authenticate"]).toBe('Basic realm="proxy"');
    expect(client.proxy.statusCode).toBe(407);
    expect(client.proxy.headers["proxy-authenticate"]).toBe('Basic realm="proxy"');
    expect(outcome.close.code).toBe(1006);
  });

  it("reports 407 when no credentials are given", async () => {
    const client = connectThroughProxy(`ws://127.0.0.1:${ourServer.port}/`, `http://127.0.0.1:${authProxy.port}`);
    const outcome = await converse(client, []);
    expect(outcome.opened).toBe(false);
    expect((outcome.errors[0] as ProxyError).status).toBe(407);
    expect(client.proxy.headers["proxy-authenticate"]).toBe('Basic realm="proxy"');
  });
});

describe("the sans-I/O helper by hand, over a node:net socket", () => {
  it("runs CONNECT, hands over to the driver on connect, and the WebSocket works", async () => {
    const socket = net.connect({ host: "127.0.0.1", port: authProxy.port });
    try {
      const driver = Driver.client(`ws://127.0.0.1:${wsServer.port}/by-hand`, socket);
      const proxy = driver.proxy(`http://${CREDENTIALS}@127.0.0.1:${authProxy.port}`);
      const readProxy = (chunk: Buffer) => proxy.parse(chunk);
      const errors: Error[] = [];
      proxy.on("error", (error) => errors.push(error));
      proxy.on("connect", ({ rest }) => {
        socket.off("data", readProxy);
        socket.on("data", (chunk) => driver.parse(chunk));
        driver.start();
        if (rest.length > 0) driver.parse(rest);
      });
      socket.on("data", readProxy);
      socket.on("connect", () => proxy.start());
      const echoed = new Promise<string>((resolve) => driver.on("message", ({ data }) => resolve(String(data))));
      driver.on("open", () => driver.text("by hand"));
      expect(await echoed).toBe("by hand");
      expect(errors).toEqual([]);
      expect(proxy.statusCode).toBe(200);
      expect(driver.statusCode).toBe(101);
      const closed = new Promise((resolve) => driver.on("close", resolve));
      driver.close();
      expect(await closed).toEqual({ code: 1000, reason: "" });
    } finally {
      socket.destroy();
    }
  });
});
