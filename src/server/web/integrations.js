// The integrations page: every source's status for the admin key, with "Test connection", "Sync now",
// "Schedule" (a dialog that changes its sync intervals), "Delete documents" and "Remove" (after a confirmation
// that asks whether its data goes too), and a form that adds a source from the spaces and projects its token
// can see.
"use strict";

(() => {
  const { el, call, errorText, show, formatTime } = permdex;
  const ADMIN_KEY = "permdex.admin";
  const POLL_MS = 500;
  const $ = (id) => document.getElementById(id);

  function key() { return sessionStorage.getItem(ADMIN_KEY); }

  function fail(message) {
    $("error").textContent = message;
    show($("error"), true);
  }

  async function load() {
    show($("error"), false);
    if (!key()) { fail("Sign in with the admin key."); return null; }
    const result = await call("GET", "/api/v1/admin/sources", key());
    if (!result.ok) { fail(errorText(result)); show($("sources"), false); return null; }
    render(result.body);
    return result.body;
  }

  // The API lists runs oldest first.
  function newest(source) { return source.last_runs[source.last_runs.length - 1]; }

  // What the index holds now (whoever committed it), not what the last run counted.
  function indexedCell(source) {
    const indexed = source.served && source.served.indexed;
    if (!indexed) return el("td", { class: "indexed", text: "—" });
    const kinds = Object.entries(indexed.by_kind || {}).map(([kind, n]) => kind + ": " + n).join(", ");
    return el("td", { class: "indexed", title: kinds, text: String(indexed.total) });
  }

  // When permissions were last read in full, or why the source's documents are withheld.
  function freshnessCell(source) {
    const served = source.served;
    if (!served) return el("td", { class: "freshness", text: "—" });
    // Before the first commit, a running sync is what will bring the index: nothing is wrong yet.
    if (served.generation === 0 && source.sync_running) return el("td", { class: "freshness", text: "first sync running" });
    if (served.withheld) return el("td", { class: "freshness status-bad", text: "withheld: " + served.withheld });
    return el("td", { class: "freshness", text: served.permissions_refreshed ? formatTime(served.permissions_refreshed) : "never" });
  }

  function duration(seconds) {
    if (seconds < 60) return seconds + " s";
    if (seconds < 3600) return Math.round(seconds / 60) + " min";
    return Math.floor(seconds / 3600) + " h " + Math.round((seconds % 3600) / 60) + " min";
  }

  // The kind being read now: a bar with done / total and the time left when the total is known, else the count.
  function progressOf(p) {
    const count = p.kind_total != null
      ? p.kind_done.toLocaleString() + " / " + p.kind_total.toLocaleString()
      : p.kind_done.toLocaleString() + " seen";
    const eta = p.eta_seconds != null ? " · about " + duration(p.eta_seconds) + " left" : "";
    const line = el("div", { class: "progress-line", text: p.kind + ": " + count + eta });
    const box = el("div", { class: "progress" }, [line]);
    if (p.kind_total != null) {
      const bar = el("progress", { max: String(Math.max(p.kind_total, 1)), value: String(p.kind_done), "aria-label": p.kind + " progress" });
      box.prepend(bar);
    }
    return box;
  }

  // When the server syncs the source by itself (the API's PATCH on the source changes it).
  function scheduleText(schedule) {
    if (!schedule) return "";
    const every = (what, interval) => interval === "off" ? what + " off" : what + " every " + interval;
    return [every("sync", schedule.interval), every("permissions", schedule.permissions_interval), every("full", schedule.full_interval)].join(" · ");
  }

  function render(sources) {
    const body = $("sources").querySelector("tbody");
    body.replaceChildren();
    for (const source of sources) {
      const last = newest(source);
      const products = [source.products.confluence && "Confluence", source.products.jira && "Jira"].filter(Boolean).join(", ");
      const p = source.progress;
      const damaged = Boolean(source.integrity_problem);
      const status = source.sync_running
        ? "syncing" + (p ? " — " + (p.phase || "starting") + ": " + p.done + " items, " + p.per_second + "/s, " + p.seconds + " s" : "")
        : damaged ? "damaged" : last ? last.outcome : "never synced";
      const bad = damaged || (last && last.outcome !== "completed");
      const statusCell = el("td", { class: "status " + (source.sync_running ? "status-running" : bad ? "status-bad" : ""), text: status });
      if (source.sync_running && p && p.kind) statusCell.append(progressOf(p));
      let errors = last ? String(last.failure_count) + (last.outcome_reason ? " — " + last.outcome_reason : "") : "";
      if (damaged) errors = "Index cannot be trusted, nothing of it is served until the next sync rebuilds it: " + source.integrity_problem;
      const sync = el("button", { type: "button", class: "sync" , text: "Sync now" });
      sync.disabled = source.sync_running;
      sync.addEventListener("click", () => syncNow(source.name, last ? last.run_id : null));
      const purge = el("button", { type: "button", class: "danger purge", text: "Delete documents" });
      purge.disabled = source.sync_running;
      purge.addEventListener("click", () => purgeSource(source.name));
      const reschedule = el("button", { type: "button", class: "secondary reschedule", text: "Schedule" });
      reschedule.hidden = !source.schedule;
      reschedule.addEventListener("click", () => askSchedule(source.name, source.schedule));
      // Removing cancels a running sync, so it is offered while one runs.
      const remove = el("button", { type: "button", class: "danger remove", text: "Remove" });
      remove.addEventListener("click", () => askRemove(source.name));
      const test = el("button", { type: "button", class: "check", text: checks[source.name] === PENDING ? "Testing…" : "Test connection" });
      test.disabled = checks[source.name] === PENDING;
      test.addEventListener("click", () => testConnection(source.name));
      body.append(el("tr", { "data-source": source.name, "data-run": last ? last.run_id : "", "data-ended": last ? last.ended : "", "data-running": String(source.sync_running) }, [
        el("td", {}, [el("strong", { text: source.name }), el("div", { class: "note", text: source.url }), el("div", { class: "note schedule", text: scheduleText(source.schedule) })]),
        el("td", { text: products }),
        statusCell,
        el("td", { class: "last-sync", text: last ? formatTime(last.ended) : "—" }),
        indexedCell(source),
        freshnessCell(source),
        el("td", { class: "errors", text: errors }),
        el("td", { class: "actions" }, [test, sync, reschedule, purge, remove]),
      ]));
      const check = checks[source.name];
      if (check && check !== PENDING) body.append(checkRow(source.name, check));
    }
    show($("sources"), sources.length > 0);
    show($("no-sources"), sources.length === 0);
    show($("add"), true);
  }

  // ----- Adding a source: what its token can see, then the choice written to the configuration file.

  // The site and credentials typed in, as the API takes them.
  function typedSite() {
    return { url: $("new-url").value.trim(), email: $("new-email").value.trim(), token: $("new-token").value.trim() };
  }

  // What the last "Show spaces and projects" found, for the site typed in then.
  let discovered = null;

  function addResult(text, bad) {
    $("add-result").textContent = text;
    $("add-result").classList.toggle("bad", Boolean(bad));
  }

  function choices(fieldset, items, absent) {
    const list = fieldset.querySelector(".choices");
    list.replaceChildren();
    if (absent) list.append(el("p", { class: "note", text: absent }));
    for (const item of items) {
      const check = el("input", { type: "checkbox", value: item.key });
      const text = item.key + " — " + item.name + (item.archived ? " (archived)" : "");
      list.append(el("label", {}, [check, " ", text]));
    }
  }

  async function discover(event) {
    event.preventDefault();
    addResult("Asking the site…");
    show($("discovered"), false);
    const site = typedSite();
    const result = await call("POST", "/api/v1/admin/discover", key(), null, site);
    document.body.dataset.discovered = String(Number(document.body.dataset.discovered || 0) + 1);
    if (!result.ok) { addResult(errorText(result), true); return; }
    const found = result.body;
    if (found.error) { addResult(found.error, true); return; }
    discovered = { site, found };
    choices($("space-choices"), found.spaces, found.confluence ? null : "Confluence is not on this site for this account: it will not be synced.");
    choices($("project-choices"), found.projects, found.jira ? null : "Jira is not on this site for this account: it will not be synced.");
    show($("discovered"), true);
    addResult((found.problems || []).join(" "), (found.problems || []).length > 0);
  }

  function chosen(id) {
    return [...$(id).querySelectorAll("input:checked")].map((box) => box.value);
  }

  async function addSource() {
    if (!discovered) return;
    const body = Object.assign({ name: $("new-name").value.trim() }, discovered.site, {
      confluence: discovered.found.confluence,
      jira: discovered.found.jira,
      include_spaces: chosen("space-choices"),
      include_projects: chosen("project-choices"),
      start_sync: $("new-start-sync").checked,
    });
    const result = await call("POST", "/api/v1/admin/sources", key(), null, body);
    document.body.dataset.added = String(Number(document.body.dataset.added || 0) + 1);
    if (!result.ok) { addResult(errorText(result), true); return; }
    const warnings = (result.body.warnings || []).map((w) => " Warning: " + w).join("");
    addResult(result.body.detail + "." + warnings, result.body.restart_required);
    // The token stays out of the page once it is kept.
    $("new-token").value = "";
    discovered = null;
    show($("discovered"), false);
    // The server serves the new source now: it is listed at once, and its first sync followed to its end.
    if (result.body.sync_started) await follow(body.name, null);
    else await load();
  }

  // "Test connection": the last answer per source (or PENDING while it runs), shown under the source's row.
  const PENDING = {};
  const checks = {};

  function checkRow(name, check) {
    const items = [];
    if (check.error) items.push(el("li", { class: "check-failed", text: "✗ " + check.error }));
    for (const c of check.capabilities || []) {
      const mark = c.outcome === "ok" ? "✓" : c.outcome === "failed" ? "✗" : "–";
      const text = mark + " " + c.product + " " + c.name + " (" + c.call + ")" + (c.detail ? ": " + c.detail : "");
      items.push(el("li", { class: "check-" + c.outcome, text }));
    }
    for (const key of check.unknown_keys || []) {
      items.push(el("li", { class: "check-failed", text: "✗ scope: " + key + " in the include/exclude lists is not on the site (or not visible to this account)" }));
    }
    const summary = check.passed ? "Connection test passed" : "Connection test found problems";
    return el("tr", { class: "check-result", "data-check": name, "data-passed": String(Boolean(check.passed)) }, [
      el("td", { colspan: "8" }, [el("strong", { text: summary }), el("ul", {}, items)]),
    ]);
  }

  async function testConnection(name) {
    checks[name] = PENDING;
    await load();
    const result = await call("POST", "/api/v1/admin/sources/" + encodeURIComponent(name) + "/check", key());
    checks[name] = result.ok ? result.body : { passed: false, error: errorText(result) };
    await load();
  }

  async function syncNow(name, previousRun) {
    const result = await call("POST", "/api/v1/admin/sources/" + encodeURIComponent(name) + "/sync", key());
    if (!result.ok) { fail(errorText(result)); return; }
    await follow(name, previousRun);
  }

  // Shows a run's progress: polls until the source is idle with a newer run than previousRun (null: any run).
  async function follow(name, previousRun) {
    for (;;) {
      const sources = await load();
      if (!sources) return;
      const source = sources.find((s) => s.name === name);
      const latest = source && newest(source);
      if (!source || (!source.sync_running && latest && latest.run_id !== previousRun)) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async function purgeSource(name) {
    if (!window.confirm("Delete every document of " + name + " from the index, permanently? The source stays, and its next sync starts over.")) return;
    const result = await call("DELETE", "/api/v1/admin/sources/" + encodeURIComponent(name) + "/documents", key());
    if (!result.ok) fail(errorText(result)); else await load();
    // Counts answered deletions, so scripts (and tests) can wait for one to be done.
    document.body.dataset.purges = String(Number(document.body.dataset.purges || 0) + 1);
  }

  // "Remove": the dialog asks for a confirmation and whether the source's data goes with it.
  let removing = null;

  function askRemove(name) {
    removing = name;
    $("remove-name").textContent = name;
    $("remove-data").checked = false;
    $("remove-dialog").showModal();
  }

  async function removeSource(event) {
    event.preventDefault();
    const name = removing;
    $("remove-dialog").close();
    if (!name) return;
    removing = null;
    const data = $("remove-data").checked ? "delete" : "keep";
    const path = "/api/v1/admin/sources/" + encodeURIComponent(name) + "?data=" + data;
    const result = await call("DELETE", path, key());
    await load();
    if (!result.ok) fail(errorText(result));
    else $("notice").textContent = result.body.detail + ".";
    // Counts answered removals, so scripts (and tests) can wait for one to be done.
    document.body.dataset.removals = String(Number(document.body.dataset.removals || 0) + 1);
  }

  // "Schedule": the dialog shows the source's intervals as the file gives them; saving sends only the changed ones.
  let rescheduling = null;

  function askSchedule(name, schedule) {
    rescheduling = { name, schedule };
    $("schedule-name").textContent = name;
    $("schedule-interval").value = schedule.interval;
    $("schedule-permissions").value = schedule.permissions_interval;
    $("schedule-full").value = schedule.full_interval;
    $("schedule-dialog").showModal();
  }

  async function saveSchedule(event) {
    event.preventDefault();
    const asked = rescheduling;
    $("schedule-dialog").close();
    if (!asked) return;
    rescheduling = null;
    const typed = {
      interval: $("schedule-interval").value.trim(),
      permissions_interval: $("schedule-permissions").value.trim(),
      full_interval: $("schedule-full").value.trim(),
    };
    const changed = Object.fromEntries(Object.entries(typed).filter(([k, v]) => v !== asked.schedule[k]));
    if (Object.keys(changed).length > 0) {
      const result = await call("PATCH", "/api/v1/admin/sources/" + encodeURIComponent(asked.name), key(), null, changed);
      await load();
      if (!result.ok) fail(errorText(result));
      else $("notice").textContent = result.body.detail + ".";
    }
    // Counts answered schedule changes, so scripts (and tests) can wait for one to be done.
    document.body.dataset.reschedules = String(Number(document.body.dataset.reschedules || 0) + 1);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("schedule-form").addEventListener("submit", saveSchedule);
    $("schedule-cancel").addEventListener("click", () => { rescheduling = null; $("schedule-dialog").close(); });
    $("remove-form").addEventListener("submit", removeSource);
    $("remove-cancel").addEventListener("click", () => { removing = null; $("remove-dialog").close(); });
    $("admin-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("admin-key").value.trim();
      if (value) sessionStorage.setItem(ADMIN_KEY, value);
      $("admin-key").value = "";
      load();
    });
    $("discover-form").addEventListener("submit", discover);
    $("add-source").addEventListener("click", addSource);
    if (key()) load();
  });
})();
