/** The console's keys: creating one (shown once, with a copy button), the list, disable and revoke. */

/** Key creation and the keys table (runs inside the console script; see console_page.ts). */
export const CONSOLE_KEYS_SCRIPT = String.raw`
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
  const form = el("form",
    { class: "form-grid", "aria-label": user ? "Create a key for " + user : "Create a key" },
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
    id: "keys-table",
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
`;
