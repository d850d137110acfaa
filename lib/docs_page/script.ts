/** The docs page's small script: copy buttons and the key check (progressive enhancements). */

/** The page's inline script (allowed by the CSP nonce); it writes DOM text only, never HTML. */
export const PAGE_SCRIPT = String.raw`
(() => {
  "use strict";
  const live = document.createElement("p");
  live.className = "sr-only";
  live.setAttribute("aria-live", "polite");
  document.body.append(live);

  function selectText(node) {
    const range = document.createRange();
    range.selectNodeContents(node);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch {
        // Fall back to a selection below.
      }
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "sr-only";
    document.body.append(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    area.remove();
    return copied;
  }

  function addCopyButton(parent, source, label) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy " + label);
    let timer = 0;
    button.addEventListener("click", async () => {
      const copied = await copyText(source.textContent);
      if (!copied) selectText(source);
      button.textContent = copied ? "Copied" : "Selected";
      live.textContent = copied ? label + " copied" : label + " selected: press Ctrl+C to copy";
      clearTimeout(timer);
      timer = setTimeout(() => { button.textContent = "Copy"; }, 2000);
    });
    parent.append(button);
  }

  for (const figure of document.querySelectorAll("figure.code")) {
    const head = figure.querySelector(".code-head");
    const pre = figure.querySelector("pre");
    if (head && pre) addCopyButton(head, pre, head.textContent.trim());
  }
  for (const code of document.querySelectorAll("code.copyable")) {
    const term = code.closest(".base")?.querySelector("dt");
    addCopyButton(code.parentElement, code, term ? term.textContent : "URL");
  }

  const form = document.getElementById("key-form");
  const input = document.getElementById("key-input");
  const status = document.getElementById("key-status");
  const fields = document.getElementById("key-fields");
  const chart = document.getElementById("key-chart");
  if (!form || !input || !status || !fields || !chart) return;

  function showStatus(text, kind) {
    status.textContent = text;
    status.className = "key-status" + (kind ? " " + kind : "");
  }

  function relative(date) {
    const hours = (date.getTime() - Date.now()) / 3600000;
    const format = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
    return Math.abs(hours) < 48
      ? format.format(Math.round(hours), "hour")
      : format.format(Math.round(hours / 24), "day");
  }

  function describe(name, value) {
    if (value === null || value === undefined || value === "") return "—";
    if (Array.isArray(value)) {
      if (value.length === 0) return "—";
      return value.map((item) => typeof item === "object" ? JSON.stringify(item) : String(item))
        .join(", ");
    }
    if (typeof value === "boolean") return value ? "yes" : "no";
    if (typeof value === "number" && /_at$/.test(name) && value > 1e9) {
      const date = new Date(value > 1e12 ? value : value * 1000);
      return date.toISOString() + " (" + relative(date) + ")";
    }
    if (typeof value === "number") return value.toLocaleString("en-US");
    const text = String(value);
    if (/^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text))) {
      return text + " (" + relative(new Date(text)) + ")";
    }
    return text;
  }

  function renderFields(list, object) {
    for (const [name, value] of Object.entries(object)) {
      const row = document.createElement("div");
      const term = document.createElement("dt");
      term.textContent = name.replace(/_/g, " ");
      const detail = document.createElement("dd");
      const isObject = (item) => item !== null && typeof item === "object" && !Array.isArray(item);
      const objects = isObject(value) ? [value]
        : Array.isArray(value) && value.length > 0 && value.every(isObject) ? value : null;
      if (objects) {
        for (const item of objects) {
          const nested = document.createElement("dl");
          nested.className = "key-fields";
          renderFields(nested, item);
          detail.append(nested);
        }
      } else {
        detail.textContent = describe(name, value);
      }
      row.append(term, detail);
      list.append(row);
    }
  }

  function errorMessage(body, response) {
    const error = body && body.error;
    const message = typeof error === "string" ? error
      : error && typeof error.message === "string" ? error.message
      : body && typeof body.message === "string" ? body.message : "";
    const text = message || response.statusText || "The request failed";
    return text + " (HTTP " + response.status + ")";
  }

  /** The user's last days (GET /v1/key?days=N's "daily"), stacked by model. */
  function drawDays(daily) {
    const dates = daily.map((day) => day.date);
    const rows = daily.flatMap((day) =>
      (day.models || []).map((m) => ({ date: day.date, model: m.model, weighted: m.weighted_tokens })));
    chart.hidden = false;
    ZtoChart.stackedBars(chart, {
      title: "Weighted tokens per day of this key's user, last " + dates.length + " days",
      unit: "weighted tokens",
      dates,
      series: ZtoChart.seriesFromRows(rows, { dates, by: "model", value: "weighted" }),
      empty: "No usage in the last " + dates.length + " days.",
    });
  }

  form.hidden = false;
  const noScript = document.getElementById("key-no-script");
  if (noScript) noScript.hidden = true;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fields.replaceChildren();
    chart.replaceChildren();
    chart.hidden = true;
    const key = input.value.trim();
    if (!key) {
      showStatus("Paste a key first.", "error");
      return;
    }
    const button = form.querySelector("button");
    button.disabled = true;
    showStatus("Checking…", "");
    try {
      const response = await fetch((form.dataset.keyUrl || "/v1/key") + "?days=30", {
        headers: { "Authorization": "Bearer " + key },
        cache: "no-store",
        credentials: "omit",
      });
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        showStatus(errorMessage(body, response), "error");
        return;
      }
      showStatus("This key works.", "good");
      if (body && typeof body === "object") {
        const { daily, ...details } = body;
        renderFields(fields, details);
        if (Array.isArray(daily)) drawDays(daily);
      }
    } catch (error) {
      const reason = error && error.message ? error.message : String(error);
      showStatus("Cannot reach the server: " + reason, "error");
    } finally {
      button.disabled = false;
    }
  });
})();
`;
