/** What browser tests check on a page: problems, layout, accessibility; and opening, screenshots. */

import { axe } from "./clients.ts";
import type { Page } from "./cdp.ts";

/** What went wrong while a page was open. */
export interface PageProblems {
  errors: string[];
  failed: string[];
  external: string[];
}

/** Console errors, exceptions, failed requests and requests that left the server's origin. */
export function problemsOf(page: Page, origin: string): PageProblems {
  const problems: PageProblems = { errors: [], failed: [], external: [] };
  const urls = new Map<unknown, string>();
  for (const { method, params } of page.events) {
    const p = params as Record<string, Record<string, unknown>>;
    if (method === "Runtime.consoleAPICalled" && ["error", "assert"].includes(String(p.type))) {
      problems.errors.push(`console.${p.type}: ${JSON.stringify(p.args)}`);
    } else if (method === "Runtime.exceptionThrown") {
      problems.errors.push(`exception: ${JSON.stringify(p.exceptionDetails)}`);
    } else if (method === "Log.entryAdded" && p.entry.level === "error") {
      problems.errors.push(`log: ${p.entry.text} ${p.entry.url ?? ""}`);
    } else if (method === "Network.loadingFailed") {
      const reason = [p.errorText, p.blockedReason].filter(Boolean).join(" ");
      problems.failed.push(`${reason} ${urls.get(p.requestId) ?? ""}`.trim());
    } else if (method === "Network.responseReceived" && Number(p.response.status) >= 400) {
      problems.failed.push(`${p.response.status} ${p.response.url}`);
    } else if (method === "Network.requestWillBeSent") {
      const url = String(p.request.url);
      urls.set(p.requestId, url);
      if (!url.startsWith(`${origin}/`) && !url.startsWith("data:")) problems.external.push(url);
    }
  }
  return problems;
}

/** Width facts of the loaded page, and the elements that stick out of the viewport, if any. */
export const LAYOUT = `(() => {
  const root = document.documentElement;
  const wide = [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
    .filter((el) => !el.closest(".table-scroll, pre"))
    .slice(0, 5)
    .map((el) => el.tagName + "." + el.className);
  return { scrollWidth: root.scrollWidth, innerWidth: window.innerWidth, wide };
})()`;

/** Sets the viewport and colour scheme, then opens `url`. */
export async function openAt(
  page: Page,
  url: string,
  options: { width: number; height: number; dark?: boolean },
): Promise<void> {
  await page.send("Emulation.setDeviceMetricsOverride", {
    width: options.width,
    height: options.height,
    deviceScaleFactor: 1,
    mobile: options.width < 600,
  });
  await page.send("Emulation.setEmulatedMedia", {
    features: [{ name: "prefers-color-scheme", value: options.dark ? "dark" : "light" }],
  });
  await page.navigate(url);
}

/** Saves a full-page PNG. */
export async function screenshot(page: Page, file: string): Promise<void> {
  const { data } = await page.send<{ data: string }>("Page.captureScreenshot", {
    format: "png",
    captureBeyondViewport: true,
  });
  await Deno.writeFile(file, Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
}

interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's WCAG 2.1 A/AA and best-practice findings for the page as it is now. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(`${axe.source};true`);
  const violations = await page.evaluate<AxeViolation[]>(`axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
  }).then((result) => result.violations.map(({ id, impact, help, nodes }) =>
    ({ id, impact, help, nodes: nodes.slice(0, 3).map((n) => ({ target: n.target })) })))`);
  return violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`
  );
}
