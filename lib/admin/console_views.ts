/**
 * The console's script, second half: the Overview, Users, one user and Requests views, built from
 * the admin API's JSON with the shell's helpers (console_script.ts) and ZtoChart (docs_page/chart.ts).
 */

/** The views of the console script; it writes DOM nodes and text only, never HTML from strings. */
export const CONSOLE_VIEWS_SCRIPT = String.raw`
const REFRESH_MS = 5000;
let stackBy = "model";

function panel(title, ...children) {
  return el("section", { class: "panel" }, el("h2", { text: title }), ...children);
}

function userLink(name) {
  return el("a", { href: "#users/" + encodeURIComponent(name), text: name });
}

function badge(text, kind) {
  return el("span", { class: "badge " + (kind || ""), text });
}

/** A limit in force, marked when it is the user's own (an override). */
function limitCell(text, override) {
  return el("span", {}, text, override ? " " : null, override ? badge("override", "accent") : null);
}

function budgetText(budget) {
  return budget > 0 ? number(budget) : "no budget";
}

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

function usageChart(host, usage, by, title) {
  const dates = ZtoChart.lastDays(usage.date, usage.days);
  ZtoChart.stackedBars(host, {
    title,
    unit: "weighted tokens",
    dates,
    series: ZtoChart.seriesFromRows(usage.data, { dates, by, value: "weighted_tokens" }),
    empty: "No usage in the last " + usage.days + " days.",
  });
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

/** GET /admin/upstream, shown only when it answers. */
async function loadUpstream(container) {
  let state;
  try {
    state = await api("/admin/upstream");
  } catch {
    return;
  }
  const list = Object.values(state || {}).find((v) => Array.isArray(v) && v.every((x) => x && typeof x === "object"));
  const show = (value) => value === null || value === undefined ? "—"
    : Array.isArray(value) ? value.map(show).join(", ")
    : typeof value === "object" ? Object.entries(value).map(([k, v]) => k + ": " + show(v)).join(", ")
    : typeof value === "number" ? number(value) : String(value);
  const columns = [...new Set((list || []).flatMap((row) => Object.keys(row)))]
    .map((name) => ({ label: name.replace(/_/g, " "), cell: (row) => show(row[name]) }));
  const facts = Object.entries(state || {}).filter(([name, v]) => v !== list && name !== "object");
  container.replaceChildren(panel("Upstream pool",
    facts.length ? el("p", { class: "fine", text: facts.map(([k, v]) => k.replace(/_/g, " ") + ": " + show(v)).join(" · ") }) : null,
    list && list.length ? dataTable({ caption: "Upstream keys", stack: true, rows: list, columns })
      : el("p", { class: "fine", text: "No upstream key is configured." })));
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Fall back to selecting the text.
    }
  }
  return false;
}

/** The new key, shown once: copy button and a warning; "Done" removes it from the page. */
function keyShownOnce(created, owner) {
  const code = el("code", { class: "once-key", id: "new-key", text: created.key });
  const copy = el("button", { type: "button", class: "button", text: "Copy key" });
  copy.addEventListener("click", async () => {
    const copied = await copyText(created.key);
    if (!copied) {
      const range = document.createRange();
      range.selectNodeContents(code);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    }
    copy.textContent = copied ? "Copied" : "Selected: press Ctrl+C";
    announce(copied ? "Key copied." : "Key selected: press Ctrl+C to copy it.");
  });
  const box = el("div", { class: "once", role: "group", "aria-labelledby": "once-title" },
    el("p", { id: "once-title", class: "once-title" },
      el("strong", { text: "New key for " + created.user + (created.name ? " (" + created.name + ")" : "") }),
      el("span", { text: "Copy it now: you will not see this again. ZtoApi keeps only its hash." })),
    el("div", { class: "once-row" }, code, copy),
    el("p", { class: "fine", text: "Expires " + when(created.expires_at) + " UTC." }),
    el("button", { type: "button", class: "button quiet", text: "Done: hide the key",
      onclick: () => {
        box.remove();
        onceBox = null;
        announce("The key is hidden.");
      } }));
  box.dataset.owner = owner;
  return box;
}

/** A form that creates a key (for "user", or for the user typed in); calls done() after. */
function keyForm(user, done) {
  const id = user ? "user-key" : "new-key";
  const result = el("div", { class: "once-slot" });
  if (onceBox && onceBox.dataset.owner === (user || "")) result.append(onceBox);
  const status = el("p", { class: "status", "aria-live": "polite" });
  const field = (name, label, input, hint) => el("div", { class: "field" },
    el("label", { for: id + "-" + name, text: label }), input,
    hint ? el("p", { class: "fine", id: id + "-" + name + "-hint", text: hint }) : null);
  const userInput = user ? null : el("input", { id: id + "-user", required: true, maxlength: 64,
    pattern: "[A-Za-z0-9._@+\\-]{1,64}", autocomplete: "off", spellcheck: "false" });
  const nameInput = el("input", { id: id + "-name", maxlength: 100, autocomplete: "off",
    placeholder: "e.g. laptop" });
  const daysInput = el("input", { id: id + "-days", type: "number", min: 1, max: 36500, step: 1,
    inputmode: "numeric", "aria-describedby": id + "-days-hint" });
  const form = el("form", { class: "form-grid", "aria-label": user ? "Create a key for " + user : "Create a key" },
    userInput ? field("user", "User (created with its first key)", userInput) : null,
    field("name", "Key name (optional)", nameInput),
    field("days", "Lifetime in days (optional)", daysInput, "Empty: the server's KEY_LIFETIME_DAYS."),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "button", text: "Create key" })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.replaceChildren();
    const body = { user: user || userInput.value.trim() };
    if (nameInput.value.trim()) body.name = nameInput.value.trim();
    if (daysInput.value) body.lifetime_days = Number(daysInput.value);
    try {
      const created = await api("/admin/keys", { method: "POST", body });
      status.textContent = "";
      form.reset();
      onceBox = keyShownOnce(created, user || "");
      if (done) await done(created).catch(() => {});
      if (onceBox && !onceBox.isConnected) result.append(onceBox);
      if (onceBox) onceBox.querySelector(".once-row button").focus();
      announce("Key created for " + created.user + ". Copy it now: you will not see it again.");
    } catch (error) {
      status.textContent = error.message;
      status.className = "status error";
    }
  });
  return el("div", {}, form, status, result);
}

async function loadUsers(section) {
  const body = section.querySelector(".view-body");
  if (!body.firstChild) message(body, "Loading…");
  const list = el("div", { id: "users-list" });
  list.replaceChildren(usersTable(await api("/admin/users")));
  const refresh = async () => list.replaceChildren(usersTable(await api("/admin/users")));
  body.replaceChildren(panel("All users", list), panel("Create a key", keyForm(null, refresh)));
}

function usersTable(users) {
  return users.data.length === 0
    ? el("p", { class: "fine", text: "No users yet: create a key to add one." })
    : dataTable({
      caption: "Every user: keys, limits and today's usage",
      stack: true,
      rows: users.data,
      columns: [
        { label: "User", cell: (u) => userLink(u.user) },
        { label: "Status", cell: (u) => u.disabled ? badge("disabled", "bad") : "active" },
        { label: "Active keys", num: true, cell: (u) => number(u.active_keys) },
        { label: "Requests per minute",
          cell: (u) => limitCell(number(u.limits.rate_limit_rpm), u.rate_limit_rpm !== null) },
        { label: "Daily budget",
          cell: (u) => limitCell(budgetText(u.limits.daily_token_budget), u.daily_token_budget !== null) },
        { label: "Weighted tokens today",
          cell: (u) => usageBar(u.usage_today.weighted_tokens, u.limits.daily_token_budget) },
      ],
    });
}

function limitsForm(user, defaults, reload) {
  const status = el("p", { class: "status", "aria-live": "polite" });
  const input = (id, value, min, max) => el("input", { id, type: "number", min, max, step: 1,
    inputmode: "numeric", value: value === null ? "" : value, "aria-describedby": id + "-hint" });
  const rpm = input("limit-rpm", user.rate_limit_rpm, 1, 1000000);
  const budget = input("limit-budget", user.daily_token_budget, 0, Number.MAX_SAFE_INTEGER);
  const form = el("form", { class: "form-grid", "aria-label": "Limits of " + user.user },
    el("div", { class: "field" }, el("label", { for: "limit-rpm", text: "Requests per minute, per key" }), rpm,
      el("p", { class: "fine", id: "limit-rpm-hint",
        text: "Empty: the server's RATE_LIMIT_RPM, " + number(defaults.rate_limit_rpm) + "." })),
    el("div", { class: "field" }, el("label", { for: "limit-budget", text: "Daily budget, weighted tokens" }), budget,
      el("p", { class: "fine", id: "limit-budget-hint",
        text: "Empty: the server's DAILY_TOKEN_BUDGET, " + budgetText(defaults.daily_token_budget) + ". 0: no budget." })),
    el("div", { class: "actions" },
      el("button", { type: "submit", class: "button", id: "limits-save", text: "Save limits" })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = (field) => field.value === "" ? null : Number(field.value);
    try {
      await api("/admin/users/" + encodeURIComponent(user.user), {
        method: "PATCH",
        body: { rate_limit_rpm: value(rpm), daily_token_budget: value(budget) },
      });
      await reload();
      const saved = $("limits-status");
      if (saved) { saved.textContent = "Limits saved."; saved.className = "status good"; }
      announce("Limits saved.");
    } catch (error) {
      status.textContent = error.message;
      status.className = "status error";
    }
  });
  status.id = "limits-status";
  return el("div", {}, form, status);
}

function keysTable(user, keys, reload) {
  if (keys.length === 0) return el("p", { class: "fine", text: user + " holds no key." });
  const now = Date.now();
  const label = (k) => (k.name ? k.name + " " : "") + k.prefix + "…" + k.last4;
  const act = async (work, done) => {
    try {
      await work();
      await reload();
      announce(done);
    } catch (error) {
      announce(error.message);
      const status = $("keys-status");
      if (status) { status.textContent = error.message; status.className = "status error"; }
    }
  };
  return dataTable({
    caption: "Keys of " + user,
    stack: true,
    rows: keys,
    columns: [
      { label: "Key", cell: (k) => el("span", {}, k.name ? el("strong", { text: k.name + " " }) : null,
        el("code", { text: k.prefix + "…" + k.last4 }), el("code", { class: "fine block", text: k.id })) },
      { label: "Status", cell: (k) => k.disabled ? badge("disabled", "bad")
        : Date.parse(k.expires_at) <= now ? badge("expired", "bad") : "active" },
      { label: "Created (UTC)", cell: (k) => when(k.created_at) },
      { label: "Expires (UTC)", cell: (k) => when(k.expires_at) },
      { label: "Last used (UTC)", cell: (k) => when(k.last_used_at) },
      { label: "Actions", cell: (k) => el("span", { class: "actions" },
        el("button", { type: "button", class: "button quiet", id: "key-toggle-" + k.id,
          "aria-label": (k.disabled ? "Enable key " : "Disable key ") + label(k),
          text: k.disabled ? "Enable" : "Disable",
          onclick: () => act(() => api("/admin/keys/" + encodeURIComponent(k.id),
            { method: "PATCH", body: { disabled: !k.disabled } }),
            "Key " + label(k) + (k.disabled ? " enabled." : " disabled.")) }),
        el("button", { type: "button", class: "button danger", id: "key-revoke-" + k.id,
          "aria-label": "Revoke key " + label(k),
          text: "Revoke",
          onclick: async () => {
            const sure = await confirmAction("Revoke key " + label(k) + "?",
              "It stops working at once and cannot be restored; " + user +
                " will need a new key.", "Revoke key");
            if (sure) {
              await act(() => api("/admin/keys/" + encodeURIComponent(k.id), { method: "DELETE" }),
                "Key " + label(k) + " revoked.");
            }
          } })) },
    ],
  });
}

async function loadUser(section, name) {
  const body = section.querySelector(".view-body");
  const heading = section.querySelector("h1");
  heading.textContent = name;
  if (!body.firstChild || body.dataset.user !== name) message(body, "Loading…");
  body.dataset.user = name;
  const path = encodeURIComponent(name);
  const [users, keys, usage] = await Promise.all([
    api("/admin/users"),
    api("/admin/keys?user=" + path).catch((error) => error.status === 404 ? { data: [] } : Promise.reject(error)),
    api("/admin/usage?days=30&group_by=model&user=" + path).catch((error) => error.status === 404 ? null : Promise.reject(error)),
  ]);
  const user = users.data.find((u) => u.user === name);
  if (!user) {
    body.replaceChildren(el("p", { class: "status error",
      text: "Unknown user " + name + ": a user exists once a key has been created for it." }),
      el("p", {}, el("a", { href: "#users", text: "All users" })));
    return;
  }
  const reload = () => loadUser(section, name);
  const focused = section.contains(document.activeElement) ? document.activeElement.id : "";
  const toggle = el("button", { type: "button", id: "user-toggle",
    class: user.disabled ? "button" : "button danger",
    text: user.disabled ? "Enable " + name : "Disable " + name });
  toggle.addEventListener("click", async () => {
    try {
      await api("/admin/users/" + path, { method: "PATCH", body: { disabled: !user.disabled } });
      await reload();
      announce(name + (user.disabled ? " enabled." : " disabled."));
    } catch (error) {
      announce(error.message);
    }
  });
  const summary = el("p", { class: "user-summary" },
    user.disabled ? badge("disabled", "bad") : badge("active", "good"), " ",
    number(user.active_keys) + " active key" + (user.active_keys === 1 ? "" : "s") + " · today " +
      number(user.usage_today.requests) + " requests, " + number(user.usage_today.weighted_tokens) +
      " weighted tokens · since " + when(user.created_at) + " UTC");
  const chart = el("div", { id: "user-chart" });
  body.replaceChildren(
    el("p", {}, el("a", { href: "#users", text: "← All users" })),
    summary,
    el("div", { class: "columns" },
      panel("Limits", limitsForm(user, users.defaults, reload),
        el("h3", { text: "Access" }),
        el("p", { class: "fine", text: user.disabled
          ? "Disabled: every key of " + name + " gets 403 until enabled."
          : "Enabled: " + name + "'s keys work within the limits above." }), toggle),
      panel("Last 30 days", chart)),
    el("section", { class: "panel" }, el("h2", { id: "keys-h", tabindex: "-1", text: "Keys" }),
      el("p", { id: "keys-status", class: "status", "aria-live": "polite" }),
      keysTable(name, keys.data, reload),
      el("h3", { text: "Create a key for " + name }), keyForm(name, reload)),
  );
  if (focused && !$(focused) && focused.startsWith("key-")) $("keys-h").focus();
  else if (focused && $(focused) && section.contains($(focused))) $(focused).focus();
  if (usage) usageChart(chart, usage, "model", "Weighted tokens per day, by model");
  else message(chart, "No usage yet.");
}

const STATUS_FILTERS = [["", "All"], ["error", "Errors (400 and up)"], ["2xx", "2xx"],
  ["4xx", "4xx"], ["429", "429"], ["5xx", "5xx"]];

async function loadRequests(section) {
  const body = section.querySelector(".view-body");
  const userInput = el("input", { id: "requests-user", autocomplete: "off", spellcheck: "false" });
  const statusSelect = el("select", { id: "requests-status" },
    STATUS_FILTERS.map(([value, label]) => el("option", { value, text: label })));
  const auto = el("input", { id: "requests-auto", type: "checkbox", checked: true });
  const note = el("p", { class: "fine", id: "requests-note" });
  const results = el("div", { id: "requests-table" });
  const filters = el("form", { class: "filters", "aria-label": "Filter requests" },
    el("div", { class: "field" }, el("label", { for: "requests-user", text: "User" }), userInput),
    el("div", { class: "field" }, el("label", { for: "requests-status", text: "Status" }), statusSelect),
    el("label", { class: "check", for: "requests-auto" }, auto, " Refresh every 5 seconds"));
  body.replaceChildren(filters, note, results);
  let timer = 0;
  let left = false;
  const schedule = () => {
    clearTimeout(timer);
    if (!left && auto.checked && document.visibilityState === "visible") {
      timer = setTimeout(refresh, REFRESH_MS);
    }
  };
  async function refresh() {
    const query = new URLSearchParams({ limit: "200" });
    if (userInput.value.trim()) query.set("user", userInput.value.trim());
    if (statusSelect.value) query.set("status", statusSelect.value);
    try {
      const list = await api("/admin/requests?" + query);
      if (left) return;
      note.textContent = "The last " + number(list.capacity) + " client requests of this instance " +
        "are kept in memory (lost on restart). Showing " + number(list.data.length) +
        ", newest first; updated " + new Date().toISOString().slice(11, 19) + " UTC.";
      results.replaceChildren(list.data.length === 0
        ? el("p", { class: "fine", text: "No request matches." })
        : requestsTable(list.data));
    } catch (error) {
      if (!left) message(results, error.message, "error");
    }
    schedule();
  }
  const visible = () => {
    if (document.visibilityState === "visible") refresh();
    else clearTimeout(timer);
  };
  filters.addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
  filters.addEventListener("change", () => refresh());
  document.addEventListener("visibilitychange", visible);
  leaveView = () => {
    left = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", visible);
  };
  await refresh();
}

function requestsTable(rows) {
  return dataTable({
    caption: "Recent requests, newest first",
    stack: true,
    rows,
    columns: [
      { label: "Time (UTC)", cell: (r) => r.time.slice(11, 19) },
      { label: "User", cell: (r) => r.user ? userLink(r.user) : "—" },
      { label: "Key id", cell: (r) => r.key_id ? el("code", { text: r.key_id }) : "—" },
      { label: "Route", cell: (r) => el("code", { text: r.method + " " + r.path }) },
      { label: "Model", cell: (r) => r.model || "—" },
      { label: "Status", cell: (r) => el("span", {},
        badge(String(r.status), r.status >= 400 ? "bad" : r.error ? "warn" : "good"),
        r.error ? el("span", { class: "fine block", text: r.error }) : null) },
      { label: "Duration", num: true, cell: (r) => number(r.duration_ms) + " ms" },
      { label: "Prompt tokens", num: true, cell: (r) => r.prompt_tokens === null ? "—" : number(r.prompt_tokens) },
      { label: "Completion tokens", num: true,
        cell: (r) => r.completion_tokens === null ? "—" : number(r.completion_tokens) },
      { label: "Upstream request id", cell: (r) => r.upstream_request_id ? el("code", { text: r.upstream_request_id }) : "—" },
    ],
  });
}
`;
