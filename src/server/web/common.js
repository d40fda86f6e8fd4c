// Shared by the permdex pages: element building (text only, never HTML from data) and API calls.
"use strict";

const permdex = (() => {
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  // Calls the API with a bearer token, or (token null) with the browser's session cookie, repeating the
  // session's CSRF token on requests that change state; `json`, when given, is sent as the JSON body.
  // Resolves to {ok, status, body}; body is the parsed JSON or null.
  async function call(method, path, token, csrf, json) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    if (csrf) headers["X-CSRF-Token"] = csrf;
    const request = { method, headers, cache: "no-store", credentials: "same-origin" };
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      request.body = JSON.stringify(json);
    }
    let response;
    try {
      response = await fetch(path, request);
    } catch (e) {
      return { ok: false, status: 0, body: { error: { code: "network", message: "the server did not answer" } } };
    }
    let body = null;
    const text = await response.text();
    if (text) {
      try { body = JSON.parse(text); } catch (e) { body = null; }
    }
    return { ok: response.ok, status: response.status, body };
  }

  function errorText(result) {
    const message = result.body && result.body.error && result.body.error.message;
    return message || "request failed with status " + result.status;
  }

  function show(node, visible) { node.hidden = !visible; }

  function formatTime(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return isNaN(date) ? iso : date.toLocaleString();
  }

  // Only web links may become hrefs: a hit URL comes from the synced site.
  function safeHref(url) {
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (e) { return null; }
  }

  return { el, call, errorText, show, formatTime, safeHref };
})();
