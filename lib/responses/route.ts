/** `POST /v1/responses`: the OpenAI Responses API (the subset Codex needs); nothing is stored. */

import { type ChatContext, runChat } from "../chat/run.ts";
import { ApiError } from "../core/errors.ts";
import { readJsonObject } from "../core/json_body.ts";
import { logDebug } from "../core/log.ts";
import { planResponses } from "./request.ts";
import { responsesJson } from "./response.ts";
import { ResponsesStreamRenderer } from "./stream.ts";

/** Handles a Responses request: events when `stream` is true, one response object otherwise. */
export async function handleResponses(request: Request, ctx: ChatContext): Promise<Response> {
  const { config } = ctx;
  const body = await readJsonObject(request, config.maxBodyBytes);
  const plan = planResponses(body, config);
  if (config.debugMode && plan.dropped.length) {
    logDebug(ctx.log, "responses input items dropped", { types: plan.dropped });
  }
  const options = {
    model: plan.model.requested,
    createdAt: Math.floor(ctx.now() / 1000),
    namespaces: plan.namespaces,
  };
  return runChat(request, ctx, plan, {
    stream: () => new ResponsesStreamRenderer(options),
    json: (answer) => responsesJson(answer, options),
  });
}

/** `GET` / `DELETE /v1/responses/{id}`: 404, since no response is ever stored. */
export function responseNotStored(request: Request): Promise<Response> {
  const id = new URL(request.url).pathname.replace(/\/+$/, "").split("/").pop()?.slice(0, 100);
  const message = `Response ${JSON.stringify(id)} not found: this gateway stores no responses ` +
    "(send the whole conversation in input)";
  return Promise.reject(new ApiError(404, "not_found", message));
}
