/** HTML building blocks for the docs page: an escaping template tag and repeated fragments. */

/** Markup that is already safe; {@link markup} inserts it as is. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === undefined || value === null || value === false) return "";
  return escapeHtml(String(value));
}

/**
 * A template tag that escapes every interpolated value except {@link SafeHtml} (and arrays of it).
 * Not named `html`, so that `deno fmt` leaves the markup (and its whitespace) as written.
 */
export function markup(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** A whole number with thousands separators, as the page shows limits. */
export function formatNumber(value: number): string {
  return value.toLocaleString("en-US");
}

/** A titled code block; the page script adds a copy button to its header. */
export function codeBlock(title: string, code: string, language = "shell"): SafeHtml {
  return markup`<figure class="code" data-lang="${language}">
<figcaption class="code-head"><span>${title}</span></figcaption>
<pre tabindex="0"><code>${code}</code></pre>
</figure>`;
}

/** What {@link table} renders. */
export interface TableOptions {
  caption: string;
  head: readonly string[];
  rows: readonly (readonly (string | SafeHtml)[])[];
  /**
   * On narrow screens, show each row as a card with labelled cells instead of columns. Explicit
   * ARIA roles keep the table semantics that `display: block` would otherwise drop.
   */
  stack?: boolean;
}

/** A table in its own horizontal scroll container, so the page never scrolls sideways. */
export function table(options: TableOptions): SafeHtml {
  const role = (name: string) => options.stack ? markup` role="${name}"` : "";
  const rows = options.rows.map((row) =>
    markup`<tr${role("row")}>${
      row.map((cell, i) =>
        i === 0
          ? markup`<th scope="row"${role("rowheader")}>${cell}</th>`
          : markup`<td${role("cell")} data-label="${options.head[i]}">${cell}</td>`
      )
    }</tr>\n`
  );
  const head = options.head.map((h) => markup`<th scope="col"${role("columnheader")}>${h}</th>`);
  return markup`<div class="table-scroll" role="region" tabindex="0" aria-label="${options.caption}">
<table${options.stack ? markup` class="stack" role="table"` : ""}>
<caption>${options.caption}</caption>
<thead${role("rowgroup")}><tr${role("row")}>${head}</tr></thead>
<tbody${role("rowgroup")}>
${rows}</tbody>
</table>
</div>`;
}

/** Inline code. */
export function code(text: string): SafeHtml {
  return markup`<code>${text}</code>`;
}
