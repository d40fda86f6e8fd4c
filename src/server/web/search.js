// The search page: sign-in (token or demo user), query, facets, cursor pagination.
"use strict";

(() => {
  const { el, call, errorText, show, formatTime, safeHref } = permdex;
  const TOKEN_KEY = "permdex.token";
  const FACETS = [["product", "Product"], ["kind", "Kind"], ["space", "Space"], ["project", "Project"]];
  const PAGE_SIZE = 10;
  const $ = (id) => document.getElementById(id);

  // Current search: query text, selected facet values, and the cursor of the next page.
  const state = { q: "", filters: { product: [], kind: [], space: [], project: [] }, next: null };

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  async function setUpSignIn() {
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
    } else {
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

  function params(fresh) {
    const p = new URLSearchParams({ q: state.q, limit: String(PAGE_SIZE), facets: "true", snippets: "true" });
    for (const [name] of FACETS) for (const value of state.filters[name]) p.append(name, value);
    if (!fresh && state.next) p.set("cursor", state.next);
    return p;
  }

  async function search(fresh) {
    show($("error"), false);
    if (!token()) {
      $("error").textContent = "Sign in first: paste a bearer token.";
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
      el("span", { class: "kind", text: hit.kind }),
    ]);
    const where = hit.space ? "Space " + hit.space : hit.project ? "Project " + hit.project : null;
    if (where) meta.append(el("span", { class: "where", text: where }));
    if (hit.updated) meta.append(el("span", { class: "updated", text: "Updated " + formatTime(hit.updated) }));
    const item = el("li", { class: "hit", "data-id": hit.id }, [title, meta]);
    if (hit.snippet_html) {
      const snippet = el("p", { class: "snippet" });
      snippet.innerHTML = hit.snippet_html;
      item.append(snippet);
    }
    return item;
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
          el("span", { text: value }), el("span", { class: "count", text: String(count) }),
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
    search(true);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      state.q = $("q").value.trim();
      for (const [name] of FACETS) state.filters[name] = [];
      state.next = null;
      if (state.q) search(true); else clearResults();
    });
    $("next").addEventListener("click", () => search(false));
    setUpSignIn();
  });
})();
