/**
 * The relays ZtoApi is measured against (`deno task bench`, `deno task bench:relays`) must relay
 * faithfully, or the comparison means nothing: each answers with what the fake Z.ai says, whole
 * and streamed. No timing here. nginx is tested only where it is installed; Node and Deno always.
 */

import assert from "node:assert/strict";
import { findProgram, startNginx, startNodeRelay } from "../bench/relays.ts";
import { type Service, startFloor } from "../bench/services.ts";
import { type AnswerScript, FAKE_UPSTREAM_KEY, startFakeUpstream } from "./fake_upstream.ts";

const QUESTION = { role: "user", content: "Count to twenty." };
/** Twenty chunks 2 ms apart, so a relay that stops early or buffers wrongly loses some. */
const ANSWER: AnswerScript = {
  kind: "answer",
  text: Array.from({ length: 20 }, (_, i) => `number ${i + 1}. `).join(""),
  textChunks: 20,
  chunkDelayMs: 2,
};

async function post(url: string, stream: boolean): Promise<string> {
  const response = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${FAKE_UPSTREAM_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "glm-4.5-air", messages: [QUESTION], stream }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return await response.text();
}

/** The text an answer carries, whole (`message.content`) or streamed (`delta.content`). */
function textOf(body: string, stream: boolean): string {
  if (!stream) return JSON.parse(body).choices[0].message.content;
  return body.split("\n").filter((line) => line.startsWith("data: {"))
    .map((line) => JSON.parse(line.slice(6)).choices?.[0]?.delta?.content ?? "").join("");
}

async function assertRelays(
  start: (tmp: string, upstreamUrl: string) => Promise<Service>,
  chatPath: (upstreamUrl: string) => string,
): Promise<void> {
  await using fake = startFakeUpstream({ script: () => ANSWER, record: false });
  const tmp = await Deno.makeTempDir({ prefix: "ztoapi-relay-test-" });
  const service = await start(tmp, fake.url);
  try {
    const url = `${service.url}${chatPath(fake.url)}`;
    for (const stream of [false, true]) {
      const direct = textOf(await post(`${fake.url}/chat/completions`, stream), stream);
      const relayed = textOf(await post(url, stream), stream);
      assert.equal(relayed, direct, stream ? "streamed" : "whole");
      assert.match(direct, /number 1\. .*number 20\./);
    }
  } finally {
    await service.child.stop();
    await Deno.remove(tmp, { recursive: true });
  }
}

const CLIENT_PATH = () => "/v1/chat/completions";

Deno.test("the Deno floor relays the fake Z.ai's answer, whole and streamed", async () => {
  await assertRelays(startFloor, CLIENT_PATH);
});

const node = findProgram("node");
Deno.test({
  name: "the Node relay relays the fake Z.ai's answer, whole and streamed",
  ignore: !node,
  fn: () => assertRelays((tmp, url) => startNodeRelay(tmp, node!, url), CLIENT_PATH),
});

const nginx = findProgram("nginx");
Deno.test({
  name: "nginx relays the fake Z.ai's answer, whole and streamed",
  ignore: !nginx,
  fn: () =>
    assertRelays(
      (tmp, url) => startNginx(tmp, nginx!, url),
      (url) => `${new URL(url).pathname}/chat/completions`,
    ),
});
