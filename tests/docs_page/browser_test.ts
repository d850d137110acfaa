/** The docs page in headless Chromium: phone and desktop widths, dark mode, no JS, key check. */

import assert from "node:assert/strict";
import { createGovernance } from "../../lib/governance/governance.ts";
import { createHandler } from "../../lib/app.ts";
import { loadConfig } from "../../lib/core/config.ts";
import { CHROMIUM_PATH, chromiumFor, launchChromium } from "../support/cdp.ts";
import {
  accessibilityViolations,
  LAYOUT,
  openAt,
  problemsOf,
  screenshot,
} from "../support/page_checks.ts";

const KEY = "sk-docs-browser-test-key-0123456789abcdef";
const chromium = chromiumFor("docs_browser_test");

/** Fills the key form, submits it and waits for its verdict. */
function checkKey(key: string): string {
  return `(async () => {
    const form = document.getElementById("key-form");
    document.getElementById("key-input").value = ${JSON.stringify(key)};
    form.requestSubmit();
    const status = document.getElementById("key-status");
    while (!status.textContent || status.textContent === "Checking…") {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return {
      status: status.textContent,
      className: status.className,
      fields: [...document.querySelectorAll("#key-fields > div")]
        .map((row) => row.querySelector("dt").textContent + "=" + row.querySelector("dd").textContent),
    };
  })()`;
}

Deno.test({
  name: chromium
    ? "docs page in headless Chromium"
    : `docs page in headless Chromium (skipped: ${CHROMIUM_PATH} not installed)`,
  ignore: !chromium,
  async fn(t) {
    const config = loadConfig({ DEFAULT_KEY: KEY, ADMIN_KEY: "admin-docs-test" });
    const kv = await Deno.openKv(":memory:");
    const governance = createGovernance({ config, kv, now: Date.now });
    const server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen() {} },
      createHandler({ config, kv, governance, log: () => {} }),
    );
    const origin = `http://127.0.0.1:${server.addr.port}`;
    const browser = await launchChromium();
    try {
      for (
        const [width, height, dark] of [[390, 844, false], [1280, 800, false], [
          1280,
          800,
          true,
        ]] as const
      ) {
        const label = `${width} px${dark ? ", dark" : ""}`;
        await t.step(`loads cleanly and fits at ${label}`, async () => {
          const page = await browser.newPage();
          try {
            await openAt(page, `${origin}/`, { width, height, dark });
            const layout = await page.evaluate<
              { scrollWidth: number; innerWidth: number; wide: string[] }
            >(LAYOUT);
            assert.equal(layout.innerWidth, width);
            assert.ok(
              layout.scrollWidth <= width,
              `page scrolls sideways at ${width} px (${layout.scrollWidth} px wide): ${layout.wide}`,
            );
            const ui = await page.evaluate<{ formShown: boolean; copyButtons: number }>(`({
              formShown: !document.getElementById("key-form").hidden,
              copyButtons: document.querySelectorAll("button.copy").length,
            })`);
            assert.ok(ui.formShown, "the key form is shown when JavaScript runs");
            assert.ok(ui.copyButtons > 10, "code blocks get copy buttons");
            await screenshot(page, `/tmp/ztoapi-docs-${width}${dark ? "-dark" : ""}.png`);
            assert.deepEqual(await accessibilityViolations(page), []);
            assert.deepEqual(problemsOf(page, origin), { errors: [], failed: [], external: [] });
          } finally {
            await page.close();
          }
        });
      }

      await t.step("works without JavaScript: no form, no copy buttons, cURL hint", async () => {
        const page = await browser.newPage();
        try {
          await page.send("Emulation.setScriptExecutionDisabled", { value: true });
          await openAt(page, `${origin}/docs`, { width: 390, height: 844 });
          await page.send("Emulation.setScriptExecutionDisabled", { value: false });
          const state = await page.evaluate<Record<string, unknown>>(`({
            formHidden: document.getElementById("key-form").hidden,
            hintHidden: document.getElementById("key-no-script").hidden,
            copyButtons: document.querySelectorAll("button.copy").length,
            fits: document.documentElement.scrollWidth <= 390,
          })`);
          assert.deepEqual(state, {
            formHidden: true,
            hintHidden: false,
            copyButtons: 0,
            fits: true,
          });
          assert.deepEqual(problemsOf(page, origin), { errors: [], failed: [], external: [] });
        } finally {
          await page.close();
        }
      });

      await t.step("the key form shows the key's user, sent only as a header", async () => {
        const page = await browser.newPage();
        try {
          await openAt(page, `${origin}/`, { width: 390, height: 844 });
          const result = await page.evaluate<
            { status: string; className: string; fields: string[] }
          >(
            checkKey(KEY),
          );
          assert.equal(result.className, "key-status good");
          assert.ok(result.fields.includes("user=default"), result.fields.join("; "));
          const sent = page.events
            .filter((e) => e.method === "Network.requestWillBeSent")
            .map((e) =>
              (e.params as { request: { url: string; headers: Record<string, string> } }).request
            )
            .filter((r) => r.url.includes("/v1/key"));
          assert.equal(sent.length, 1);
          assert.equal(sent[0].url, `${origin}/v1/key?days=30`);
          assert.equal(sent[0].headers.Authorization, `Bearer ${KEY}`);
          const fits = await page.evaluate<boolean>(
            "document.documentElement.scrollWidth <= window.innerWidth",
          );
          assert.ok(fits, "the key details fit at 390 px");
          await screenshot(page, "/tmp/ztoapi-docs-390-key.png");
          assert.deepEqual(await accessibilityViolations(page), []);
          assert.deepEqual(problemsOf(page, origin), { errors: [], failed: [], external: [] });
        } finally {
          await page.close();
        }
      });

      await t.step("the key form draws the user's last 30 days as a chart", async () => {
        governance.record({ keyId: "default", user: "default" }, "glm-4.5", {
          promptTokens: 100,
          completionTokens: 50,
          cachedTokens: 0,
          estimated: false,
        });
        await governance.settled();
        const page = await browser.newPage();
        try {
          await openAt(page, `${origin}/`, { width: 390, height: 844 });
          const result = await page.evaluate<{ fields: string[] }>(checkKey(KEY));
          assert.ok(!result.fields.some((f) => f.startsWith("daily")), "the days are a chart");
          const chart = await page.evaluate<{ days: number; today: string; label: string }>(
            `(() => {
            const host = document.getElementById("key-chart");
            const rows = [...host.querySelectorAll("tbody tr")];
            return {
              days: rows.length,
              today: rows.at(-1).textContent,
              label: [...host.querySelectorAll(".chart-day")].at(-1).getAttribute("aria-label"),
            };
          })()`,
          );
          assert.equal(chart.days, 30);
          assert.match(chart.today, /300300$/, "today: glm-4.5 300, total 300");
          assert.match(chart.label, /: 300 weighted tokens \(glm-4\.5 300\)$/);
          const fits = await page.evaluate<boolean>(
            "document.documentElement.scrollWidth <= window.innerWidth",
          );
          assert.ok(fits, "the chart fits at 390 px");
          assert.deepEqual(await accessibilityViolations(page), []);
          assert.deepEqual(problemsOf(page, origin), { errors: [], failed: [], external: [] });
        } finally {
          await page.close();
        }
      });

      await t.step("the key form shows the server's message for an unknown key", async () => {
        const page = await browser.newPage();
        try {
          await openAt(page, `${origin}/`, { width: 1280, height: 800 });
          const result = await page.evaluate<
            { status: string; className: string; fields: string[] }
          >(
            checkKey("sk-not-a-key-of-this-server-000000000000000"),
          );
          assert.equal(result.className, "key-status error");
          assert.match(result.status, /\(HTTP 401\)$/);
          assert.ok(result.status.length > "(HTTP 401)".length + 5, result.status);
          assert.deepEqual(result.fields, []);
        } finally {
          await page.close();
        }
      });
    } finally {
      await browser.close();
      await server.shutdown();
      kv.close();
    }
  },
});
