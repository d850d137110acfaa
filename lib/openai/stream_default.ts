/** The contract's "Streaming default": whether a chat completion without `stream` streams. */

/** User agents of hand-typed command-line calls. */
const COMMAND_LINE = /^(curl|wget|httpie)\//i;

/**
 * Whether a chat completion streams. The `stream` field decides when present. Without it, the
 * answer streams when the client asks for an event stream (`Accept: text/event-stream`), or, with
 * DEFAULT_STREAM on, when it is a command-line call: no `Accept` at all, or a curl, Wget or HTTPie
 * user agent whose `Accept` takes any type (as theirs do by default). Every other client (the SDKs, `fetch`,
 * `requests`) gets JSON, as the OpenAI API defines.
 */
export function wantsStream(
  stream: boolean | undefined,
  headers: Headers,
  defaultStream: boolean,
): boolean {
  if (stream !== undefined) return stream;
  const accept = (headers.get("accept") ?? "").trim().toLowerCase();
  if (accept.includes("text/event-stream")) return true;
  if (!defaultStream) return false;
  if (accept === "") return true;
  return COMMAND_LINE.test(headers.get("user-agent") ?? "") && accept.includes("*/*");
}
