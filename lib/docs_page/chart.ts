/**
 * Stacked bar charts drawn as SVG by the page's own script (the docs page and the console): numbers
 * on hover and on focus (arrow keys move between days), a legend, and a table view.
 */

/**
 * The chart script: defines `ZtoChart`; a page puts it before its own script, in the same
 * `<script>` element. It builds DOM nodes only, never HTML from strings, and sets no style
 * attribute (the CSP forbids them); colours come from the classes of chart_style.ts.
 */
export const CHART_SCRIPT = String.raw`
const ZtoChart = (() => {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const COLOURS = 8;
  const DAY_MS = 86400000;
  const drawn = new WeakMap();

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    return node;
  }

  function node(tag, className, text) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function number(value) {
    return value.toLocaleString("en-US", { maximumFractionDigits: 1 });
  }

  function compact(value) {
    return new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 })
      .format(value);
  }

  function niceMax(max) {
    if (!(max > 0)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(max)));
    for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= max) return step * power;
    return 10 * power;
  }

  /** The last n UTC days up to the day "today" (YYYY-MM-DD), oldest first. */
  function lastDays(today, n) {
    const end = Date.parse(today + "T00:00:00Z");
    return Array.from({ length: n }, (_, i) =>
      new Date(end - (n - 1 - i) * DAY_MS).toISOString().slice(0, 10));
  }

  /**
   * Series for stackedBars from usage rows ({date, [by], [value]}): one per name, the largest
   * first; beyond "max" series the rest are summed as "other".
   */
  function seriesFromRows(rows, options) {
    const index = new Map(options.dates.map((date, i) => [date, i]));
    const byName = new Map();
    for (const row of rows) {
      const i = index.get(row.date);
      if (i === undefined) continue;
      const name = String(row[options.by]);
      const values = byName.get(name) || new Array(options.dates.length).fill(0);
      values[i] += Number(row[options.value]) || 0;
      byName.set(name, values);
    }
    const total = (values) => values.reduce((a, b) => a + b, 0);
    const series = [...byName].map(([name, values]) => ({ name, values }))
      .filter((s) => total(s.values) > 0)
      .sort((a, b) => total(b.values) - total(a.values) || (a.name < b.name ? -1 : 1));
    const max = options.max || COLOURS - 1;
    if (series.length <= max + 1) return series;
    const kept = series.slice(0, max);
    const other = { name: "other", values: new Array(options.dates.length).fill(0), other: true };
    for (const s of series.slice(max)) s.values.forEach((v, i) => { other.values[i] += v; });
    return [...kept, other];
  }

  function colourClass(s, i) {
    return s.other ? "chart-other" : "chart-c" + ((i % COLOURS) + 1);
  }

  function legend(spec) {
    const list = node("ul", "chart-legend");
    spec.series.forEach((s, i) => {
      const item = node("li");
      const swatch = node("span", "chart-swatch " + colourClass(s, i));
      swatch.setAttribute("aria-hidden", "true");
      item.append(swatch, document.createTextNode(s.name));
      list.append(item);
    });
    return list;
  }

  function dayTotal(spec, i) {
    return spec.series.reduce((sum, s) => sum + s.values[i], 0);
  }

  function describeDay(spec, i) {
    const parts = spec.series.filter((s) => s.values[i] > 0)
      .map((s) => s.name + " " + number(s.values[i]));
    return spec.dates[i] + ": " + number(dayTotal(spec, i)) + " " + spec.unit +
      (parts.length ? " (" + parts.join(", ") + ")" : "");
  }

  function tableView(spec) {
    const details = node("details", "chart-table");
    details.append(node("summary", "", "Table view"));
    const scroll = node("div", "table-scroll");
    scroll.setAttribute("role", "region");
    scroll.setAttribute("tabindex", "0");
    scroll.setAttribute("aria-label", spec.title + " (table)");
    const table = node("table");
    table.append(node("caption", "", spec.title));
    const head = node("tr");
    ["Date", ...spec.series.map((s) => s.name), "Total"].forEach((label, i) => {
      const th = node("th", i === 0 ? "" : "num", label);
      th.scope = "col";
      head.append(th);
    });
    const thead = node("thead");
    thead.append(head);
    const tbody = node("tbody");
    spec.dates.forEach((date, i) => {
      const row = node("tr");
      const th = node("th", "", date);
      th.scope = "row";
      row.append(th);
      for (const s of spec.series) row.append(node("td", "num", number(s.values[i])));
      row.append(node("td", "num", number(dayTotal(spec, i))));
      tbody.append(row);
    });
    table.append(thead, tbody);
    scroll.append(table);
    details.append(scroll);
    return details;
  }

  function showTip(host, spec, i, x) {
    const tip = host.querySelector(".chart-tip");
    tip.replaceChildren();
    tip.append(node("strong", "", spec.dates[i]));
    tip.append(node("span", "chart-tip-total", number(dayTotal(spec, i)) + " " + spec.unit));
    spec.series.forEach((s, k) => {
      if (!(s.values[i] > 0)) return;
      const line = node("span", "chart-tip-line");
      const swatch = node("span", "chart-swatch " + colourClass(s, k));
      line.append(swatch, document.createTextNode(s.name + " " + number(s.values[i])));
      tip.append(line);
    });
    tip.hidden = false;
    const width = tip.offsetWidth;
    const left = Math.max(0, Math.min(x - width / 2, host.clientWidth - width));
    tip.style.left = left + "px";
  }

  function hideTip(host) {
    const tip = host.querySelector(".chart-tip");
    if (tip) tip.hidden = true;
  }

  function plot(host, spec) {
    const width = Math.max(260, host.clientWidth);
    const height = width < 560 ? 200 : 240;
    const margin = { top: 12, right: 8, bottom: 26, left: 46 };
    const plotWidth = width - margin.left - margin.right;
    const plotHeight = height - margin.top - margin.bottom;
    const n = spec.dates.length;
    const max = niceMax(Math.max(...spec.dates.map((_, i) => dayTotal(spec, i))));
    const y = (value) => margin.top + plotHeight - (value / max) * plotHeight;
    const band = plotWidth / n;
    const barWidth = Math.max(2, Math.min(28, band * 0.72));
    const root = svg("svg", {
      class: "chart-svg",
      width,
      height,
      viewBox: "0 0 " + width + " " + height,
      role: "group",
      "aria-label": spec.title + ". Arrow keys move between days.",
    });
    for (let t = 0; t <= 4; t++) {
      const value = (max * t) / 4;
      root.append(svg("line", {
        class: "chart-grid",
        x1: margin.left,
        x2: width - margin.right,
        y1: y(value),
        y2: y(value),
      }));
      const label = svg("text", {
        class: "chart-axis",
        x: margin.left - 6,
        y: y(value) + 4,
        "text-anchor": "end",
        "aria-hidden": "true",
      });
      label.textContent = compact(value);
      root.append(label);
    }
    const step = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(plotWidth / 64))));
    const days = [];
    spec.dates.forEach((date, i) => {
      const x = margin.left + band * i + (band - barWidth) / 2;
      const day = svg("g", {
        class: "chart-day",
        role: "img",
        tabindex: i === n - 1 ? 0 : -1,
        "aria-label": describeDay(spec, i),
      });
      day.append(svg("rect", {
        class: "chart-hit",
        x: margin.left + band * i,
        y: margin.top,
        width: band,
        height: plotHeight,
      }));
      let base = 0;
      spec.series.forEach((s, k) => {
        const value = s.values[i];
        if (!(value > 0)) return;
        const top = y(base + value);
        day.append(svg("rect", {
          class: "chart-bar " + colourClass(s, k),
          x,
          y: top,
          width: barWidth,
          height: Math.max(1, y(base) - top),
        }));
        base += value;
      });
      const centre = margin.left + band * i + band / 2;
      day.addEventListener("pointerenter", () => showTip(host, spec, i, centre));
      day.addEventListener("pointerleave", () => {
        if (document.activeElement !== day) hideTip(host);
      });
      day.addEventListener("focus", () => showTip(host, spec, i, centre));
      day.addEventListener("blur", () => hideTip(host));
      day.addEventListener("keydown", (event) => {
        const to = { ArrowLeft: i - 1, ArrowRight: i + 1, Home: 0, End: n - 1 }[event.key];
        if (to === undefined || to < 0 || to >= n) return;
        event.preventDefault();
        day.setAttribute("tabindex", "-1");
        days[to].setAttribute("tabindex", "0");
        days[to].focus();
      });
      days.push(day);
      root.append(day);
      if ((n - 1 - i) % step === 0) {
        const last = i === n - 1;
        const label = svg("text", {
          class: "chart-axis",
          x: last ? margin.left + band * n : centre,
          y: height - 8,
          "text-anchor": last ? "end" : "middle",
          "aria-hidden": "true",
        });
        label.textContent = date.slice(5);
        root.append(label);
      }
    });
    return root;
  }

  function render(host) {
    const spec = drawn.get(host);
    const tip = node("div", "chart-tip");
    tip.hidden = true;
    tip.setAttribute("aria-hidden", "true");
    const empty = spec.series.length === 0;
    const area = node("div", "chart-area");
    area.append(empty ? node("p", "chart-empty", spec.empty || "Nothing yet.") : plot(host, spec));
    host.replaceChildren(node("p", "chart-title", spec.title), area, tip);
    if (!empty) host.append(legend(spec), tableView(spec));
    host.dataset.width = String(host.clientWidth);
  }

  const resized = typeof ResizeObserver === "function"
    ? new ResizeObserver((entries) => {
      for (const entry of entries) {
        const host = entry.target;
        if (drawn.has(host) && host.dataset.width !== String(host.clientWidth)) render(host);
      }
    })
    : null;

  /**
   * Draws a stacked bar chart into host: spec = {title, unit, dates, series: [{name, values}],
   * empty (the text shown when there is nothing to draw)}.
   */
  function stackedBars(host, spec) {
    host.classList.add("chart");
    drawn.set(host, spec);
    render(host);
    if (resized) resized.observe(host);
  }

  return { stackedBars, seriesFromRows, lastDays };
})();
`;
