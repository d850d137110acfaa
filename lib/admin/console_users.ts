/** The console's Users view and one user's view: limits, access, the 30-day chart, the keys. */

/** The Users and user views (runs inside the console script; see console_page.ts). */
export const CONSOLE_USERS_SCRIPT = String.raw`
function limitCell(text, override) {
  return el("span", {}, text, override ? " " : null, override ? badge("override", "accent") : null);
}

function budgetText(budget) {
  return budget > 0 ? number(budget) : "no budget";
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
    el("div", { class: "field" },
      el("label", { for: "limit-budget", text: "Daily budget, weighted tokens" }), budget,
      el("p", { class: "fine", id: "limit-budget-hint",
        text: "Empty: the server's DAILY_TOKEN_BUDGET, " + budgetText(defaults.daily_token_budget) +
          ". 0: no budget." })),
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

/** A catch handler: a 404 (an unknown user) gives "value"; anything else stays an error. */
function unlessUnknown(value) {
  return (error) => error.status === 404 ? value : Promise.reject(error);
}

let userLoads = 0;

async function loadUser(section, name) {
  const load = ++userLoads; // only the latest load renders: an older answer may be stale
  const body = section.querySelector(".view-body");
  const heading = section.querySelector("h1");
  heading.textContent = name;
  if (!body.firstChild || body.dataset.user !== name) message(body, "Loading…");
  body.dataset.user = name;
  const path = encodeURIComponent(name);
  const [users, keys, usage] = await Promise.all([
    api("/admin/users"),
    api("/admin/keys?user=" + path).catch(unlessUnknown({ data: [] })),
    api("/admin/usage?days=30&group_by=model&user=" + path).catch(unlessUnknown(null)),
  ]);
  if (load !== userLoads) return;
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
`;
