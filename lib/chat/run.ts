/** One chat turn through Z.ai, shared by every dialect: call, decode, render, meter. */

import type { RouteContext } from "../app.ts";
import { ApiError } from "../core/errors.ts";
import { collectAnswer, type CollectedAnswer } from "./collect.ts";
import { completionEvents, glmEvents, outputLength } from "../upstream/decode.ts";
import type { TokenUsage } from "../governance/types.ts";
import { logDebug } from "../core/log.ts";
import type { ResolvedModel } from "../core/models.ts";
import { type RelayOutcome, relayStream, type StreamRenderer } from "./relay.ts";
import { decodeSse, SSE_HEADERS } from "../upstream/sse.ts";
import { applyStopSequences, withStopSequences } from "./stop_sequences.ts";
import { estimateTokens } from "./tokens.ts";
import { callUpstream, type GlmRequest, timeoutError } from "../upstream/client.ts";

/** A translated request, ready to send upstream. */
export interface ChatPlan {
  glm: GlmRequest;
  stream: boolean;
  model: ResolvedModel;
  /** Stop sequences the gateway matches itself. */
  stopSequences: readonly string[];
}

/** How a dialect renders the answer. */
export interface ChatRendering {
  stream: () => StreamRenderer;
  json: (answer: CollectedAnswer) => unknown;
}

function estimatedUsage(plan: ChatPlan, outputChars: number): TokenUsage {
  return {
    promptTokens: estimateTokens(JSON.stringify(plan.glm.messages ?? "")),
    completionTokens: Math.ceil(outputChars / 4),
    cachedTokens: 0,
    estimated: true,
  };
}

function meter(ctx: RouteContext, plan: ChatPlan, outcome: Omit<RelayOutcome, "cancelled">): void {
  const usage: TokenUsage = outcome.usage
    ? {
      promptTokens: outcome.usage.promptTokens,
      completionTokens: outcome.usage.completionTokens,
      cachedTokens: outcome.usage.cachedTokens,
      estimated: outcome.usage.estimated === true,
    }
    : estimatedUsage(plan, outcome.outputChars);
  // record() never throws; not awaited so the client's response is not held up.
  void ctx.deps.governance.record(ctx.caller, plan.model.upstream, usage);
}

function readFailure(error: unknown, timedOut: boolean, timeoutMs: number): ApiError {
  if (timedOut) return timeoutError(timeoutMs);
  if (error instanceof ApiError) return error;
  return new ApiError(502, "upstream", "The connection to Z.ai broke during the answer: retry");
}

/**
 * What ends the upstream call early: the client leaving, and for a request started before its
 * admission was decided, a refusal.
 */
function upstreamSignal(request: Request, ctx: RouteContext): AbortSignal {
  if (!ctx.admission.early) return request.signal;
  // One controller fed by both (AbortSignal.any costs ~15× more, and weak references for the GC).
  const stop = new AbortController();
  const abort = () => stop.abort();
  if (request.signal.aborted) abort();
  else request.signal.addEventListener("abort", abort, { once: true });
  ctx.admission.catch(abort);
  return stop.signal;
}

/** Sends the plan upstream and renders the answer as a stream or as JSON. */
export async function runChat(
  request: Request,
  ctx: RouteContext,
  plan: ChatPlan,
  rendering: ChatRendering,
): Promise<Response> {
  const { deps, trace } = ctx;
  trace.model = plan.model.requested;
  if (deps.config.debugMode) logDebug(deps.log, "upstream request", plan.glm);
  const call = await callUpstream(deps, plan.glm, upstreamSignal(request, ctx));
  if (ctx.admission.early) {
    // Started before the decision: nothing reaches the client unless it admits the request.
    ctx.admission.hurry();
    await ctx.admission.catch((refusal) => {
      call.abort();
      throw refusal;
    });
  }
  trace.upstreamRequestId = call.requestId ?? undefined;
  const timeoutMs = deps.config.upstreamTimeoutMs;

  if (!plan.stream) {
    let body: unknown;
    try {
      body = await call.response.json();
    } catch (error) {
      call.abort();
      throw readFailure(error, call.timedOut(), timeoutMs);
    }
    call.finish();
    if (deps.config.debugMode) logDebug(deps.log, "upstream response", body);
    trace.upstreamRequestId ??= (body as { id?: string })?.id;
    const events = applyStopSequences(completionEvents(body), plan.stopSequences);
    const answer = collectAnswer(events);
    const outputChars = events.reduce((n, event) => n + outputLength(event), 0);
    answer.usage ??= { type: "usage", ...estimatedUsage(plan, outputChars) };
    meter(ctx, plan, { usage: answer.usage, outputChars });
    return Response.json(rendering.json(answer));
  }

  if (!call.response.body) {
    call.finish();
    throw new ApiError(502, "upstream", "Z.ai sent an empty stream: retry");
  }
  const events = withStopSequences(
    glmEvents(
      decodeSse(call.response.body),
      (error) => readFailure(error, call.timedOut(), timeoutMs),
      (id) => trace.upstreamRequestId ??= id,
    ),
    plan.stopSequences,
  );
  const { promise: streamEnd, resolve: endStream } = Promise.withResolvers<void>();
  trace.streamEnd = streamEnd;
  const body = await relayStream(events, rendering.stream(), {
    keepaliveMs: deps.keepaliveMs,
    abortUpstream: call.abort,
    estimateUsage: (outputChars) => ({ type: "usage", ...estimatedUsage(plan, outputChars) }),
    signal: request.signal,
    onEnd: (outcome) => {
      meter(ctx, plan, outcome);
      if (outcome.error) trace.streamError = outcome.error.message;
      else if (outcome.cancelled) trace.streamError = "Client disconnected before the end";
      endStream();
    },
  });
  return new Response(body, { headers: SSE_HEADERS });
}
