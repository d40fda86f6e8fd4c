// The search page: sign-in (a provider's session, a demo user or a pasted token), query, facets, pages by
// cursor across every source, and a preview of a result's indexed text.
"use strict";

(() => {
  const { el, call, errorText, show, formatTime, safeHref } = permdex;
  const TOKEN_KEY = "permdex.token";
  const FACETS = [["source", "Site"], ["product", "Product"], ["kind", "Type"], ["space", "Space"], ["project", "Project"]];
  // Readable names of the API's values; anything else is shown as it comes.
  const NAMES = {
    product: { confluence: "Confluence", jira: "Jira" },
    kind: { page: "Page", blogpost: "Blog post", comment: "Comment", attachment: "Attachment", issue: "Issue" },
  };
  const SINCE = { "": null, "7d": 7, "30d": 30, "365d": 365 };
  function nameOf(facet, value) { return (NAMES[facet] && NAMES[facet][value]) || value; }
  const PAGE_SIZE = 10;
  const $ = (id) => document.getElementById(id);

  // What is on screen: the query text, the selected facet values, sort and date filter, the page (its
  // number and `after`, the API's cursor that gives it) and the previewed result. All of it lives in the
  // page's URL (`/?q=…&kind=page&sort=updated&since=30d&page=2&after=…&preview=SITE:ID`), so reload,
  // back/forward and shared links show the same thing. The history entry's state keeps `trail`, the cursors
  // of the pages before this one, for "Previous page"; a shared link has none, so it offers the first page.
  const state = {
    q: "", filters: { source: [], product: [], kind: [], space: [], project: [] }, sort: "relevance", since: "",
    page: 1, after: null, trail: [null], next: null, preview: null,
  };
  // The search part of the URL whose results are on screen (the preview is not part of it).
  let shown = null;
  // `permdex demo`: the site is simulated, and its own pages answer only with its credentials.
  let demoMode = false;

  function readUrl() {
    const p = new URLSearchParams(window.location.search);
    state.q = (p.get("q") || "").trim();
    for (const [name] of FACETS) state.filters[name] = p.getAll(name);
    state.sort = p.get("sort") === "updated" ? "updated" : "relevance";
    state.since = Object.prototype.hasOwnProperty.call(SINCE, p.get("since") || "") ? (p.get("since") || "") : "";
    const page = Number(p.get("page"));
    const after = p.get("after");
    if (Number.isInteger(page) && page >= 2 && after) { state.page = page; state.after = after; } else { state.page = 1; state.after = null; }
    const trail = history.state && history.state.trail;
    const known = Array.isArray(trail) && trail.length === state.page && trail[state.page - 1] === state.after;
    state.trail = state.page === 1 ? [null] : known ? trail : null;
    state.preview = previewOf(p.get("preview"));
    $("q").value = state.q;
    $("sort").value = state.sort;
    $("since").value = state.since;
  }

  // `SITE:ID` (site names have no colon; ids do).
  function previewOf(text) {
    const at = text ? text.indexOf(":") : -1;
    return at > 0 && at < text.length - 1 ? { source: text.slice(0, at), id: text.slice(at + 1) } : null;
  }

  function searchPart() {
    const p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    for (const [name] of FACETS) for (const value of state.filters[name]) p.append(name, value);
    if (state.sort !== "relevance") p.set("sort", state.sort);
    if (state.since) p.set("since", state.since);
    if (state.page > 1) { p.set("page", String(state.page)); p.set("after", state.after); }
    return p;
  }

  function urlOf() {
    const p = searchPart();
    if (state.preview) p.set("preview", state.preview.source + ":" + state.preview.id);
    const text = p.toString();
    return text ? "/?" + text : "/";
  }

  // Records what is on screen as a new history entry (not when it is the entry we are on). `opened` marks
  // the entry a preview was opened in, so closing it goes back.
  function pushUrl(opened) {
    const url = urlOf();
    if (url !== window.location.pathname + window.location.search) {
      history.pushState({ trail: state.trail, opened: Boolean(opened) }, "", url);
    }
  }

  // Rewrites the entry we are on (keeping whether a preview was opened in it).
  function replaceUrl() {
    const opened = Boolean(history.state && history.state.opened) && Boolean(state.preview);
    history.replaceState({ trail: state.trail, opened }, "", urlOf());
  }

  // A new search (query, filter, sort or date changed): its first page.
  function firstPage() {
    state.page = 1;
    state.after = null;
    state.trail = [null];
    state.preview = null;
  }

  // The browser's session, when signed in with a provider: searches then send the cookie, not a token.
  let session = null;

  function token() { return session ? null : sessionStorage.getItem(TOKEN_KEY); }

  async function setUpSignIn() {
    const [info, demo] = await Promise.all([call("GET", "/auth/session", null), call("GET", "/api/v1/demo/users", null)]);
    demoMode = demo.ok && Array.isArray(demo.body);
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
        // Another reader: their own first page.
        firstPage();
        replaceUrl();
        showSearch();
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
        showSearch();
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

  function params() {
    const p = new URLSearchParams({ q: state.q, limit: String(PAGE_SIZE), facets: "true", snippets: "true" });
    for (const [name] of FACETS) for (const value of state.filters[name]) p.append(name, value);
    p.set("sort", state.sort);
    const days = SINCE[state.since];
    if (days) p.set("updated_from", new Date(Date.now() - days * 86400000).toISOString().slice(0, 10));
    if (state.after) p.set("cursor", state.after);
    return p;
  }

  // Shows the search the state describes (nothing for an empty query), then the preview it names.
  function showSearch() {
    shown = searchPart().toString();
    const searching = state.q ? search() : Promise.resolve(clearResults());
    return searching.then(syncPreview);
  }

  async function search() {
    show($("error"), false);
    if (!session && !token()) {
      $("error").textContent = "Sign in first.";
      show($("error"), true);
      return;
    }
    const result = await call("GET", "/api/v1/search?" + params(), token());
    const message = errorText(result);
    if (!result.ok && state.page > 1 && message.startsWith("bad cursor")) {
      // A page link from before the server or its data changed (or a date filter moved on): the first page.
      firstPage();
      replaceUrl();
      shown = searchPart().toString();
      return search();
    }
    if (!result.ok) {
      $("error").textContent = message;
      show($("error"), true);
      clearResults();
    } else {
      render(result.body);
    }
    // Counts answered searches, so scripts (and tests) can wait for a given one to be on screen.
    document.body.dataset.searches = String(Number(document.body.dataset.searches || 0) + 1);
  }

  function clearResults() {
    state.next = null;
    $("results").replaceChildren();
    $("facets").replaceChildren();
    show($("summary"), false);
    show($("empty"), false);
    show($("next"), false);
    show($("previous"), false);
  }

  function render(body) {
    const facets = body.facets || {};
    // The site each result comes from matters when there are several.
    const severalSites = (facets.source || []).length > 1 || state.filters.source.length > 0;
    $("results").replaceChildren(...body.hits.map((hit) => renderHit(hit, severalSites)));
    state.next = body.next_cursor || null;
    show($("next"), Boolean(state.next));
    show($("previous"), state.page > 1);
    $("previous").textContent = state.trail ? "Previous page" : "First page";
    const first = (state.page - 1) * PAGE_SIZE + 1;
    const last = first + body.hits.length - 1;
    const range = body.hits.length && body.total > body.hits.length ? ", showing " + first + "–" + last : "";
    $("summary").textContent = body.total + (body.total === 1 ? " result" : " results") + range;
    show($("summary"), body.total > 0);
    show($("empty"), body.total === 0);
    renderFacets(facets);
  }

  function productName(product) { return nameOf("product", product); }

  function renderHit(hit, severalSites) {
    // The title opens the preview; the site's own page is a link beside it.
    const title = el("button", { type: "button", class: "title", "aria-haspopup": "dialog" });
    // title_html and snippet_html are escaped by the server, with <mark> around matches: the only HTML inserted.
    title.innerHTML = hit.title_html;
    title.addEventListener("click", () => openPreview({ source: hit.source, id: hit.id }));
    const meta = el("div", { class: "meta" }, [kindOf(hit)]);
    meta.append(...glance(hit, null));
    if (severalSites) meta.append(el("span", { class: "site", text: "Site " + hit.source }));
    if (hit.author_name) meta.append(el("span", { class: "author", text: "By " + hit.author_name }));
    if (hit.updated) meta.append(el("span", { class: "updated" }, ["Updated ", timeOf(hit.updated)]));
    const href = safeHref(hit.url);
    if (href && !demoMode) {
      const link = el("a", { href, rel: "noopener noreferrer", target: "_blank", text: "Open in " + productName(hit.product) + " ↗" });
      meta.append(el("span", { class: "open" }, [link]));
    }
    const item = el("li", { class: "hit", "data-id": hit.id, "data-source": hit.source }, [title, meta]);
    if (hit.snippet_html) {
      const snippet = el("p", { class: "snippet" });
      snippet.innerHTML = hit.snippet_html;
      item.append(snippet);
    }
    if (hit.labels && hit.labels.length) item.append(labelList(hit.labels));
    return item;
  }

  // What a result is: its kind, or an issue's type ("Bug").
  function kindOf(doc) {
    const text = doc.kind === "issue" && doc.issue_type ? doc.issue_type : nameOf("kind", doc.kind);
    return el("span", { class: "kind", "data-kind": doc.kind, text });
  }

  // Where a document sits and how an issue stands, as spans of a meta line: a Confluence document's space
  // name and the pages above it that the reader may open (each a link when `open` is given, which previews
  // it); a Jira document's project or issue key, an issue's status and assignee.
  function glance(doc, open) {
    const out = [];
    if (doc.product === "confluence" || doc.space) {
      const where = el("span", { class: "where" });
      const steps = [doc.space_name || (doc.space ? "Space " + doc.space : null)].filter(Boolean);
      where.append(...steps);
      for (const crumb of doc.breadcrumb || []) {
        const step = open ? el("a", { href: previewHref({ source: doc.source, id: crumb.id }), text: crumb.title }) : crumb.title;
        if (open) step.addEventListener("click", (event) => { event.preventDefault(); open({ source: doc.source, id: crumb.id }); });
        where.append(where.childNodes.length ? " › " : "", step);
      }
      if (where.childNodes.length) out.push(where);
    } else if (doc.project || doc.issue_key) {
      // An issue's key is in its title; a comment's or attachment's tells which issue it belongs to.
      const key = doc.kind !== "issue" && doc.issue_key ? doc.issue_key : null;
      out.push(el("span", { class: "where", text: key || "Project " + doc.project }));
    }
    if (doc.status) {
      out.push(el("span", {}, [el("span", { class: "status", "data-category": doc.status_category || "", text: doc.status })]));
    }
    if (doc.assignee_name) out.push(el("span", { class: "assignee", text: "Assigned to " + doc.assignee_name }));
    else if (doc.unassigned) out.push(el("span", { class: "assignee", text: "Unassigned" }));
    return out;
  }

  // The link that previews a document (in place of the one open), keeping the search.
  function previewHref(ref) {
    return "/?" + searchPart().toString() + "&preview=" + encodeURIComponent(ref.source + ":" + ref.id);
  }

  function labelList(labels) {
    return el("ul", { class: "labels", "aria-label": "Labels" }, labels.map((label) => el("li", { text: label })));
  }

  // "3 days ago", the exact time on hover.
  function timeOf(iso) {
    return el("time", { datetime: iso, title: formatTime(iso), text: relativeTime(iso) });
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
    for (const [name, label] of FACETS) {
      const counts = facets[name] || [];
      // One site is no choice: its facet shows only when there are several (or one is chosen).
      if (!counts.length || (name === "source" && counts.length < 2 && !state.filters.source.length)) continue;
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
    firstPage();
    pushUrl();
    showSearch();
  }

  function nextPage() {
    if (!state.next) return;
    state.trail = state.trail ? [...state.trail, state.next] : null;
    state.page += 1;
    state.after = state.next;
    state.preview = null;
    pushUrl();
    showSearch().then(() => window.scrollTo(0, 0));
  }

  function previousPage() {
    if (state.trail && state.page > 2) {
      state.trail = state.trail.slice(0, -1);
      state.page -= 1;
      state.after = state.trail[state.page - 1];
    } else {
      firstPage();
    }
    state.preview = null;
    pushUrl();
    showSearch().then(() => window.scrollTo(0, 0));
  }

  // ----- The preview: a result's indexed text, as the caller may read it, beside a link to the site.

  // Where focus goes back to when the preview closes, and which answer is awaited (a later one wins).
  let returnFocus = null;
  let previewAsked = 0;

  function openPreview(ref) {
    returnFocus = document.activeElement;
    state.preview = ref;
    pushUrl(true);
    syncPreview();
  }

  // Opens, refreshes or closes the dialog as the state says.
  function syncPreview() {
    const dialog = $("preview");
    if (!state.preview) {
      if (dialog.open) dialog.close();
      return;
    }
    const same = dialog.open && dialog.dataset.source === state.preview.source && dialog.dataset.id === state.preview.id;
    if (!same) loadPreview(state.preview);
  }

  // The dialog was closed (Close, Escape, or the state): leave the preview's history entry.
  function onPreviewClosed() {
    if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
    returnFocus = null;
    if (!state.preview) return;
    state.preview = null;
    if (history.state && history.state.opened) history.back(); else replaceUrl();
  }

  async function loadPreview(ref) {
    const asked = ++previewAsked;
    const dialog = $("preview");
    dialog.dataset.source = ref.source;
    dialog.dataset.id = ref.id;
    dialog.dataset.state = "loading";
    $("preview-title").textContent = "Loading…";
    $("preview-meta").replaceChildren();
    $("preview-links").replaceChildren();
    $("preview-text").replaceChildren();
    show($("preview-missing"), false);
    show($("preview-more"), false);
    if (!dialog.open) dialog.showModal();
    const path = "/api/v1/documents/" + encodeURIComponent(ref.source) + "/" + encodeURIComponent(ref.id);
    const result = await call("GET", path, token());
    if (asked !== previewAsked) return;
    if (result.ok) {
      renderPreview(result.body);
      dialog.dataset.state = "loaded";
    } else if (result.status === 404) {
      $("preview-title").textContent = "Not found";
      show($("preview-missing"), true);
      dialog.dataset.state = "missing";
    } else {
      $("preview-title").textContent = "The preview failed";
      $("preview-text").textContent = errorText(result);
      dialog.dataset.state = "error";
    }
    document.body.dataset.previews = String(Number(document.body.dataset.previews || 0) + 1);
  }

  function renderPreview(doc) {
    $("preview-title").textContent = doc.title || doc.id;
    const meta = $("preview-meta");
    meta.append(kindOf(doc));
    // What it sits in, previewed in turn (in place of this one).
    const open = (ref) => {
      state.preview = ref;
      replaceUrl();
      syncPreview();
    };
    meta.append(...glance(doc, open));
    const inBreadcrumb = (doc.breadcrumb || []).some((crumb) => crumb.id === doc.container);
    if (doc.container_title && !inBreadcrumb) {
      const ref = { source: doc.source, id: doc.container };
      const parent = el("a", { href: previewHref(ref), text: doc.container_title });
      parent.addEventListener("click", (event) => {
        event.preventDefault();
        open(ref);
      });
      meta.append(el("span", { class: "container" }, ["In ", parent]));
    }
    if (doc.author_name) meta.append(el("span", { text: "By " + doc.author_name }));
    if (doc.updated) meta.append(el("span", {}, ["Updated ", timeOf(doc.updated)]));
    const links = $("preview-links");
    const href = safeHref(doc.url);
    if (demoMode) {
      links.append("This demo's site is simulated, and its own pages ask for the simulator's credentials: the indexed text is shown here instead.");
    } else if (href) {
      links.append(el("a", { href, rel: "noopener noreferrer", target: "_blank", class: "button", text: "Open in " + productName(doc.product) + " ↗" }));
    }
    if (doc.labels && doc.labels.length) links.append(labelList(doc.labels));
    $("preview-text").textContent = doc.text || "(This document has no text: it is found by its title.)";
    show($("preview-more"), doc.text_truncated);
  }

  // Keyboard: "/" focuses the box; arrows move through results (from the box too); Enter opens the
  // focused result's preview, as its button does.
  function onKey(event) {
    if ($("preview").open) return;
    const typing = event.target.closest && event.target.closest("input, select, textarea");
    if (event.key === "/" && !typing) {
      event.preventDefault();
      $("q").focus();
      $("q").select();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    if (typing && event.target !== $("q")) return;
    const titles = [...document.querySelectorAll("#results .hit .title")];
    if (!titles.length) return;
    const at = titles.indexOf(document.activeElement);
    let next;
    if (event.key === "ArrowDown") next = at < 0 ? 0 : Math.min(at + 1, titles.length - 1);
    else if (at <= 0) { if (at === 0) { event.preventDefault(); $("q").focus(); } return; }
    else next = at - 1;
    event.preventDefault();
    for (const hit of document.querySelectorAll("#results .hit")) hit.classList.remove("active");
    titles[next].closest(".hit").classList.add("active");
    titles[next].focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      state.q = $("q").value.trim();
      for (const [name] of FACETS) state.filters[name] = [];
      firstPage();
      pushUrl();
      showSearch();
    });
    for (const id of ["sort", "since"]) {
      $(id).addEventListener("change", () => {
        state[id] = $(id).value;
        firstPage();
        pushUrl();
        showSearch();
      });
    }
    window.addEventListener("popstate", () => {
      readUrl();
      // Only the preview changed: the results stay.
      if (searchPart().toString() === shown) syncPreview(); else showSearch();
    });
    document.addEventListener("keydown", onKey);
    $("next").addEventListener("click", nextPage);
    $("previous").addEventListener("click", previousPage);
    $("preview-close").addEventListener("click", () => $("preview").close());
    $("preview").addEventListener("close", onPreviewClosed);
    // body[data-signin=ready] tells scripts (and tests) the sign-in controls are in place.
    readUrl();
    // The entry we arrived on keeps its trail, so "Previous page" works after a reload.
    replaceUrl();
    setUpSignIn().then(() => {
      document.body.dataset.signin = "ready";
      showSearch();
    });
  });
})();
