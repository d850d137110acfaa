/** The console's Requests view: this instance's recent requests, filtered, refreshed while shown. */

/** The Requests view (runs inside the console script; see console_page.ts). */
export const CONSOLE_REQUESTS_SCRIPT = String.raw`
const REFRESH_MS = 5000;

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
    results.dataset.loading = "true";
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
    } finally {
      delete results.dataset.loading;
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
      { label: "Prompt tokens", num: true,
        cell: (r) => r.prompt_tokens === null ? "—" : number(r.prompt_tokens) },
      { label: "Completion tokens", num: true,
        cell: (r) => r.completion_tokens === null ? "—" : number(r.completion_tokens) },
      { label: "Upstream request id", wrap: true,
        cell: (r) => r.upstream_request_id ? el("code", { text: r.upstream_request_id }) : "—" },
    ],
  });
}
`;
