/** `/v1/responses` is metered and limited like the chat route: usage per model, the daily budget. */

import assert from "node:assert/strict";
import { startGateway } from "../support/gateway.ts";
import { postResponses } from "./grammar.ts";

const ADMIN_KEY = "admin-test-key";

Deno.test("streamed and JSON responses count their usage, weighted per model", async () => {
  await using gw = await startGateway({ env: { ADMIN_KEY } });
  const usage = { prompt_tokens: 100, completion_tokens: 50 };
  gw.upstream.enqueue({ kind: "answer", usage });
  gw.upstream.enqueue({ kind: "answer", usage });
  assert.equal((await postResponses(gw, { model: "GLM-5", input: "a" })).status, 200);
  assert.equal((await postResponses(gw, { model: "glm-5", input: "b", stream: true })).status, 200);
  await gw.governance.settled();
  const response = await gw.fetch(`${gw.url}/admin/usage?user=default&days=1`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  const row = (await response.json()).data.find((r: { model: string }) => r.model === "glm-5");
  assert.deepEqual(
    [row?.requests, row?.prompt_tokens, row?.completion_tokens, row?.weighted_tokens],
    [2, 200, 100, 900],
    "glm-5 weighs 3x",
  );
});

Deno.test("a spent daily budget refuses the next response with 429 and Retry-After, before any event", async () => {
  await using gw = await startGateway({ env: { DAILY_TOKEN_BUDGET: "1000" } });
  gw.upstream.enqueue({ kind: "answer", usage: { prompt_tokens: 400, completion_tokens: 200 } });
  assert.equal((await postResponses(gw, { model: "glm-4.6", input: "spend" })).status, 200);
  await gw.governance.settled();
  const refused = await postResponses(gw, { model: "glm-4.6", input: "more", stream: true });
  assert.equal(refused.status, 429);
  assert.match(refused.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
  assert.equal(refused.json.error.code, "daily_budget_exceeded");
});
