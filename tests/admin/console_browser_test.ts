/**
 * The operator's console in headless Chromium: a wrong key, signing in, the overview's figures and
 * chart, a key created and seen once then revoked, a limit changed, recent requests; at 390 and
 * 1280 px, light and dark; no console errors, no failed or external requests, axe-core clean.
 */

import assert from "node:assert/strict";
import { CHROMIUM_PATH, chromiumFor, launchChromium, type Page } from "../support/cdp.ts";
import {
  adminCall,
  chatAs,
  CONSOLE_ADMIN_KEY,
  createKeyFor,
  startConsoleGateway,
} from "../support/console_fixture.ts";
import { TEST_KEY } from "../support/gateway.ts";
import {
  accessibilityViolations,
  LAYOUT,
  openAt,
  problemsOf,
  screenshot,
} from "../support/page_checks.ts";

const chromium = chromiumFor("console_browser_test");

/** Runs `body` in the page with `wait(test, what, ms?)`, which polls until test() is truthy. */
function inPage(body: string): string {
  return `(async () => {
    const wait = async (test, what, ms = 30000) => {
      for (const end = Date.now() + ms; Date.now() < end;) {
        const value = test();
        if (value) return value;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const said = [...document.querySelectorAll("#live, .status")].map((n) => n.textContent)
        .filter(Boolean).join(" | ");
      throw new Error("Timed out waiting for " + what + " (page says: " + said + ")");
    };
    const $ = (id) => document.getElementById(id);
    const text = (node) => node ? node.textContent.trim() : null;
    ${body}
  })()`;
}

function signIn(key: string): string {
  return inPage(`
    $("admin-key").value = ${JSON.stringify(key)};
    $("sign-in-form").requestSubmit();
    await wait(() => [...document.querySelectorAll(".view")].some((v) => !v.hidden) ||
      /Wrong|HTTP/.test(text($("sign-in-status"))),
      "the sign-in verdict");
  `);
}

function show(hash: string, ready: string): string {
  return inPage(`
    location.hash = ${JSON.stringify(hash)};
    await wait(() => ${ready}, ${JSON.stringify(hash)});
  `);
}

async function fits(page: Page, width: number): Promise<void> {
  const layout = await page.evaluate<{ scrollWidth: number; innerWidth: number; wide: string[] }>(
    LAYOUT,
  );
  assert.equal(layout.innerWidth, width);
  assert.ok(
    layout.scrollWidth <= width,
    `the console scrolls sideways at ${width} px (${layout.scrollWidth} px): ${layout.wide}`,
  );
}

async function clean(page: Page, origin: string): Promise<void> {
  assert.deepEqual(await accessibilityViolations(page), []);
  assert.deepEqual(problemsOf(page, origin), { errors: [], failed: [], external: [] });
}

async function status(url: string, key: string): Promise<number> {
  const response = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  await response.body?.cancel();
  return response.status;
}

Deno.test({
  name: chromium
    ? "the operator console in headless Chromium"
    : `the operator console in headless Chromium (skipped: ${CHROMIUM_PATH} not installed)`,
  ignore: !chromium,
  async fn(t) {
    await using gw = await startConsoleGateway();
    const alice = await createKeyFor(gw, "alice", "laptop");
    const big = { prompt_tokens: 1200, completion_tokens: 300 };
    assert.equal(await chatAs(gw, alice.key, { model: "glm-4.5", usage: big }), 200);
    assert.equal(await chatAs(gw, alice.key, { model: "glm-4.5", usage: big }), 200);
    const small = { prompt_tokens: 100, completion_tokens: 100 };
    assert.equal(await chatAs(gw, TEST_KEY, { model: "glm-4.7-flash", usage: small }), 200);
    assert.equal(await status(gw.url, "sk-not-a-key-of-this-gateway-0000000000"), 401);
    // Today: 3 answered requests, 2,500 prompt and 700 completion tokens; weighted
    // 2 × 1,500 × 2 (glm-4.5) + 200 × 0.1 (glm-4.7-flash) = 6,020. One error in four requests.
    const origin = gw.url;
    const browser = await launchChromium();
    try {
      await t.step("a wrong admin key shows an error and no data", async () => {
        const page = await browser.newPage();
        try {
          await openAt(page, `${origin}/admin`, { width: 390, height: 844 });
          await page.evaluate(signIn("not-the-admin-key"));
          const state = await page.evaluate<Record<string, unknown>>(inPage(`return {
            status: text($("sign-in-status")),
            kind: $("sign-in-status").className,
            views: [...document.querySelectorAll(".view")].filter((v) => !v.hidden).length,
            tabs: $("tabs").hidden,
            stored: sessionStorage.length,
            alice: document.body.textContent.includes("alice"),
          };`));
          assert.match(String(state.status), /^Wrong admin key.*HTTP 401/);
          delete state.status;
          assert.deepEqual(state, {
            kind: "status error",
            views: 0,
            tabs: true,
            stored: 0,
            alice: false,
          });
          await screenshot(page, "/tmp/ztoapi-console-wrong-key-390.png");
          assert.deepEqual(await accessibilityViolations(page), []);
          const problems = problemsOf(page, origin);
          assert.deepEqual(problems.external, []);
          assert.deepEqual(problems.failed, [`401 ${origin}/admin/users`]);
          assert.ok(problems.errors.every((e) => e.includes("401")), problems.errors.join("\n"));
        } finally {
          await page.close();
        }
      });

      const layouts = [[390, 844, false], [1280, 800, false], [1280, 800, true]] as const;
      for (const [width, height, dark] of layouts) {
        const label = `${width} px${dark ? ", dark" : ""}`;
        const suffix = `${width}${dark ? "-dark" : ""}`;
        await t.step(`overview: today's figures and the 30-day chart at ${label}`, async () => {
          const page = await browser.newPage();
          try {
            await openAt(page, `${origin}/admin`, { width, height, dark });
            await page.evaluate(signIn(CONSOLE_ADMIN_KEY));
            const stats = await page.evaluate<Record<string, string>>(inPage(`
              await wait(() => document.querySelector("#overview-chart .chart-day"), "the chart");
              return Object.fromEntries([...document.querySelectorAll("[data-stat]")]
                .map((dd) => [dd.dataset.stat, text(dd.querySelector(".stat-value"))]));
            `));
            assert.deepEqual(stats, {
              requests: "3",
              prompt_tokens: "2,500",
              completion_tokens: "700",
              weighted_tokens: "6,020",
              error_rate: "25%",
              active_users: "2",
            });
            const chart = await page.evaluate<Record<string, unknown>>(inPage(`
              const host = $("overview-chart");
              host.querySelector("details").open = true;
              const rows = [...host.querySelectorAll("tbody tr")];
              const today = rows.at(-1);
              return {
                days: rows.length,
                head: [...host.querySelectorAll("thead th")].map(text),
                today: [...today.children].slice(1).map(text),
                legend: [...host.querySelectorAll(".chart-legend li")].map(text),
              };
            `));
            assert.deepEqual(chart, {
              days: 30,
              head: ["Date", "glm-4.5", "glm-4.7-flash", "Total"],
              today: ["6,000", "20", "6,020"],
              legend: ["glm-4.5", "glm-4.7-flash"],
            });
            // Numbers on focus, and arrow keys move between days.
            const focused = await page.evaluate<string[]>(inPage(`
              const days = [...document.querySelectorAll("#overview-chart .chart-day")];
              const tip = document.querySelector("#overview-chart .chart-tip");
              days.at(-1).focus();
              const first = tip.hidden ? "hidden" : text(tip);
              days.at(-1).dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowLeft", bubbles: true }));
              return [first, document.activeElement === days.at(-2) ? "moved" : "stuck",
                days.at(-1).getAttribute("aria-label")];
            `));
            assert.match(focused[0], /6,020 weighted tokens/);
            assert.match(focused[0], /glm-4\.5 6,000/);
            assert.equal(focused[1], "moved");
            assert.match(
              focused[2],
              /: 6,020 weighted tokens \(glm-4\.5 6,000, glm-4\.7-flash 20\)$/,
            );
            // Numbers on hover.
            const box = await page.evaluate<{ x: number; y: number }>(inPage(`
              document.activeElement.blur();
              const rect = [...document.querySelectorAll("#overview-chart .chart-hit")].at(-1)
                .getBoundingClientRect();
              return { x: rect.x + rect.width / 2, y: rect.y + rect.height / 2 };
            `));
            await page.send("Input.dispatchMouseEvent", { type: "mouseMoved", x: box.x, y: box.y });
            const hovered = await page.evaluate<string>(inPage(`
              const tip = document.querySelector("#overview-chart .chart-tip");
              await wait(() => !tip.hidden, "the tooltip");
              return text(tip);
            `));
            assert.match(hovered, /6,020 weighted tokens/);
            await page.send("Input.dispatchMouseEvent", { type: "mouseMoved", x: 1, y: 1 });
            await screenshot(page, `/tmp/ztoapi-console-overview-${suffix}.png`);
            await fits(page, width);
            await clean(page, origin);

            const byUser = await page.evaluate<Record<string, unknown>>(inPage(`
              document.querySelector("input[name=stack-by][value=user]").click();
              const host = $("overview-chart");
              await wait(() => [...host.querySelectorAll(".chart-legend li")].some((li) => text(li) === "alice"),
                "the chart by user");
              host.querySelector("details").open = true;
              return {
                legend: [...host.querySelectorAll(".chart-legend li")].map(text),
                today: [...host.querySelectorAll("tbody tr")].at(-1).textContent,
                top: [...document.querySelectorAll("#view-overview .panel tbody tr")]
                  .filter((tr) => !tr.closest(".chart") && !tr.closest("#upstream-pool"))
                  .map((tr) => [...tr.children].map(text).join(" | ")),
                pool: await wait(() => $("upstream-pool") && text($("upstream-pool")), "the upstream pool"),
              };
            `));
            assert.deepEqual(byUser.legend, ["alice", "default"]);
            assert.match(String(byUser.today), /6,000206,020$/);
            assert.deepEqual(byUser.top, [
              "alice | 2 | 6,000 (no budget)",
              "default | 1 | 20 (no budget)",
            ]);
            const pool = String(byUser.pool);
            assert.match(pool, /…-key/, "the upstream key by its last 4 characters");
            assert.match(pool, /healthy/);
            assert.match(pool, /3 ok/, "the last hour's successes");
            assert.doesNotMatch(pool, /test-upstream-key/, "never the whole key");

            await page.evaluate(
              show("users", `$("users-list") && $("users-list").querySelector("tbody")`),
            );
            await screenshot(page, `/tmp/ztoapi-console-users-${suffix}.png`);
            await fits(page, width);
            await clean(page, origin);

            await page.evaluate(
              show("users/alice", `document.querySelector("#user-chart .chart-day")`),
            );
            await screenshot(page, `/tmp/ztoapi-console-user-${suffix}.png`);
            const userChart = await page.evaluate<string>(inPage(`
              return [...document.querySelectorAll("#user-chart tbody tr")].at(-1).textContent;
            `));
            assert.match(userChart, /6,0006,000$/, "alice's chart: glm-4.5 and the total today");
            await fits(page, width);
            await clean(page, origin);

            await page.evaluate(
              show("requests", `document.querySelector("#requests-table tbody")`),
            );
            await screenshot(page, `/tmp/ztoapi-console-requests-${suffix}.png`);
            await fits(page, width);
            await clean(page, origin);
          } finally {
            await page.close();
          }
        });
      }

      await t.step("create a key, see it once, revoke it after a confirmation", async () => {
        const page = await browser.newPage();
        try {
          await openAt(page, `${origin}/admin#users/alice`, { width: 390, height: 844 });
          await page.evaluate(signIn(CONSOLE_ADMIN_KEY));
          await page.evaluate(show("users/alice", `document.querySelector("#keys-table tbody")`));
          const key = await page.evaluate<string>(inPage(`
            $("user-key-name").value = "browser";
            $("user-key-name").form.requestSubmit();
            const shown = await wait(() => $("new-key"), "the new key");
            return text(shown);
          `));
          assert.match(key, /^sk-[A-Za-z0-9]{40,}$/);
          assert.equal(await status(origin, key), 200, "the key shown works");
          const once = await page.evaluate<Record<string, unknown>>(inPage(`
            const box = document.querySelector(".once");
            return {
              warning: /you will not see this again/.test(box.textContent),
              copyFocused: document.activeElement === box.querySelector(".once-row button"),
              times: document.body.textContent.split(${JSON.stringify(key)}).length - 1,
              listed: [...document.querySelectorAll("#keys-table tbody tr")].map((tr) => text(tr.children[0])),
              storage: JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }) + document.cookie,
            };
          `));
          assert.equal(once.warning, true);
          assert.equal(once.copyFocused, true);
          assert.equal(once.times, 1, "the key appears once, in its box");
          assert.equal((once.listed as string[]).length, 2);
          assert.ok((once.listed as string[]).some((k) => k.startsWith("browser")));
          assert.ok(!String(once.storage).includes(key), "the key is stored nowhere");
          const copied = await page.evaluate<string>(inPage(`
            const button = document.querySelector(".once-row button");
            button.click();
            return await wait(() => button.textContent !== "Copy key" && button.textContent, "copy");
          `));
          assert.match(copied, /^(Copied|Selected: press Ctrl\+C)$/);
          await screenshot(page, "/tmp/ztoapi-console-new-key-390.png");
          await fits(page, 390);
          await clean(page, origin);

          const hidden = await page.evaluate<number>(inPage(`
            [...document.querySelectorAll(".once button")].find((b) => /^Done/.test(b.textContent)).click();
            return document.body.textContent.split(${JSON.stringify(key)}).length - 1;
          `));
          assert.equal(hidden, 0, "Done removes the key from the page");

          const keys = await adminCall(gw, "/admin/keys?user=alice");
          const id = keys.body.data.find((k: { name: string }) => k.name === "browser").id;
          const cancelled = await page.evaluate<boolean>(inPage(`
            $("key-revoke-${id}").click();
            await wait(() => $("confirm").open, "the confirmation");
            const asked = /Revoke key browser/.test(text($("confirm-title")));
            [...$("confirm").querySelectorAll("button")].find((b) => b.value === "cancel").click();
            await wait(() => !$("confirm").open, "the dialog to close");
            return asked;
          `));
          assert.equal(cancelled, true);
          assert.equal(await status(origin, key), 200, "cancelled: the key still works");

          await page.evaluate(inPage(`
            $("key-revoke-${id}").click();
            await wait(() => $("confirm").open, "the confirmation");
          `));
          await screenshot(page, "/tmp/ztoapi-console-revoke-390.png");
          assert.deepEqual(await accessibilityViolations(page), []);
          const after = await page.evaluate<string[]>(inPage(`
            $("confirm-ok").click();
            await wait(() => !$("key-revoke-${id}"), "the revoked key to leave the list");
            return [...document.querySelectorAll("#keys-table tbody tr")].map((tr) => text(tr.children[0]));
          `));
          assert.equal(after.length, 1);
          assert.ok(after[0].startsWith("laptop"));
          assert.equal(await status(origin, key), 401, "a revoked key stops working");

          const left = await page.evaluate<number[]>(inPage(`
            $("user-key-name").value = "left behind";
            $("user-key-name").form.requestSubmit();
            const key = text(await wait(() => $("new-key"), "another key"));
            const before = document.body.textContent.split(key).length - 1;
            location.hash = "overview";
            await wait(() => !$("view-overview").hidden, "the overview");
            return [before, document.body.textContent.split(key).length - 1];
          `));
          assert.deepEqual(left, [1, 0], "a new key leaves the page with its view");
          assert.deepEqual(problemsOf(page, origin), { errors: [], failed: [], external: [] });
        } finally {
          await page.close();
        }
      });

      await t.step("change a user's limit, disable and enable the user", async () => {
        const page = await browser.newPage();
        try {
          await openAt(page, `${origin}/admin`, { width: 1280, height: 800 });
          await page.evaluate(signIn(CONSOLE_ADMIN_KEY));
          await page.evaluate(show("users/alice", `$("limit-rpm")`));
          await page.evaluate(inPage(`
            $("limit-rpm").value = "7";
            $("limit-rpm").form.requestSubmit();
            await wait(() => text($("limits-status")) === "Limits saved.", "the limits to save");
          `));
          const saved = await adminCall(gw, "/admin/users/alice");
          assert.equal(saved.body.rate_limit_rpm, 7);
          assert.deepEqual(saved.body.limits.rate_limit_rpm, 7);
          await page.evaluate(
            show("users", `$("users-list") && $("users-list").querySelector("tbody")`),
          );
          const row = await page.evaluate<string>(inPage(`
            return text([...$("users-list").querySelectorAll("tbody tr")]
              .find((tr) => text(tr.children[0]) === "alice"));
          `));
          assert.match(row, /7 override/);

          await page.evaluate(show("users/alice", `$("user-toggle")`));
          await page.evaluate(inPage(`
            $("user-toggle").click();
            await wait(() => /^Enable/.test(text($("user-toggle"))), "the user to be disabled");
          `));
          assert.equal((await adminCall(gw, "/admin/users/alice")).body.disabled, true);
          await page.evaluate(inPage(`
            $("user-toggle").click();
            await wait(() => /^Disable/.test(text($("user-toggle"))), "the user to be enabled");
            $("limit-rpm").value = "";
            $("limit-rpm").form.requestSubmit();
            await wait(() => text($("limits-status")) === "Limits saved." && $("limit-rpm").value === "",
              "the limit to reset");
          `));
          const reset = await adminCall(gw, "/admin/users/alice");
          assert.equal(reset.body.disabled, false);
          assert.equal(reset.body.rate_limit_rpm, null, "an empty field resets to the server's");
          await clean(page, origin);
        } finally {
          await page.close();
        }
      });

      await t.step(
        "recent requests: filtered by user and status, refreshed while shown",
        async () => {
          const page = await browser.newPage();
          try {
            await openAt(page, `${origin}/admin`, { width: 1280, height: 800, dark: true });
            await page.evaluate(signIn(CONSOLE_ADMIN_KEY));
            await page.evaluate(
              show("requests", `document.querySelector("#requests-table tbody")`),
            );
            const rows = (filter: string) =>
              page.evaluate<string[][]>(inPage(`
              ${filter}
              await new Promise((resolve) => setTimeout(resolve, 0));
              await wait(() => !$("requests-table").dataset.loading, "the list");
              return [...$("requests-table").querySelectorAll("tbody tr")]
                .map((tr) => [...tr.children].map((cell) => text(cell)));
            `));
            const all = await rows("");
            const chats = all.filter((r) => r[3] === "POST /v1/chat/completions");
            assert.equal(chats.length, 3);
            assert.deepEqual(chats.at(-1)!.slice(1, 6), [
              "alice",
              alice.id,
              "POST /v1/chat/completions",
              "glm-4.5",
              "200",
            ]);
            assert.deepEqual(chats.at(-1)!.slice(7, 9), ["1,200", "300"]);
            assert.match(chats.at(-1)![9], /^\d{14}[0-9a-f]{16}$/);
            const text = JSON.stringify(all);
            assert.ok(
              !text.includes(alice.key) && !text.includes(TEST_KEY) && !text.includes("hello"),
            );

            const mine = await rows(`
            $("requests-user").value = "alice";
            $("requests-user").dispatchEvent(new Event("change", { bubbles: true }));
          `);
            assert.ok(
              mine.length >= 2 && mine.every((r) => r[1] === "alice"),
              JSON.stringify(mine),
            );
            const failed = await rows(`
            $("requests-user").value = "";
            $("requests-status").value = "error";
            $("requests-status").dispatchEvent(new Event("change", { bubbles: true }));
          `);
            assert.ok(failed.length >= 1 && failed.every((r) => /^4\d\d/.test(r[5])), `${failed}`);
            assert.ok(failed.some((r) => r[5].includes("Unknown API key")), "the error is shown");
            await rows(`
            $("requests-status").value = "";
            $("requests-status").dispatchEvent(new Event("change", { bubbles: true }));
          `);

            assert.equal(await chatAs(gw, TEST_KEY, { model: "glm-5", usage: small }), 200);
            const fresh = await page.evaluate<boolean>(inPage(`
            await wait(() => [...$("requests-table").querySelectorAll("tbody tr")]
              .some((tr) => tr.textContent.includes("glm-5")), "the refresh", 30000);
            return true;
          `));
            assert.equal(fresh, true, "the list refreshes by itself");
            await clean(page, origin);
            const urls = page.events.filter((e) => e.method === "Network.requestWillBeSent")
              .map((e) => String((e.params as { request: { url: string } }).request.url));
            assert.ok(urls.every((url) => !url.includes(CONSOLE_ADMIN_KEY)), "no key in a URL");

            const out = await page.evaluate<Record<string, unknown>>(inPage(`
            $("sign-out").click();
            return {
              signIn: !$("sign-in").hidden,
              stored: sessionStorage.getItem("ztoapi.adminKey"),
              alice: document.querySelector("main").textContent.includes("alice"),
            };
          `));
            assert.deepEqual(out, { signIn: true, stored: null, alice: false });
            await page.navigate(`${origin}/admin?again#requests`);
            const after = await page.evaluate<boolean>(
              `!document.getElementById("sign-in").hidden`,
            );
            assert.equal(after, true, "signed out stays signed out");
          } finally {
            await page.close();
          }
        },
      );
    } finally {
      await browser.close();
    }
  },
});
