/** `POST /v1/chat/completions`: OpenAI in, GLM upstream, OpenAI out. */

import { type ChatContext, runChat } from "../chat/run.ts";
import { readJsonObject } from "../core/json_body.ts";
import { planOpenAIChat } from "./request.ts";
import { openAICompletion, OpenAIStreamRenderer } from "./response.ts";

/** Handles an OpenAI chat completion, streaming or not. */
export async function handleChatCompletions(
  request: Request,
  ctx: ChatContext,
): Promise<Response> {
  const { config } = ctx;
  const body = await readJsonObject(request, config.maxBodyBytes);
  const plan = planOpenAIChat(body, config, request.headers);
  const options = {
    model: plan.model.requested,
    reasoningOutput: config.reasoningOutput,
    includeUsage: plan.includeUsage,
    created: Math.floor(ctx.now() / 1000),
  };
  return runChat(request, ctx, plan, {
    stream: () => new OpenAIStreamRenderer(options),
    json: (answer) => openAICompletion(answer, options),
  });
}
