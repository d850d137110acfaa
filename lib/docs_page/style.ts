/** The docs page's stylesheet: light and dark, readable from 320 px phones to wide screens. */

/** The inline CSS of the docs page (allowed by the page's CSP nonce). */
export const PAGE_STYLE = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f4f6f9;
  --surface: #ffffff;
  --surface-2: #eef1f6;
  --text: #171b24;
  --muted: #4a5365;
  --border: #d9dee7;
  --border-strong: #aab3c2;
  --accent: #3451d1;
  --accent-text: #2b45bd;
  --accent-soft: #e8ecfd;
  --button-bg: #3451d1;
  --button-text: #ffffff;
  --code-bg: #111624;
  --code-head: #1a2133;
  --code-text: #e5e9f2;
  --code-muted: #b4bdd0;
  --ok: #17703a;
  --bad: #b42318;
  --warn-bg: #fff5e1;
  --warn-border: #e39a1e;
  --warn-text: #4f3300;
  --radius: 10px;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1016;
    --surface: #151a23;
    --surface-2: #1d2430;
    --text: #e7eaf0;
    --muted: #a9b2c2;
    --border: #2a3240;
    --border-strong: #475266;
    --accent: #8ea1ff;
    --accent-text: #a8b6ff;
    --accent-soft: #1f2846;
    --button-bg: #8ea1ff;
    --button-text: #0d1016;
    --code-bg: #090c12;
    --code-head: #131925;
    --ok: #63d391;
    --bad: #ff8b80;
    --warn-bg: #33260c;
    --warn-border: #c88a1c;
    --warn-text: #ffe0a8;
  }
}
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
html { -webkit-text-size-adjust: 100%; scroll-behavior: smooth; }
@media (prefers-reduced-motion: reduce) { html { scroll-behavior: auto; } }
body { margin: 0; background: var(--bg); color: var(--text); font: 16px/1.6 var(--sans); }
a { color: var(--accent-text); text-underline-offset: 2px; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
main:focus { outline: none; }
.sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
.skip-link {
  position: absolute; left: 1rem; top: -5rem; z-index: 10; padding: .6rem 1rem;
  background: var(--button-bg); color: var(--button-text); border-radius: 8px; font-weight: 600;
}
.skip-link:focus { top: .75rem; }
.wrap { max-width: 80rem; margin: 0 auto; padding: 0 1rem; }
.site-header { background: var(--surface); border-bottom: 1px solid var(--border); }
.header-row { display: flex; align-items: center; gap: .75rem; min-height: 3.5rem; }
.brand {
  display: inline-flex; align-items: center; gap: .6rem; color: var(--text);
  font-weight: 700; font-size: 1.15rem; text-decoration: none;
}
.logo rect { fill: #3451d1; }
.logo path {
  fill: none; stroke: #fff; stroke-width: 3; stroke-linecap: round; stroke-linejoin: round;
}
.version {
  font: 600 .75rem/1 var(--mono); color: var(--muted); border: 1px solid var(--border);
  border-radius: 99px; padding: .3rem .55rem;
}
.layout {
  display: grid; grid-template-columns: minmax(0, 1fr); gap: 1.25rem; padding-top: 1.25rem;
  padding-bottom: 3rem;
}
main { min-width: 0; }
.toc-title {
  margin: 0 0 .5rem; font-size: .75rem; font-weight: 700; letter-spacing: .08em;
  text-transform: uppercase; color: var(--muted);
}
.toc ol { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .4rem; }
.toc a {
  display: block; padding: .25rem .75rem; border: 1px solid var(--border); border-radius: 99px;
  background: var(--surface); color: var(--text); font-size: .9rem; text-decoration: none;
}
.toc a:hover { border-color: var(--accent); }
@media (min-width: 64rem) {
  .wrap { padding: 0 2rem; }
  .layout { grid-template-columns: 12rem minmax(0, 1fr); gap: 3rem; padding-top: 2.5rem; }
  .toc { position: sticky; top: 2rem; align-self: start; }
  .toc ol { display: block; border-left: 2px solid var(--border); }
  .toc a {
    margin-left: -2px; padding: .3rem 1rem; border: 0; border-left: 2px solid transparent;
    border-radius: 0; background: none; color: var(--muted);
  }
  .toc a:hover { color: var(--text); border-left-color: var(--accent); }
}
section { margin: 0 0 3rem; scroll-margin-top: 1rem; }
h1, h2, h3 { line-height: 1.2; margin: 0 0 .75rem; }
h1 { font-size: clamp(2.25rem, 7vw, 3.25rem); letter-spacing: -.025em; }
h2 { font-size: 1.6rem; letter-spacing: -.01em; }
h3 { font-size: 1.1rem; margin-top: 1.75rem; }
p { margin: 0 0 1rem; max-width: 48rem; }
code {
  font-family: var(--mono); font-size: .875em; background: var(--surface-2);
  padding: .1em .35em; border-radius: 5px; overflow-wrap: anywhere;
}
.hero {
  background: var(--surface); border: 1px solid var(--border); border-radius: 16px;
  padding: 1.5rem 1.25rem; margin-bottom: 3rem;
  background-image: linear-gradient(135deg, var(--accent-soft), transparent 55%);
}
@media (min-width: 48rem) { .hero { padding: 2.25rem 2.5rem; } }
.eyebrow {
  margin-bottom: .5rem; color: var(--accent-text); font-size: .8rem; font-weight: 700;
  letter-spacing: .08em; text-transform: uppercase;
}
.lead { font-size: 1.15rem; color: var(--muted); }
.bases {
  display: grid; grid-template-columns: minmax(0, 1fr); gap: .75rem; margin: 1.5rem 0 1.25rem;
}
@media (min-width: 48rem) { .bases { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
.base {
  min-width: 0; padding: .75rem 1rem; background: var(--surface); border: 1px solid var(--border);
  border-radius: var(--radius);
}
.base dt {
  color: var(--muted); font-size: .75rem; font-weight: 700; letter-spacing: .06em;
  text-transform: uppercase;
}
.base dd {
  display: flex; align-items: center; justify-content: space-between; gap: .75rem;
  margin: .3rem 0 0;
}
.base code { padding: 0; background: none; font-size: 1rem; font-weight: 600; }
.facts {
  display: flex; flex-wrap: wrap; gap: .5rem; margin: 0 0 1rem; padding: 0; list-style: none;
}
.facts li {
  padding: .3rem .8rem; background: var(--accent-soft); border-radius: 99px; font-size: .9rem;
}
.fine { margin: 0; color: var(--muted); font-size: .9rem; }
.ok { color: var(--ok); font-weight: 600; }
.warn { color: var(--bad); font-weight: 600; }
.banner {
  margin-bottom: 1.5rem; padding: 1rem 1.25rem; color: var(--warn-text); background: var(--warn-bg);
  border: 1px solid var(--warn-border); border-left-width: 6px; border-radius: var(--radius);
}
.banner p { margin: 0; max-width: none; }
.banner code { background: transparent; border: 1px solid var(--warn-border); }
.code {
  min-width: 0; margin: 1rem 0; overflow: hidden; background: var(--code-bg);
  border: 1px solid var(--border); border-radius: var(--radius);
}
.code-head {
  display: flex; align-items: center; justify-content: space-between; gap: .5rem;
  min-height: 2.5rem; padding: .35rem .5rem .35rem 1rem; background: var(--code-head);
  color: var(--code-muted); font-size: .8rem; font-weight: 600;
}
.code pre {
  margin: 0; padding: 1rem; overflow-x: auto; color: var(--code-text);
  font: .85rem/1.6 var(--mono); tab-size: 2;
}
.code pre code {
  padding: 0; background: none; color: inherit; font-size: inherit; overflow-wrap: normal;
}
button { font: inherit; cursor: pointer; }
.copy {
  flex: none; padding: .25rem .7rem; border-radius: 6px; font-size: .75rem; font-weight: 600;
  color: var(--code-text); background: rgba(255, 255, 255, .07);
  border: 1px solid rgba(255, 255, 255, .22);
}
.copy:hover { background: rgba(255, 255, 255, .16); }
.base .copy {
  color: var(--text); background: var(--surface-2); border-color: var(--border-strong);
}
.table-scroll {
  margin: 1rem 0; overflow-x: auto; background: var(--surface); border: 1px solid var(--border);
  border-radius: var(--radius);
}
table { width: 100%; border-collapse: collapse; font-size: .92rem; }
caption {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap;
}
.pair { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0 1rem; }
@media (min-width: 64rem) { .pair { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
th, td {
  padding: .55rem 1rem; text-align: left; vertical-align: top; border-top: 1px solid var(--border);
}
thead th {
  color: var(--muted); background: var(--surface-2); font-size: .8rem; white-space: nowrap;
}
tbody th { font-weight: 600; white-space: nowrap; }
tbody tr:hover { background: var(--surface-2); }
td code, th code { white-space: nowrap; overflow-wrap: normal; }
@media (max-width: 40rem) {
  .stack thead {
    position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  }
  .stack, .stack tbody, .stack tr, .stack th, .stack td { display: block; }
  .stack tr { padding: .75rem 1rem; border-top: 1px solid var(--border); }
  .stack tbody tr:first-child { border-top: 0; }
  .stack tbody th, .stack td { padding: .1rem 0; border: 0; white-space: normal; }
  .stack tbody th { margin-bottom: .25rem; font-size: 1rem; }
  .stack td::before {
    content: attr(data-label); display: block; margin-top: .35rem; color: var(--muted);
    font-size: .7rem; font-weight: 700; letter-spacing: .06em; text-transform: uppercase;
  }
}
.yes { color: var(--ok); font-weight: 600; }
.no { color: var(--muted); }
.aliases { padding-left: 1.25rem; }
.key-form {
  margin: 1rem 0; padding: 1rem; background: var(--surface); border: 1px solid var(--border);
  border-radius: var(--radius);
}
.key-form label { display: block; margin-bottom: .4rem; font-weight: 600; }
.key-row { display: flex; flex-wrap: wrap; gap: .5rem; }
.key-row input {
  flex: 1 1 14rem; min-width: 0; padding: .6rem .75rem; color: var(--text); background: var(--bg);
  border: 1px solid var(--border-strong); border-radius: 8px; font: 1rem var(--mono);
}
.key-row button {
  padding: .6rem 1.25rem; color: var(--button-text); background: var(--button-bg);
  border: 0; border-radius: 8px; font-weight: 600;
}
.key-row button:disabled { opacity: .6; cursor: progress; }
.key-status:empty, .key-fields:empty { display: none; }
.key-status {
  max-width: none; padding: .6rem .9rem; border-radius: 8px; background: var(--surface-2);
  font-weight: 600;
}
.key-status.good { color: var(--ok); }
.key-status.error { color: var(--bad); }
.key-fields {
  margin: 0 0 1rem; padding: .25rem 1rem; background: var(--surface);
  border: 1px solid var(--border); border-radius: var(--radius);
}
.key-fields .key-fields { margin: 0; padding: 0; border: 0; background: none; }
.key-fields .key-fields + .key-fields {
  margin-top: .35rem; padding-top: .35rem; border-top: 1px dashed var(--border);
}
.key-fields div {
  display: flex; flex-wrap: wrap; gap: 0 1rem; padding: .4rem 0;
  border-top: 1px solid var(--border);
}
.key-fields div:first-child { border-top: 0; }
.key-fields dt { flex: 0 0 9rem; color: var(--muted); font-family: var(--sans); font-size: 1rem; }
.key-fields dd {
  flex: 1 1 8rem; min-width: 0; margin: 0; overflow-wrap: anywhere; font-family: var(--mono);
  font-size: .9rem;
}
.key-fields dd:has(> dl) {
  flex-basis: 100%; padding-left: .75rem; border-left: 2px solid var(--border);
}
@media (min-width: 40rem) {
  .key-fields dt { flex-basis: 11rem; }
  .key-fields dd:has(> dl) { flex-basis: 12rem; padding-left: 0; border-left: 0; }
}
.key-fields .key-fields dt { font-size: .9rem; }
.key-chart {
  margin: 0 0 1rem; padding: 1rem; background: var(--surface); border: 1px solid var(--border);
  border-radius: var(--radius);
}
.note { color: var(--muted); }
.site-footer {
  padding: 1.5rem 0 2rem; color: var(--muted); border-top: 1px solid var(--border);
  font-size: .9rem;
}
`;
