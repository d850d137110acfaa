/** The real client libraries the tests drive, pinned in one place (the server imports none). */

export { default as OpenAI } from "npm:openai@7.57.0";
export { default as Anthropic } from "npm:@anthropic-ai/sdk@1.12.0";
export { default as axe } from "npm:axe-core@4.11.0";
