// The search page: sign-in (a provider's session, a demo user or a pasted token), query, facets, cursor
// pagination.
"use strict";

(() => {
  const { el, call, errorText, show, formatTime, safeHref } = permdex;
  const TOKEN_KEY = "permdex.token";
  const FACETS = [["product", "Product"], ["kind", "Type"], ["space", "Space"], ["project", "Project"]];
  // Readable names of the API's values; anything else is shown as it comes.
  const NAMES = {
    product: { confluence: "Confluence", jira: "Jira" },
    kind: { page: "Page", blogpost: "Blog post", comment: "Comment", attachment: "Attachment", issue: "Issue" },
  };
  const SINCE = { "": null, "7d": 7, "30d": 30, "365d": 365 };
  function nameOf(facet, value) { return (NAMES[facet] && NAMES[facet][value]) || value; }
  const PAGE_SIZE = 10;
  const $ = (id) => document.getElementById(id);

  // Current search: query text, selected facet values, and the cursor of the next page.
  // The query, filters and sort also live in the page's URL (`/?q=…&kind=page&sort=updated&since=30d`), so
  // reload, back/forward and shared links show the same search.
  const state = { q: "", filters: { product: [], kind: [], space: [], project: [] }, sort: "relevance", since: "", next: null };

  function readUrl() {
    const p = new URLSearchParams(window.location.search);
    state.q = (p.get("q") || "").trim();
    for (const [name] of FACETS) state.filters[name] = p.getAll(name);
    state.sort = p.get("sort") === "updated" ? "updated" : "relevance";
    state.since = Object.prototype.hasOwnProperty.call(SINCE, p.get("since") || "") ? (p.get("since") || "") : "";
    state.next = null;
    $("q").value = state.q;
    $("sort").value = state.sort;
    $("since").value = state.since;
  }

  function urlOf() {
    const p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    for (const [name] of FACETS) for (const value of state.filters[name]) p.append(name, value);
    if (state.sort !== "relevance") p.set("sort", state.sort);
    if (state.since) p.set("since", state.since);
    const text = p.toString();
    return text ? "/?" + text : "/";
  }

  // Records the current search as a new history entry (not when it is the entry we are on).
  function pushUrl() {
    const url = urlOf();
    if (url !== window.location.pathname + window.location.search) history.pushState(null, "", url);
  }

  // The browser's session, when signed in with a provider: searches then send the cookie, not a token.
  let session = null;

  function token() { return session ? null : sessionStorage.getItem(TOKEN_KEY); }

  async function setUpSignIn() {
    const info = await call("GET", "/auth/session", null);
    if (info.ok && info.body && info.body.signed_in) {
      session = info.body;
      $("session-name").textContent = session.display_name;
      show($("session"), true);
      $("sign-out").addEventListener("click", signOut);
      document.body.dataset.signedIn = session.account_id;
      return;
    }
    const providers = (info.ok && info.body && info.body.providers) || [];
    for (const provider of providers) {
      $("providers").append(el("a", { class: "button", href: provider.href, "data-provider": provider.id, text: provider.label }));
    }
    show($("providers"), providers.length > 0);
    const demo = await call("GET", "/api/v1/demo/users", null);
    if (demo.ok && Array.isArray(demo.body) && demo.body.length) {
      const select = $("user-select");
      for (const user of demo.body) {
        const option = el("option", { value: user.token, text: user.display_name + " — " + user.description });
        select.append(option);
      }
      const saved = token();
      const known = demo.body.some((u) => u.token === saved);
      if (known) select.value = saved; else sessionStorage.setItem(TOKEN_KEY, select.value);
      select.addEventListener("change", () => {
        sessionStorage.setItem(TOKEN_KEY, select.value);
        if (state.q) search(true);
      });
      show($("user-picker"), true);
    } else if (!providers.length) {
      // No provider to sign in with: a bearer token (from `permdex token` or your identity system) works.
      const form = $("token-form");
      show(form, true);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const value = $("token-input").value.trim();
        if (value) sessionStorage.setItem(TOKEN_KEY, value);
        $("token-input").value = "";
        if (state.q) search(true);
      });
    }
  }

  async function signOut() {
    const result = await call("POST", "/auth/logout", null, session.csrf_token);
    if (!result.ok) {
      $("error").textContent = errorText(result);
      show($("error"), true);
      return;
    }
    window.location.reload();
  }

  function params(fresh) {
    const p = new URLSearchParams({ q: state.q, limit: String(PAGE_SIZE), facets: "true", snippets: "true" });
    for (const [name] of FACETS) for (const value of state.filters[name]) p.append(name, value);
    p.set("sort", state.sort);
    const days = SINCE[state.since];
    if (days) p.set("updated_from", new Date(Date.now() - days * 86400000).toISOString().slice(0, 10));
    if (!fresh && state.next) p.set("cursor", state.next);
    return p;
  }

  async function search(fresh) {
    show($("error"), false);
    if (!session && !token()) {
      $("error").textContent = "Sign in first.";
      show($("error"), true);
      return;
    }
    const result = await call("GET", "/api/v1/search?" + params(fresh), token());
    if (!result.ok) {
      $("error").textContent = errorText(result);
      show($("error"), true);
      clearResults();
    } else {
      render(result.body, fresh);
    }
    // Counts answered searches, so scripts (and tests) can wait for a given one to be on screen.
    document.body.dataset.searches = String(Number(document.body.dataset.searches || 0) + 1);
  }

  function clearResults() {
    $("results").replaceChildren();
    $("facets").replaceChildren();
    show($("summary"), false);
    show($("empty"), false);
    show($("next"), false);
  }

  function render(body, fresh) {
    if (fresh) $("results").replaceChildren();
    for (const hit of body.hits) $("results").append(renderHit(hit));
    state.next = body.next_cursor || null;
    show($("next"), Boolean(state.next));
    const shown = $("results").children.length;
    $("summary").textContent = body.total + (body.total === 1 ? " result" : " results") + (shown < body.total ? ", showing " + shown : "");
    show($("summary"), body.total > 0);
    show($("empty"), body.total === 0);
    if (fresh) renderFacets(body.facets);
  }

  function renderHit(hit) {
    const title = el("a", { class: "title" });
    const href = safeHref(hit.url);
    if (href) { title.href = href; title.rel = "noopener noreferrer"; title.target = "_blank"; }
    // title_html and snippet_html are escaped by the server, with <mark> around matches: the only HTML inserted.
    title.innerHTML = hit.title_html;
    const meta = el("div", { class: "meta" }, [
      el("span", { class: "kind", "data-kind": hit.kind, text: nameOf("kind", hit.kind) }),
    ]);
    const where = hit.space ? "Space " + hit.space : hit.project ? "Project " + hit.project : null;
    if (where) meta.append(el("span", { class: "where", text: where }));
    if (hit.updated) {
      const time = el("time", { datetime: hit.updated, title: formatTime(hit.updated), text: relativeTime(hit.updated) });
      meta.append(el("span", { class: "updated" }, ["Updated ", time]));
    }
    const item = el("li", { class: "hit", "data-id": hit.id }, [title, meta]);
    if (hit.snippet_html) {
      const snippet = el("p", { class: "snippet" });
      snippet.innerHTML = hit.snippet_html;
      item.append(snippet);
    }
    return item;
  }

  // "3 days ago"; the exact time is the element's title.
  function relativeTime(iso) {
    const then = new Date(iso);
    if (isNaN(then)) return iso;
    const seconds = (then.getTime() - Date.now()) / 1000;
    const units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
    const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
    for (const [unit, size] of units) {
      if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
    }
    return format.format(0, "minute");
  }

  function renderFacets(facets) {
    const box = $("facets");
    box.replaceChildren();
    if (!facets) return;
    for (const [name, label] of FACETS) {
      const counts = facets[name] || [];
      if (!counts.length) continue;
      const list = el("ul");
      for (const { value, count } of counts) {
        const pressed = state.filters[name].includes(value);
        const button = el("button", { type: "button", "data-facet": name, "data-value": value, "aria-pressed": String(pressed) }, [
          el("span", { text: nameOf(name, value) }), el("span", { class: "count", text: String(count) }),
        ]);
        button.addEventListener("click", () => toggle(name, value));
        list.append(el("li", {}, [button]));
      }
      box.append(el("h3", { text: label }), list);
    }
  }

  function toggle(name, value) {
    const values = state.filters[name];
    const at = values.indexOf(value);
    if (at >= 0) values.splice(at, 1); else values.push(value);
    pushUrl();
    search(true);
  }

  // Keyboard: "/" focuses the box; arrows move through results (from the box too); Enter opens the
  // focused result's link, as links do.
  function onKey(event) {
    const typing = event.target.closest && event.target.closest("input, select, textarea");
    if (event.key === "/" && !typing) {
      event.preventDefault();
      $("q").focus();
      $("q").select();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    if (typing && event.target !== $("q")) return;
    const links = [...document.querySelectorAll("#results .hit a.title")];
    if (!links.length) return;
    const at = links.indexOf(document.activeElement);
    let next;
    if (event.key === "ArrowDown") next = at < 0 ? 0 : Math.min(at + 1, links.length - 1);
    else if (at <= 0) { if (at === 0) { event.preventDefault(); $("q").focus(); } return; }
    else next = at - 1;
    event.preventDefault();
    for (const hit of document.querySelectorAll("#results .hit")) hit.classList.remove("active");
    links[next].closest(".hit").classList.add("active");
    links[next].focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      state.q = $("q").value.trim();
      for (const [name] of FACETS) state.filters[name] = [];
      state.next = null;
      pushUrl();
      if (state.q) search(true); else clearResults();
    });
    for (const id of ["sort", "since"]) {
      $(id).addEventListener("change", () => {
        state[id] = $(id).value;
        pushUrl();
        if (state.q) search(true);
      });
    }
    window.addEventListener("popstate", () => {
      readUrl();
      if (state.q) search(true); else clearResults();
    });
    document.addEventListener("keydown", onKey);
    $("next").addEventListener("click", () => search(false));
    // body[data-signin=ready] tells scripts (and tests) the sign-in controls are in place.
    readUrl();
    setUpSignIn().then(() => {
      document.body.dataset.signin = "ready";
      if (state.q) search(true);
    });
  });
})();
