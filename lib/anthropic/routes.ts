/** The Anthropic routes: `/v1/messages`, `/v1/messages/count_tokens`, `/v1/complete`. */

import { completionJson, CompletionStreamRenderer, planComplete } from "./complete.ts";
import { countInputTokens } from "./count_tokens.ts";
import { planAnthropicMessages } from "./request.ts";
import { anthropicMessage, AnthropicStreamRenderer } from "./response.ts";
import { type ChatContext, runChat } from "../chat/run.ts";
import { readJsonObject } from "../core/json_body.ts";
import { thinkingSigner } from "./thinking_signature.ts";

/** A chat context plus the KV store that holds the thinking-signature secret. */
export type AnthropicContext = ChatContext & { kv: Deno.Kv };

/** `POST /v1/messages`: Anthropic Messages in, GLM upstream, Anthropic out; `stream` decides. */
export async function handleMessages(request: Request, ctx: AnthropicContext): Promise<Response> {
  const { config, kv } = ctx;
  const body = await readJsonObject(request, config.maxBodyBytes);
  const signer = await thinkingSigner(kv);
  const plan = planAnthropicMessages(body, config, { verifyThinking: signer.verify });
  const options = {
    model: plan.model.requested,
    signer,
    inputTokens: countInputTokens(plan.glm),
  };
  return runChat(request, ctx, plan, {
    stream: () => new AnthropicStreamRenderer(options),
    json: (answer) => anthropicMessage(answer, options),
  });
}

/** `POST /v1/messages/count_tokens`: `{"input_tokens": N}`, estimated locally. */
export async function handleCountTokens(
  request: Request,
  ctx: AnthropicContext,
): Promise<Response> {
  const { config } = ctx;
  const body = await readJsonObject(request, config.maxBodyBytes);
  const plan = planAnthropicMessages(body, config, {
    verifyThinking: () => true,
    requireMaxTokens: false,
  });
  ctx.trace.model = plan.model.requested;
  return Response.json({ input_tokens: countInputTokens(plan.glm) });
}

/** `POST /v1/complete`: the legacy Text Completions API. */
export async function handleComplete(request: Request, ctx: AnthropicContext): Promise<Response> {
  const body = await readJsonObject(request, ctx.config.maxBodyBytes);
  const plan = planComplete(body, ctx.config);
  const model = plan.model.requested;
  return runChat(request, ctx, plan, {
    stream: () => new CompletionStreamRenderer(model),
    json: (answer) => completionJson(answer, model),
  });
}
