/**
 * `driver.reject` through the Node adapter over loopback, against a client no one here wrote: a
 * `node:http` server's `upgrade` handler checks a token after an async step and refuses with 401,
 * and the `ws` client sees that response (`unexpected-response`), its headers and its body; a
 * request with the right token opens and echoes.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket from "ws";
import { acceptUpgrade } from "../../lib/adapters/node";

let server: http.Server;
let port: number;

beforeAll(async () => {
  server = http.createServer();
  server.on("upgrade", (request, socket, head) => {
    const connection = acceptUpgrade(request, socket, head, { start: false });
    connection.driver.on("message", ({ data }) => connection.driver.text(String(data)));
    // The check an application would make, after an await as a token lookup would need.
    void Promise.resolve().then(() => {
      if (request.headers.authorization === "Bearer good") connection.driver.start();
      else connection.driver.reject(401, { headers: { "WWW-Authenticate": 'Bearer realm="chat"' }, body: "token missing or expired" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("reject over a real socket, to the ws client", () => {
  it("a request without the token gets 401, its header and its body", async () => {
    const client = new WebSocket(`ws://127.0.0.1:${port}/chat`);
    const seen = await new Promise<{ status: number | undefined; authenticate: unknown; body: string }>((resolve, reject) => {
      client.on("open", () => reject(new Error("opened")));
      client.on("unexpected-response", (_request, response) => {
        let body = "";
        response.setEncoding("utf8").on("data", (text: string) => { body += text; });
        response.on("end", () => resolve({ status: response.statusCode, authenticate: response.headers["www-authenticate"], body }));
      });
    });
    expect(seen).toEqual({ status: 401, authenticate: 'Bearer realm="chat"', body: "token missing or expired" });
  });

  it("a request with the token opens and echoes", async () => {
    const client = new WebSocket(`ws://127.0.0.1:${port}/chat`, { headers: { Authorization: "Bearer good" } });
    const echoed = await new Promise<string>((resolve, reject) => {
      client.on("open", () => client.send("hello"));
      client.on("message", (data) => resolve(String(data)));
      client.on("unexpected-response", (_request, response) => reject(new Error(`refused with ${response.statusCode}`)));
    });
    client.close();
    expect(echoed).toBe("hello");
  });
});
