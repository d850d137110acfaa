/** A local, deterministic token estimate for text (no tokenizer download, no upstream call). */

/**
 * Estimates the tokens of a text: ASCII runs at about 4 characters a token (GLM's BPE averages
 * 3.5–4.5 on English and code), every other character (CJK, emoji, accents) one token each.
 */
export function estimateTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 128) ascii++;
    else if (code < 0xdc00 || code > 0xdfff) other++; // a surrogate pair counts once
  }
  return Math.ceil(ascii / 4) + other;
}

/** Tokens an image costs in the estimate (GLM vision models bill images at roughly this much). */
export const IMAGE_TOKENS = 1_000;
