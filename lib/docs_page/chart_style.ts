/** The charts' stylesheet, shared by the docs page and the console (see chart.ts). */

/** The charts' styles: series colours for light and dark, axes, tooltip, legend, table view. */
export const CHART_STYLE = String.raw`
:root {
  --chart-1: #3451d1; --chart-2: #d9730d; --chart-3: #0f8f7e; --chart-4: #c0306b;
  --chart-5: #7a52cc; --chart-6: #5a8a00; --chart-7: #b5850b; --chart-8: #1a7fb5;
  --chart-other: #8a93a3;
}
@media (prefers-color-scheme: dark) {
  :root {
    --chart-1: #8ea1ff; --chart-2: #ffa657; --chart-3: #4fd1b8; --chart-4: #ff7eb0;
    --chart-5: #b89cff; --chart-6: #9fd356; --chart-7: #f2c14e; --chart-8: #6cc4f5;
    --chart-other: #7d8696;
  }
}
.chart { position: relative; min-width: 0; }
.chart-title { margin: 0 0 .5rem; font-weight: 600; }
.chart-area { overflow: hidden; }
.chart-svg { display: block; max-width: 100%; height: auto; overflow: visible; }
.chart-grid { stroke: var(--border); stroke-width: 1; }
.chart-axis { fill: var(--muted); font: 11px var(--sans); }
.chart-hit { fill: transparent; }
.chart-day { outline: none; cursor: default; }
.chart-day:hover .chart-hit, .chart-day:focus .chart-hit { fill: var(--surface-2); }
.chart-day:focus-visible .chart-hit { stroke: var(--accent); stroke-width: 2; }
.chart-c1 { fill: var(--chart-1); background: var(--chart-1); }
.chart-c2 { fill: var(--chart-2); background: var(--chart-2); }
.chart-c3 { fill: var(--chart-3); background: var(--chart-3); }
.chart-c4 { fill: var(--chart-4); background: var(--chart-4); }
.chart-c5 { fill: var(--chart-5); background: var(--chart-5); }
.chart-c6 { fill: var(--chart-6); background: var(--chart-6); }
.chart-c7 { fill: var(--chart-7); background: var(--chart-7); }
.chart-c8 { fill: var(--chart-8); background: var(--chart-8); }
.chart-other { fill: var(--chart-other); background: var(--chart-other); }
.chart-tip {
  position: absolute; top: 1.75rem; z-index: 2; display: flex; flex-direction: column;
  gap: .1rem; width: max-content; max-width: min(16rem, 100%); padding: .45rem .6rem; color: var(--text);
  background: var(--surface); border: 1px solid var(--border-strong); border-radius: 8px;
  box-shadow: 0 4px 16px rgba(0, 0, 0, .18); font-size: .8rem; pointer-events: none;
}
.chart-tip-total { font-weight: 600; }
.chart-tip-line { display: flex; align-items: center; gap: .4rem; overflow-wrap: anywhere; }
.chart-swatch { flex: none; display: inline-block; width: .7rem; height: .7rem; border-radius: 2px; }
.chart-legend {
  display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: .5rem 0 0; padding: 0;
  list-style: none; font-size: .85rem;
}
.chart-legend li { display: inline-flex; align-items: center; gap: .4rem; overflow-wrap: anywhere; }
.chart-empty { margin: 0; padding: 1.5rem 0; color: var(--muted); }
.chart-table { margin-top: .5rem; font-size: .9rem; }
.chart-table summary { cursor: pointer; color: var(--accent-text); }
.chart-table .table-scroll { max-height: 20rem; overflow: auto; }
.chart-table th.num, .chart-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
`;
