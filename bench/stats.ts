/** Small statistics and the report table of the benchmark. */

/** The `q` quantile (0–1) of samples, by nearest rank; NaN when there are none. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

/** The median of samples. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One row of the report. */
export interface Row {
  scenario: string;
  metric: string;
  direct: string;
  /** The minimal Deno relay's figure. */
  floor: string;
  /** ZtoApi with keys and limits switched off. */
  noKv: string;
  gateway: string;
  /** The gateway's cost over direct: an added time, a ratio, or a size. */
  cost: string;
  /** The gateway's figure minus the floor's; empty where the floor was not measured. */
  overFloor: string;
}

/** Milliseconds with two decimals. */
export function ms(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)} ms` : "n/a";
}

/** A signed difference, its size written by `format`; n/a when not finite. */
export function signed(value: number, format: (size: number) => string): string {
  if (!Number.isFinite(value)) return "n/a";
  return `${value >= 0 ? "+" : "−"}${format(Math.abs(value))}`;
}

/** A signed difference in milliseconds. */
export function addedMs(value: number): string {
  return signed(value, (size) => `${size.toFixed(2)} ms`);
}

/** Requests per second, whole. */
export function rps(value: number): string {
  return Number.isFinite(value) ? `${Math.round(value)} req/s` : "n/a";
}

/** A ratio as a percentage. */
export function percent(value: number): string {
  return Number.isFinite(value) ? `${(value * 100).toFixed(1)} %` : "n/a";
}

/** Bytes as MB (10^6), one decimal. */
export function megabytes(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1e6).toFixed(1)} MB` : "n/a";
}

/** PASS or FAIL; n/a when the figure could not be measured. */
export function verdict(value: number, pass: (value: number) => boolean): string {
  if (!Number.isFinite(value)) return "n/a";
  return pass(value) ? "PASS" : "FAIL";
}

/** Words joined into lines of at most `width` characters. */
export function wrap(text: string, width = 100): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.join("\n");
}

/** Rows as a Markdown table under `header`, columns padded so it reads in a terminal too. */
export function markdownTable<K extends string>(
  header: Readonly<Record<K, string>>,
  rows: readonly Readonly<Record<K, string>>[],
): string {
  const columns = Object.keys(header) as K[];
  const all = [header, ...rows];
  const width = (column: K) => Math.max(3, ...all.map((row) => row[column].length));
  const line = (row: Readonly<Record<K, string>>) =>
    `| ${columns.map((c) => row[c].padEnd(width(c))).join(" | ")} |`;
  const rule = `| ${columns.map((c) => "-".repeat(width(c))).join(" | ")} |`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}
