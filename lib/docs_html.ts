/** HTML building blocks for the docs page: an escaping template tag and a few repeated fragments. */

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

/** A table inside its own horizontal scroll container, so the page itself never scrolls sideways. */
export function table(options: {
  caption: string;
  head: readonly string[];
  rows: readonly (readonly (string | SafeHtml)[])[];
}): SafeHtml {
  const rows = options.rows.map((row) =>
    markup`<tr>${
      row.map((cell, i) =>
        i === 0 ? markup`<th scope="row">${cell}</th>` : markup`<td>${cell}</td>`
      )
    }</tr>\n`
  );
  return markup`<div class="table-scroll" role="region" tabindex="0" aria-label="${options.caption}">
<table>
<caption>${options.caption}</caption>
<thead><tr>${options.head.map((h) => markup`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>
${rows}</tbody>
</table>
</div>`;
}

/** Inline code. */
export function code(text: string): SafeHtml {
  return markup`<code>${text}</code>`;
}
