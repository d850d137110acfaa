/**
 * The console script's shell: the admin key (sessionStorage only), calls to the admin API, signing
 * in and out, the views' routing by URL fragment, and DOM helpers. Each view is in a file of its
 * own (console_overview.ts, console_users.ts, console_keys.ts, console_requests.ts); all run
 * inside one function (see console_page.ts).
 */

/** Shell of the console script; it writes DOM nodes and text only, never HTML from strings. */
export const CONSOLE_SHELL_SCRIPT = String.raw`
const KEY_STORE = "ztoapi.adminKey";
const $ = (id) => document.getElementById(id);
const live = $("live");
let adminKey = sessionStorage.getItem(KEY_STORE);
let currentView = null;
let leaveView = () => {};
/** The just-created key's box, until "Done" or another view: the only place the key exists. */
let onceBox = null;

class ApiFailure extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** An element with a class, text or child nodes, and attributes. */
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function announce(text) {
  live.textContent = "";
  setTimeout(() => { live.textContent = text; }, 50);
}

function errorMessage(body, response) {
  const error = body && body.error;
  const message = typeof error === "string" ? error
    : error && typeof error.message === "string" ? error.message : "";
  return (message || response.statusText || "The request failed") + " (HTTP " + response.status + ")";
}

/** Calls the admin API with the key; any 401 signs out. */
async function api(path, options) {
  const init = {
    method: (options && options.method) || "GET",
    headers: { authorization: "Bearer " + adminKey },
    cache: "no-store",
    credentials: "omit",
  };
  if (options && options.body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiFailure("Cannot reach the server: " + (error && error.message || error), 0);
  }
  const raw = await response.text().catch(() => "");
  let body = null;
  try {
    body = raw ? JSON.parse(raw) : null;
  } catch {
    body = null;
  }
  if (response.status === 401 && !(options && options.signingIn)) {
    signOut("The server no longer accepts this admin key " + errorMessage(body, response) +
      ": sign in again.");
  }
  if (!response.ok) throw new ApiFailure(errorMessage(body, response), response.status);
  return body;
}

function number(value) {
  return Number(value || 0).toLocaleString("en-US", { maximumFractionDigits: 1 });
}

function percent(part, whole) {
  if (!(whole > 0)) return "—";
  const share = (part / whole) * 100;
  return (share < 10 ? share.toFixed(1) : Math.round(share)) + "%";
}

/** ISO time → "YYYY-MM-DD HH:MM" in UTC, or "—". */
function when(iso) {
  return iso ? iso.slice(0, 16).replace("T", " ") : "—";
}

/** A bar of used against a limit (0 or null: no limit), with its numbers as text. */
function usageBar(used, limit) {
  const bar = el("span", { class: "bar", "aria-hidden": "true" });
  const fill = el("span", { class: "bar-fill" });
  bar.append(fill);
  const share = limit > 0 ? Math.min(1, used / limit) : 0;
  fill.style.width = (share * 100).toFixed(1) + "%";
  if (share >= 0.9) fill.classList.add("bar-high");
  const text = limit > 0
    ? number(used) + " of " + number(limit) + " (" + percent(used, limit) + ")"
    : number(used) + " (no budget)";
  return el("span", { class: "usage" }, el("span", { class: "usage-text", text }), limit > 0 ? bar : null);
}

/**
 * A table (id, caption, rows, columns [{label, cell(row) → text or node, num, wrap}]); "stack"
 * shows each row as a card on narrow screens (explicit ARIA roles keep the table semantics that display: block drops).
 */
function dataTable(options) {
  const role = (name) => options.stack ? name : undefined;
  const head = el("tr", { role: role("row") }, options.columns.map((c) =>
    el("th", { scope: "col", role: role("columnheader"), class: c.num ? "num" : "", text: c.label })));
  const rows = options.rows.map((row) => el("tr", { role: role("row") },
    options.columns.map((c, i) => {
      const value = c.cell(row);
      const content = value instanceof Node ? value : String(value ?? "—");
      return i === 0
        ? el("th", { scope: "row", role: role("rowheader") }, content)
        : el("td", { role: role("cell"), "data-label": c.label, class: c.num ? "num" : c.wrap ? "wrap" : "" },
          content);
    })));
  const table = el("table", { class: options.stack ? "stack" : "", role: role("table") },
    el("caption", { text: options.caption }),
    el("thead", { role: role("rowgroup") }, head),
    el("tbody", { role: role("rowgroup") }, rows));
  return el("div", { class: "table-scroll", id: options.id, role: "region", tabindex: "0",
    "aria-label": options.caption }, table);
}

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

/** Replaces a container's content with a message (kind: "error", "good" or ""). */
function message(container, text, kind) {
  container.replaceChildren(el("p", { class: "status " + (kind || ""), text }));
}

/** Settles the confirmation asked last, if its dialog's close event has not arrived yet. */
let settleConfirmation = null;

/** Asks for confirmation in a modal dialog; resolves true when confirmed. */
function confirmAction(title, text, action) {
  const dialog = $("confirm");
  // A confirmation closed so recently that its close event is still queued is settled now, with
  // its own answer: left waiting, it would take the next one's.
  if (settleConfirmation) settleConfirmation();
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = action;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    const settle = () => {
      dialog.removeEventListener("close", closed);
      settleConfirmation = null;
      resolve(dialog.returnValue === "ok");
    };
    const closed = () => {
      if (!dialog.open) settle();
    };
    dialog.addEventListener("close", closed);
    settleConfirmation = settle;
  });
}

function route() {
  const hash = decodeURIComponent(location.hash.replace(/^#/, ""));
  if (hash.startsWith("users/") && hash.length > 6) return { view: "user", user: hash.slice(6) };
  if (hash === "users" || hash === "requests") return { view: hash };
  return { view: "overview" };
}

/** Shows the view the URL fragment names and loads its data. */
function showView(focus) {
  if (!adminKey) return;
  leaveView();
  leaveView = () => {};
  const { view, user } = route();
  currentView = view;
  for (const section of document.querySelectorAll(".view")) {
    section.hidden = section.id !== "view-" + view;
  }
  for (const link of document.querySelectorAll("#tabs a")) {
    const active = link.dataset.view === (view === "user" ? "users" : view);
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (onceBox) onceBox.remove(); // a new key is shown in its view only
  onceBox = null;
  const loaders = {
    overview: loadOverview,
    users: loadUsers,
    user: (section) => loadUser(section, user),
    requests: loadRequests,
  };
  const section = $("view-" + view);
  loaders[view](section).catch((error) => {
    if (adminKey) message(section.querySelector(".view-body"), error.message, "error");
  });
  if (focus) section.querySelector("h1").focus();
}

function signedIn(yes) {
  $("sign-in").hidden = yes;
  $("tabs").hidden = !yes;
  $("sign-out").hidden = !yes;
  if (!yes) for (const section of document.querySelectorAll(".view")) section.hidden = true;
}

/** Forgets the key and every figure shown, and asks for the key again. */
function signOut(reason) {
  adminKey = null;
  if (onceBox) onceBox.remove();
  onceBox = null;
  sessionStorage.removeItem(KEY_STORE);
  leaveView();
  leaveView = () => {};
  for (const body of document.querySelectorAll(".view-body")) body.replaceChildren();
  signedIn(false);
  const status = $("sign-in-status");
  status.textContent = reason || "";
  status.className = "status" + (reason ? " error" : "");
  $("admin-key").value = "";
  $("admin-key").focus();
}

async function signIn(event) {
  event.preventDefault();
  const input = $("admin-key");
  const status = $("sign-in-status");
  const key = input.value.trim();
  if (!key) {
    status.textContent = "Enter the admin key first.";
    status.className = "status error";
    return;
  }
  const button = $("sign-in-form").querySelector("button");
  button.disabled = true;
  status.textContent = "Checking…";
  status.className = "status";
  adminKey = key;
  try {
    await api("/admin/users", { signingIn: true });
    sessionStorage.setItem(KEY_STORE, key);
    input.value = "";
    status.textContent = "";
    signedIn(true);
    showView(true);
  } catch (error) {
    adminKey = null;
    status.textContent = error.status === 401
      ? "Wrong admin key: the server refused it (HTTP 401). Nothing is shown without the right key."
      : error.message;
    status.className = "status error";
  } finally {
    button.disabled = false;
  }
}

function start() {
  $("no-script").hidden = true;
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut("Signed out: the key is forgotten."));
  addEventListener("hashchange", () => showView(true));
  $("confirm").addEventListener("cancel", () => { $("confirm").returnValue = "cancel"; });
  if (adminKey) {
    signedIn(true);
    showView(false);
  } else {
    signedIn(false);
  }
}
`;
