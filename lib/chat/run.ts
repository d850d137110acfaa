/** One chat turn through Z.ai, shared by every dialect: call, decode, render, meter. */

import type { Config } from "../core/config.ts";
import { ApiError } from "../core/errors.ts";
import { outputLength, type Usage } from "../core/glm.ts";
import { logDebug, type LogSink, type RequestTrace } from "../core/log.ts";
import type { Upstream } from "../upstream/client.ts";
import { timeoutError } from "../upstream/client.ts";
import { completionEvents, glmEvents } from "../upstream/decode.ts";
import { decodeSse } from "../upstream/sse.ts";
import { collectAnswer, type CollectedAnswer } from "./collect.ts";
import type { ChatPlan } from "./plan.ts";
import { type RelayOutcome, relayStream, SSE_HEADERS, type StreamRenderer } from "./relay.ts";
import { applyStopSequences, withStopSequences } from "./stop_sequences.ts";
import { estimateTokens } from "./tokens.ts";

/** What a chat turn needs from the gateway; app.ts builds it for each request. */
export interface ChatContext {
  config: Readonly<Config>;
  /** The Z.ai client of the service this request is for. */
  upstream: Upstream;
  /** Silence after which a stream gets a keepalive comment / ping. */
  keepaliveMs: number;
  log: LogSink;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Filled in for the request's log line. */
  trace: RequestTrace;
  /**
   * The request's admission. When `startEarly`, the upstream call may start before `decision`
   * settles, and is abandoned if it rejects; otherwise the decision has already admitted it.
   */
  admission: { startEarly: boolean; decision: Promise<unknown> };
  /** Counts a finished call's usage for the caller; synchronous, never throws. */
  meter(model: string, usage: Usage): void;
}

/** How a dialect renders the answer. */
export interface ChatRendering {
  stream: () => StreamRenderer;
  json: (answer: CollectedAnswer) => unknown;
}

function estimatedUsage(plan: ChatPlan, outputChars: number): Usage {
  return {
    promptTokens: estimateTokens(JSON.stringify(plan.glm.messages ?? "")),
    completionTokens: Math.ceil(outputChars / 4),
    cachedTokens: 0,
    estimated: true,
  };
}

function meter(ctx: ChatContext, plan: ChatPlan, outcome: Omit<RelayOutcome, "cancelled">): void {
  const { type: _type, ...usage } = outcome.usage ?? {
    type: "usage",
    ...estimatedUsage(plan, outcome.outputChars),
  };
  ctx.trace.promptTokens = usage.promptTokens;
  ctx.trace.completionTokens = usage.completionTokens;
  ctx.meter(plan.model.upstream, usage);
}

function readFailure(error: unknown, timedOut: boolean, timeoutMs: number): ApiError {
  if (timedOut) return timeoutError(timeoutMs);
  if (error instanceof ApiError) return error;
  return new ApiError(502, "upstream", "The connection to Z.ai broke during the answer: retry");
}

/** Sends the plan upstream and renders the answer as a stream or as JSON. */
export async function runChat(
  request: Request,
  ctx: ChatContext,
  plan: ChatPlan,
  rendering: ChatRendering,
): Promise<Response> {
  const { config, trace, admission } = ctx;
  trace.model = plan.model.requested;
  if (config.debugMode) logDebug(ctx.log, "upstream request", plan.glm);
  // A request started before its decision also stops when the decision refuses it.
  const signal = admission.startEarly
    ? AbortSignal.any([request.signal, rejectionSignal(admission.decision)])
    : request.signal;
  const stats = { queuedMs: 0, attempts: 0 };
  let call;
  try {
    call = await ctx.upstream.call(plan.glm, { signal, user: trace.user, stats });
  } catch (error) {
    // The client left after the request went out: Z.ai may bill the prompt, so it counts.
    if (request.signal.aborted && stats.attempts > 0) meter(ctx, plan, { outputChars: 0 });
    throw error;
  } finally {
    trace.queuedMs = Math.round(stats.queuedMs * 100) / 100;
  }
  if (admission.startEarly) {
    // Started before the decision: nothing reaches the client unless it admits the request.
    await admission.decision.catch((refusal) => {
      call.abort();
      throw refusal;
    });
  }
  trace.upstreamRequestId = call.requestId ?? undefined;
  const timeoutMs = config.upstreamTimeoutMs;

  if (!plan.stream) {
    let body: unknown;
    try {
      body = await call.response.json();
    } catch (error) {
      call.abort();
      meter(ctx, plan, { outputChars: 0 });
      throw readFailure(error, call.timedOut(), timeoutMs);
    }
    call.finish();
    if (config.debugMode) logDebug(ctx.log, "upstream response", body);
    trace.upstreamRequestId ??= (body as { id?: string })?.id;
    const events = applyStopSequences(
      completionEvents(body, operatorKeys(config)),
      plan.stopSequences,
    );
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
      operatorKeys(config),
    ),
    plan.stopSequences,
  );
  const { promise: streamEnd, resolve: endStream } = Promise.withResolvers<void>();
  let body;
  try {
    body = relayStream(events, rendering.stream(), {
      keepaliveMs: ctx.keepaliveMs,
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
  } catch (error) {
    call.abort(); // the relay never started: nothing else would free the call's slot
    throw error;
  }
  trace.streamEnd = streamEnd;
  return new Response(body, { headers: SSE_HEADERS });
}

/** Every Z.ai key of every service: what upstream errors are redacted of. */
function operatorKeys(config: Readonly<Config>): string[] {
  return config.services.flatMap((service) => [...service.keys]);
}

/** A signal that aborts when `decision` rejects. */
function rejectionSignal(decision: Promise<unknown>): AbortSignal {
  const refused = new AbortController();
  decision.catch(() => refused.abort());
  return refused.signal;
}
