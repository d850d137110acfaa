/**
 * The console's Overview: today's figures (KV usage of every instance, this instance's error rate),
 * the 30-day chart stacked by model or user, the top users against their budgets, and the upstream
 * pool when the gateway serves `GET /admin/upstream`.
 */

/** The Overview view (runs inside the console script; see console_page.ts). */
export const CONSOLE_OVERVIEW_SCRIPT = String.raw`
let stackBy = "model";

function sumToday(rows, today) {
  const totals = { requests: 0, prompt_tokens: 0, completion_tokens: 0, weighted_tokens: 0 };
  for (const row of rows) {
    if (row.date !== today) continue;
    for (const field of Object.keys(totals)) totals[field] += Number(row[field]) || 0;
  }
  return totals;
}

function stat(name, label, value, note) {
  return el("div", { class: "stat" },
    el("dt", { text: label }),
    el("dd", { "data-stat": name }, el("span", { class: "stat-value", text: value }),
      note ? el("span", { class: "stat-note", text: note }) : null));
}

async function loadOverview(section) {
  const body = section.querySelector(".view-body");
  if (!body.firstChild) message(body, "Loading…");
  const [users, requests, usage] = await Promise.all([
    api("/admin/users"),
    api("/admin/requests?limit=1"),
    api("/admin/usage?days=30&group_by=" + stackBy),
  ]);
  const today = sumToday(usage.data, users.date);
  const counts = requests.today;
  const errors = counts.client_errors + counts.server_errors;
  const active = users.data.filter((u) => u.usage_today.requests > 0).length;
  const stats = el("dl", { class: "stats" },
    stat("requests", "Requests today", number(today.requests), "answered by Z.ai, every instance"),
    stat("prompt_tokens", "Prompt tokens", number(today.prompt_tokens)),
    stat("completion_tokens", "Completion tokens", number(today.completion_tokens)),
    stat("weighted_tokens", "Weighted tokens", number(today.weighted_tokens), "what budgets count"),
    stat("error_rate", "Error rate today", percent(errors, counts.requests),
      number(errors) + " of " + number(counts.requests) + " since " + counts.since.slice(11, 16) +
        " UTC, this instance"),
    stat("active_users", "Users active today", number(active), "of " + number(users.data.length)));

  const chart = el("div", { id: "overview-chart" });
  const toggle = el("fieldset", { class: "toggle" }, el("legend", { text: "Stack by" }),
    ["model", "user"].map((by) => el("label", {},
      el("input", { type: "radio", name: "stack-by", value: by, checked: by === stackBy }),
      " " + by)));
  toggle.addEventListener("change", async (event) => {
    stackBy = event.target.value;
    try {
      const regrouped = await api("/admin/usage?days=30&group_by=" + stackBy);
      usageChart(chart, regrouped, stackBy, "Weighted tokens per day, by " + stackBy);
      announce("The chart now stacks by " + stackBy + ".");
    } catch (error) {
      message(chart, error.message, "error");
    }
  });
  const trend = panel("Last 30 days", toggle, chart);

  const top = users.data.filter((u) => u.usage_today.weighted_tokens > 0)
    .sort((a, b) => b.usage_today.weighted_tokens - a.usage_today.weighted_tokens).slice(0, 10);
  const topUsers = panel("Top users today", top.length === 0
    ? el("p", { class: "fine", text: "Nobody has used the gateway today yet." })
    : dataTable({
      caption: "Top users today by weighted tokens",
      stack: true,
      rows: top,
      columns: [
        { label: "User", cell: (u) => userLink(u.user) },
        { label: "Requests", num: true, cell: (u) => number(u.usage_today.requests) },
        { label: "Weighted tokens and share of budget",
          cell: (u) => usageBar(u.usage_today.weighted_tokens, u.limits.daily_token_budget) },
      ],
    }));

  const upstream = el("div");
  body.replaceChildren(stats, trend, topUsers, upstream);
  usageChart(chart, usage, stackBy, "Weighted tokens per day, by " + stackBy);
  if (document.body.dataset.upstream === "true") loadUpstream(upstream);
}

/** GET /admin/upstream, shown only when it answers: each upstream's queue and its keys by last 4. */

async function loadUpstream(container) {
  let state;
  try {
    state = await api("/admin/upstream");
  } catch {
    return;
  }
  const upstreams = Array.isArray(state?.data) ? state.data : [];
  const codes = (hour) => Object.entries(hour.codes || {}).map(([code, n]) => code + " ×" + n).join(", ");
  const tables = upstreams.map((upstream) => {
    const title = (upstream.service ? upstream.service + ": " : "") + upstream.url;
    const keys = upstream.keys || [];
    return el("div", { class: "upstream" },
      el("p", { class: "fine", text: title + " · " + number(upstream.queued || 0) + " queued" }),
      keys.length
        ? dataTable({
          caption: "Keys of " + title,
          stack: true,
          rows: keys,
          columns: [
            { label: "Key", cell: (k) => el("code", { text: "…" + k.last4 }) },
            { label: "State", cell: (k) => badge(k.state, k.state === "healthy" ? "" : "warn") },
            { label: "Until", cell: (k) => k.until ? k.until.replace("T", " ").slice(0, 16) + " UTC" : "—" },
            { label: "In flight", num: true, cell: (k) => number(k.in_flight) },
            { label: "Limit", cell: (k) => k.limit === null ? "unlimited" : number(k.limit) + " (" + k.limit_source + ")" },
            { label: "Last hour", wrap: true,
              cell: (k) => number(k.last_hour.successes) + " ok" + (codes(k.last_hour) ? ", " + codes(k.last_hour) : "") },
          ],
        })
        : el("p", { class: "fine", text: "No Z.ai key is configured for it." }));
  });
  container.replaceChildren(panel("Upstream pool", ...tables));
  container.firstChild.id = "upstream-pool";
}
`;
