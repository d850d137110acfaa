/** The console's stylesheet: the docs page's palette, light and dark, from 320 px phones up. */

/** The inline CSS of the console (allowed by the page's CSP nonce). */
export const CONSOLE_STYLE = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f4f6f9; --surface: #ffffff; --surface-2: #eef1f6; --text: #171b24; --muted: #4a5365;
  --border: #d9dee7; --border-strong: #aab3c2; --accent: #3451d1; --accent-text: #2b45bd;
  --accent-soft: #e8ecfd; --button-bg: #3451d1; --button-text: #ffffff; --ok: #17703a;
  --bad: #b42318; --bad-bg: #fdecea; --warn-bg: #fff5e1; --warn-border: #e39a1e;
  --warn-text: #4f3300; --radius: 10px;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1016; --surface: #151a23; --surface-2: #1d2430; --text: #e7eaf0; --muted: #a9b2c2;
    --border: #2a3240; --border-strong: #475266; --accent: #8ea1ff; --accent-text: #a8b6ff;
    --accent-soft: #1f2846; --button-bg: #8ea1ff; --button-text: #0d1016; --ok: #63d391;
    --bad: #ff8b80; --bad-bg: #3a1714; --warn-bg: #33260c; --warn-border: #c88a1c;
    --warn-text: #ffe0a8;
  }
}
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--text); font: 16px/1.5 var(--sans); }
a { color: var(--accent-text); text-underline-offset: 2px; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
h1:focus, h2:focus, main:focus { outline: none; }
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
@media (min-width: 64rem) { .wrap { padding: 0 2rem; } }
.site-header { background: var(--surface); border-bottom: 1px solid var(--border); }
.header-row {
  display: flex; flex-wrap: wrap; align-items: center; gap: .5rem .75rem; min-height: 3.5rem;
  padding-top: .5rem; padding-bottom: .5rem;
}
.brand {
  display: inline-flex; align-items: center; gap: .6rem; color: var(--text);
  font-weight: 700; font-size: 1.1rem; text-decoration: none;
}
.logo rect { fill: #3451d1; }
.logo path {
  fill: none; stroke: #fff; stroke-width: 3; stroke-linecap: round; stroke-linejoin: round;
}
.version {
  font: 600 .75rem/1 var(--mono); color: var(--muted); border: 1px solid var(--border);
  border-radius: 99px; padding: .3rem .55rem;
}
.nav-row { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin-left: auto; }
.tabs { display: flex; flex-wrap: wrap; gap: .15rem; }
.tabs a {
  padding: .35rem .55rem; border-radius: 99px; color: var(--text); text-decoration: none;
  font-weight: 600; font-size: .9rem;
}
.nav-row .button { padding: .3rem .7rem; font-size: .9rem; }
@media (min-width: 40rem) {
  .tabs a { padding: .35rem .8rem; font-size: .95rem; }
  .nav-row .button { padding: .35rem .8rem; font-size: .95rem; }
}
.tabs a:hover { background: var(--surface-2); }
.tabs a[aria-current="page"] { background: var(--accent-soft); color: var(--accent-text); }
main { padding-top: 1.25rem; padding-bottom: 3rem; }
h1 { margin: 0 0 1rem; font-size: 1.8rem; line-height: 1.2; overflow-wrap: anywhere; }
h2 { margin: 0 0 .75rem; font-size: 1.2rem; }
h3 { margin: 1.25rem 0 .5rem; font-size: 1rem; }
p { margin: 0 0 .75rem; }
code { font-family: var(--mono); font-size: .875em; overflow-wrap: anywhere; }
.fine { color: var(--muted); font-size: .875rem; }
.block { display: block; }
.panel {
  min-width: 0; margin: 0 0 1.25rem; padding: 1rem; background: var(--surface);
  border: 1px solid var(--border); border-radius: var(--radius);
}
@media (min-width: 48rem) { .panel { padding: 1.25rem 1.5rem; } }
.columns { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0 1.25rem; }
@media (min-width: 64rem) { .columns { grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); } }
.narrow { max-width: 34rem; }
.stats {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(10.5rem, 1fr)); gap: .75rem;
  margin: 0 0 1.25rem;
}
.stat {
  min-width: 0; padding: .75rem 1rem; background: var(--surface); border: 1px solid var(--border);
  border-radius: var(--radius);
}
.stat dt { color: var(--muted); font-size: .8rem; font-weight: 700; letter-spacing: .04em; }
.stat dd { margin: .2rem 0 0; }
.stat-value { display: block; font-size: 1.5rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.stat-note { display: block; color: var(--muted); font-size: .8rem; }
label { font-weight: 600; }
.field { display: flex; flex-direction: column; gap: .3rem; min-width: 0; }
.field .fine { margin: 0; font-weight: 400; }
input, select {
  min-width: 0; padding: .55rem .7rem; color: var(--text); background: var(--bg);
  border: 1px solid var(--border-strong); border-radius: 8px; font: 1rem var(--sans);
}
input[type="password"] { font-family: var(--mono); }
input[type="checkbox"], input[type="radio"] {
  width: 1.1rem; height: 1.1rem; margin: 0; accent-color: var(--accent);
}
.form-grid {
  display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .75rem 1rem;
  align-items: start;
}
.actions { display: flex; flex-wrap: wrap; gap: .5rem; }
.form-grid .actions { grid-column: 1 / -1; }
.row { display: flex; flex-wrap: wrap; gap: .5rem; }
.row input { flex: 1 1 14rem; }
button { font: inherit; cursor: pointer; }
.button {
  padding: .55rem 1.1rem; color: var(--button-text); background: var(--button-bg);
  border: 1px solid var(--button-bg); border-radius: 8px; font-weight: 600; white-space: nowrap;
}
.button:disabled { opacity: .6; cursor: progress; }
.button.quiet { color: var(--text); background: var(--surface-2); border-color: var(--border-strong); }
.button.danger { color: var(--bad); background: var(--surface); border-color: var(--bad); }
td .button { padding: .3rem .7rem; font-size: .85rem; }
.status { margin: .75rem 0 0; font-weight: 600; }
.status:empty { display: none; }
.status.error { color: var(--bad); }
.status.good { color: var(--ok); }
.badge {
  display: inline-block; padding: .05rem .5rem; border-radius: 99px; font-size: .8rem;
  font-weight: 700; background: var(--surface-2); border: 1px solid var(--border);
}
.badge.good { color: var(--ok); }
.badge.bad { color: var(--bad); }
.badge.warn { color: var(--warn-text); background: var(--warn-bg); border-color: var(--warn-border); }
.badge.accent { color: var(--accent-text); background: var(--accent-soft); }
.usage { display: flex; flex-direction: column; gap: .25rem; min-width: 9rem; }
.bar {
  display: block; height: .5rem; overflow: hidden; background: var(--surface-2);
  border: 1px solid var(--border); border-radius: 99px;
}
.bar-fill { display: block; height: 100%; background: var(--accent); }
.bar-fill.bar-high { background: var(--bad); }
.table-scroll { overflow-x: auto; border: 1px solid var(--border); border-radius: var(--radius); }
table { width: 100%; border-collapse: collapse; font-size: .9rem; }
caption {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap;
}
th, td {
  padding: .5rem .75rem; text-align: left; vertical-align: top; border-top: 1px solid var(--border);
}
thead th {
  color: var(--muted); background: var(--surface-2); font-size: .8rem; white-space: nowrap;
  border-top: 0;
}
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody th { font-weight: 600; }
td code { overflow-wrap: normal; }
td.wrap code { overflow-wrap: anywhere; }
tbody tr:hover { background: var(--surface-2); }
@media (max-width: 40rem) {
  .stack thead {
    position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  }
  .stack, .stack tbody, .stack th, .stack td { display: block; }
  .stack tr {
    display: grid; grid-template-columns: repeat(auto-fill, minmax(8rem, 1fr)); gap: 0 1rem;
    padding: .6rem .75rem; border-top: 1px solid var(--border);
  }
  .stack tbody tr:first-child { border-top: 0; }
  .stack tbody th { grid-column: 1 / -1; }
  .stack tbody th, .stack td { min-width: 0; padding: .1rem 0; border: 0; text-align: left; }
  .stack td.num { white-space: normal; }
  .stack td code { overflow-wrap: anywhere; }
  .stack td::before {
    content: attr(data-label); display: block; margin-top: .3rem; color: var(--muted);
    font-size: .7rem; font-weight: 700; letter-spacing: .06em; text-transform: uppercase;
  }
  .table-scroll:has(.stack) { overflow-x: visible; }
}
.toggle {
  display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem; margin: 0 0 .75rem;
  padding: 0; border: 0;
}
.toggle legend { float: left; margin-right: .25rem; color: var(--muted); font-weight: 600; }
.toggle label { display: inline-flex; align-items: center; gap: .35rem; font-weight: 400; }
.filters {
  display: flex; flex-wrap: wrap; align-items: end; gap: .75rem 1rem; margin: 0 0 .75rem;
}
.filters .field { flex: 1 1 10rem; }
.check { display: inline-flex; align-items: center; gap: .4rem; padding-bottom: .6rem; font-weight: 400; }
.once {
  margin-top: 1rem; padding: 1rem; color: var(--warn-text); background: var(--warn-bg);
  border: 1px solid var(--warn-border); border-left-width: 6px; border-radius: var(--radius);
}
.once .fine { color: inherit; }
.once-title { display: flex; flex-direction: column; gap: .2rem; }
.once-row { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin: 0 0 .5rem; }
.once-key {
  flex: 1 1 16rem; min-width: 0; padding: .5rem .7rem; color: var(--text);
  background: var(--surface); border: 1px solid var(--warn-border); border-radius: 8px;
  font-size: .9rem; overflow-wrap: anywhere; user-select: all;
}
.user-summary { display: flex; flex-wrap: wrap; align-items: center; gap: .35rem; }
dialog {
  width: min(28rem, calc(100vw - 2rem)); padding: 1.25rem; color: var(--text);
  background: var(--surface); border: 1px solid var(--border-strong); border-radius: var(--radius);
}
dialog::backdrop { background: rgba(0, 0, 0, .45); }
dialog h2 { overflow-wrap: anywhere; }
.site-footer {
  padding: 1.25rem 0 2rem; color: var(--muted); border-top: 1px solid var(--border);
  font-size: .875rem;
}
`;
