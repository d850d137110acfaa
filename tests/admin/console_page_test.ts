import assert from "node:assert/strict";
import { consolePageHtml } from "../../lib/admin/console_page.ts";

const NONCE = "bm9uY2Utb2YtdGhlLXRlc3Q=";

function scriptOf(html: string): string {
  const scripts = [...html.matchAll(/<script nonce="([^"]+)">([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1, "one inline script");
  assert.equal(scripts[0][1], NONCE);
  return scripts[0][2];
}

Deno.test("the console is one document: its script parses and writes no HTML from strings", () => {
  const html = consolePageHtml({ nonce: NONCE, upstreamRoute: false });
  const script = scriptOf(html);
  const AsyncFunction = (async () => {}).constructor as new (body: string) => unknown;
  assert.doesNotThrow(() => new AsyncFunction(script));
  for (const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("]) {
    assert.ok(!script.includes(sink), `the script does not use ${sink}`);
  }
  assert.ok(!/\sstyle="/.test(html), "no style attribute (the CSP forbids them)");
  assert.equal(html.match(/<style nonce="([^"]+)">/)?.[1], NONCE);
  assert.ok(html.includes('<body data-upstream="false">'));
  assert.ok(
    consolePageHtml({ nonce: NONCE, upstreamRoute: true }).includes('data-upstream="true"'),
  );
});

Deno.test("the sign-in form cannot put the key in a URL: no name, no action, hidden until the script runs", () => {
  const html = consolePageHtml({ nonce: NONCE, upstreamRoute: false });
  const form = html.match(/<form id="sign-in-form"[^>]*>/)![0];
  assert.ok(!/action=|method=/.test(form), form);
  const input = html.match(/<input id="admin-key"[^>]*>/)![0];
  assert.ok(!/\sname=/.test(input), input);
  assert.match(input, /type="password"/);
  assert.match(html, /<section id="sign-in"[^>]*hidden>/);
  assert.ok(!/localStorage|document\.cookie/.test(scriptOf(html)), "sessionStorage only");
});
