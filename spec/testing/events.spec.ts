/**
 * wsdriver/testing's event log: every event of a driver in order, and promises of the next ones
 * that resolve at once for what already happened and reject for what can no longer happen.
 */
import { Driver } from "../../lib/index";
import { RecordingIO, closed, events, nextEvent, nextMessage, pair, upgradeRequest, utf8 } from "../../lib/testing";

describe("EventLog: what a driver emitted, in order", () => {
  it("keeps [type, event] pairs, by type, and the messages, errors and close", () => {
    const { client, serverEvents } = pair();
    client.text("a");
    client.binary(Uint8Array.of(1));
    client.ping("p");
    client.close("bye", 4000);
    expect(serverEvents.types).toEqual(["connect", "open", "message", "message", "ping", "close"]);
    expect(serverEvents.all[2]).toEqual(["message", { data: "a" }]);
    expect(serverEvents.messages).toEqual(["a", Uint8Array.of(1)]);
    expect(serverEvents.of("ping")).toEqual([{ data: utf8("p") }]);
    expect(serverEvents.close).toEqual({ code: 4000, reason: "bye" });
    expect(serverEvents.errors).toEqual([]);
  });

  it("records a message received in pieces (`receive: \"stream\"`): messagestart, messagedata, messageend", () => {
    const { client, serverEvents } = pair({ server: { receive: "stream" } });
    const message = client.startMessage("text");
    message?.write("ab");
    message?.end("c");
    expect(serverEvents.types).toEqual(["connect", "open", "messagestart", "messagedata", "messagedata", "messageend"]);
    expect(serverEvents.of("messagedata").map(({ data }) => new TextDecoder().decode(data))).toEqual(["ab", "c"]);
    expect(serverEvents.of("messageend")).toEqual([{ error: null }]);
  });

  it("events(driver) is the same log for the same driver", () => {
    const { client, clientEvents } = pair();
    expect(events(client)).toBe(clientEvents);
  });
});

describe("next: the next event of a type, awaited", () => {
  it("returns events of a type one after the other, whether they came before or after the call", async () => {
    const { client, serverEvents } = pair();
    client.text("first");
    client.text("second");
    expect(await serverEvents.nextMessage()).toBe("first");
    // Each call takes the next one not yet taken, in the order of the calls.
    const second = serverEvents.nextMessage();
    const third = serverEvents.nextMessage();
    client.text("third");
    expect(await second).toBe("second");
    expect(await third).toBe("third");
  });

  it("keeps a separate place per type", async () => {
    const { client, serverEvents } = pair();
    client.ping();
    client.text("x");
    expect(await serverEvents.next("message")).toEqual({ data: "x" });
    expect(await serverEvents.next("ping")).toEqual({ data: new Uint8Array(0) });
  });

  it("rejects a wait that is pending when the connection closes, and one made after", async () => {
    const { client, serverEvents } = pair();
    const pending = serverEvents.next("pong");
    client.close("done", 1000);
    await expect(pending).rejects.toThrow('No pong event: the connection closed (1000 "done") first');
    await expect(serverEvents.nextMessage()).rejects.toThrow("No message event: the connection closed");
    expect(await serverEvents.closed()).toEqual({ code: 1000, reason: "done" });
  });

  it("nextEvent, nextMessage and closed work on a driver the kit did not make, from the first call on", async () => {
    const io = new RecordingIO();
    const driver = Driver.server(io);
    const connected = nextEvent(driver, "connect");
    driver.on("connect", () => driver.start());
    driver.parse(utf8(upgradeRequest()));
    await expect(connected).resolves.toEqual({});
    const message = nextMessage(driver);
    driver.parse(Uint8Array.of(0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69));
    expect(await message).toBe("hi");
    driver.end();
    expect(await closed(driver)).toEqual({ code: 1006, reason: "" });
  });
});
