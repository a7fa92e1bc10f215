/**
 * A real browser against the demo page: Debian's Chromium (`/usr/bin/chromium`, installed by
 * `.ci/run`), driven headless by playwright-core. Two pages join the chat; what one sends reaches
 * both through the browser's own WebSocket and our server, compressed with permessage-deflate; a screenshot shows the page rendered.
 * Without a local Chromium the test is skipped with a notice, except under CI=true where it fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { type Demo, startDemo } from "../demo/start";
import { ensureBuilt } from "../support/build";
import { readPng } from "./png";
import { CHROMIUM, describeWithChromium, requireChromium } from "./headless";

const describeWithBrowser = describeWithChromium("browser test");

describeWithBrowser("the demo page in headless Chromium", () => {
  let demo: Demo | undefined;
  let context: BrowserContext | undefined;
  let profile = "";

  beforeAll(async () => {
    requireChromium();
    ensureBuilt();
    demo = await startDemo();
    profile = mkdtempSync(join(tmpdir(), "wsdriver-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 800, height: 600 },
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"],
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await demo?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("round-trips messages between two pages through our server, and the screenshot shows the page", async () => {
    const url = demo!.url;
    const alice = await context!.newPage();
    const bob = await context!.newPage();
    await alice.goto(url);
    await alice.locator("#status", { hasText: "1 online" }).waitFor();
    await bob.goto(url);
    for (const page of [alice, bob]) await page.locator("#status", { hasText: "2 online" }).waitFor();

    // Chromium offers permessage-deflate (RFC 7692) and the demo accepts it.
    expect(await alice.evaluate("socket.extensions")).toMatch(/^permessage-deflate/);

    await alice.fill("#message", "Hello from Alice ☃");
    await alice.click("#send");
    await bob.fill("#message", "Hi Alice, Bob here");
    await bob.press("#message", "Enter");

    for (const page of [alice, bob]) {
      await page.locator("#log li.message", { hasText: "Hi Alice, Bob here" }).waitFor();
      expect(await page.locator("#log li.message").allTextContents()).toEqual([
        expect.stringContaining("Hello from Alice ☃"),
        expect.stringContaining("Hi Alice, Bob here"),
      ]);
    }
    // Each page marks its own messages.
    expect(await alice.locator("#log li.mine").allTextContents()).toEqual([expect.stringContaining("Hello from Alice ☃")]);
    expect(await bob.locator("#log li.mine").allTextContents()).toEqual([expect.stringContaining("Hi Alice, Bob here")]);

    const shot = await alice.screenshot();
    writeFileSync(join(profile, "demo.png"), shot);
    const png = readPng(shot);
    expect({ width: png.width, height: png.height }).toEqual({ width: 800, height: 600 });
    // Text, borders and the coloured status dot: a blank or failed page has one or two colours.
    expect(png.colours).toBeGreaterThan(20);

    // The server's going-away close reaches the page.
    await bob.close();
    demo!.process.kill("SIGINT");
    await alice.locator("#status", { hasText: "closed (1001: server shutting down)" }).waitFor();
    expect(await demo!.exited).toBe(0);
  });
});
