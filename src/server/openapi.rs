//! The OpenAPI 3 description of permdex's HTTP API, served at `GET /api/v1/openapi.json`.
//!
//! Written by hand as JSON: the API is small, and a description read next to the handlers is easier to keep
//! honest than one generated through macros. A test holds it to the router: every route is described and
//! every described operation is a route (see `tests` below and `tests/it/server.rs`).
//!
//! This file describes the API; it does not serve the Atlassian simulator's API or any other.

use axum::http::Method;
use axum::routing::get;
use axum::Json;
use serde_json::{json, Value};

use super::Route;

pub(super) fn routes() -> Vec<Route> {
    vec![Route::new(Method::GET, "/api/v1/openapi.json", get(openapi_json))]
}

async fn openapi_json() -> Json<Value> {
    Json(document())
}

fn error_responses(codes: &[u16]) -> Value {
    let mut responses = serde_json::Map::new();
    for code in codes {
        let description = match code {
            400 => "Bad request or query (`bad_request`, `bad_query`)",
            401 => "Missing, invalid or expired credential, or an unknown user (`unauthorized`)",
            403 => "Valid credential without the right (`forbidden`)",
            404 => "No such source, no such document the caller may read, or not in demo mode for the demo route (`not_found`)",
            409 => "A sync or purge of the source is running, the name is in use, or the configuration cannot take the change: the only source, a file that does not parse (`conflict`)",
            413 => "Body too large (`payload_too_large`)",
            _ => "Error",
        };
        responses.insert(
            code.to_string(),
            json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
    }
    Value::Object(responses)
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

fn query_param(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn repeated(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description,
           "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": true})
}

fn name_param() -> Value {
    json!({"name": "name", "in": "path", "required": true, "description": "Source name from permdex.toml",
           "schema": {"type": "string"}})
}

/// The whole description.
pub fn document() -> Value {
    let admin = json!([{"adminKey": []}]);
    // Built apart: one `json!` for the whole document would pass the macro's recursion limit.
    let token_replaced = json!({
        "type": "object", "required": ["persisted", "detail"], "properties": {
            "persisted": {"type": "boolean", "description": "Written to the token file the source reads at start"},
            "detail": {"type": "string", "description": "Where it was written, or why it could not be (a token from an environment variable) and what to do"}
        }
    });
    let connection_check = json!({
        "type": "object", "required": ["source", "passed", "capabilities", "unknown_keys"], "properties": {
            "source": {"type": "string"},
            "passed": {"type": "boolean", "description": "No capability failed and every scope key is on the site"},
            "capabilities": {"type": "array", "items": {"type": "object", "required": ["product", "name", "call", "outcome"], "properties": {
                "product": {"type": "string"}, "name": {"type": "string"}, "call": {"type": "string"},
                "outcome": {"type": "string", "enum": ["ok", "skipped", "failed"]},
                "detail": {"type": "string", "description": "Why it was skipped, or what to do about a failure"}
            }}},
            "unknown_keys": {"type": "array", "items": {"type": "string"}},
            "error": {"type": "string", "description": "Why the check itself could not run or finish"}
        }
    });
    let progress_schema = json!({"type": "object", "description": "The run going on now: phase, documents seen, rate and seconds so far; the kind being read now with its expected total and seconds left where the site can say", "properties": {
        "phase": {"type": "string"}, "done": {"type": "integer"}, "per_second": {"type": "number"}, "seconds": {"type": "integer"},
        "kind": {"type": "string", "description": "product:kind being read, e.g. jira:issue"},
        "kind_done": {"type": "integer"},
        "kind_total": {"type": "integer", "description": "Expected documents of this kind (an estimate); absent when unknown"},
        "eta_seconds": {"type": "integer", "description": "Seconds left for this kind at its current rate; absent when the total is unknown"}
    }});
    let served_schema = json!({"type": "object", "description": "What the index holds now and how fresh its permissions are, apart from the last runs", "properties": {
        "name": {"type": "string"}, "generation": {"type": "integer"},
        "permissions_refreshed": {"type": "string", "format": "date-time"},
        "max_permission_age_secs": {"type": "integer"},
        "withheld": {"type": "string", "description": "Why the source's documents are not served now"},
        "indexed": {"type": "object", "properties": {
            "total": {"type": "integer"}, "unreadable": {"type": "integer"},
            "by_kind": {"type": "object", "additionalProperties": {"type": "integer"}}
        }}
    }});
    let user = json!([{"bearer": []}]);
    // Space name and breadcrumb, or the key, type, status and assignee: in hits and documents.
    let glance = json!({
        "space_name": {"type": "string", "description": "Confluence: the space's name (space is its key)"},
        "breadcrumb": {"type": "array", "description": "Confluence: the pages above the document (for a comment or attachment, up to the page it belongs to), root first; only those the caller may read", "items": {
            "type": "object", "required": ["id", "title"], "properties": {"id": {"type": "string"}, "title": {"type": "string"}}
        }},
        "issue_key": {"type": "string", "description": "Jira: the issue's key (for a comment or attachment, its issue's)"},
        "issue_type": {"type": "string", "description": "Jira issues: the issue type as the site names it"},
        "status": {"type": "string", "description": "Jira issues: the status as the site names it"},
        "status_category": {"type": "string", "description": "Jira issues: the status's category: new (to do), indeterminate (in progress) or done"},
        "assignee_name": {"type": "string", "description": "Jira issues: the assignee's display name"},
        "unassigned": {"type": "boolean", "description": "Jira issues: present and true when the issue is assigned to nobody"}
    });
    let with_glance = |mut schema: serde_json::Value| {
        if let (Some(properties), Some(extra)) = (schema["properties"].as_object_mut(), glance.as_object()) {
            properties.extend(extra.clone());
        }
        schema
    };
    let document_schema = json!({"type": "object", "required": ["source", "id", "product", "kind", "title", "text", "text_truncated", "labels", "url"], "properties": {
        "source": {"type": "string"}, "id": {"type": "string"}, "product": {"type": "string", "enum": ["confluence", "jira"]}, "kind": {"type": "string"},
        "title": {"type": "string"}, "text": {"type": "string", "description": "The indexed text, plain"},
        "text_truncated": {"type": "boolean", "description": "The text goes on past what is given"},
        "space": {"type": "string"}, "project": {"type": "string"},
        "container": {"type": "string", "description": "The id of what the document sits in"},
        "container_title": {"type": "string", "description": "Its title, when the caller may read it"},
        "labels": {"type": "array", "items": {"type": "string"}}, "author_name": {"type": "string"},
        "url": {"type": "string", "description": "The document on the Atlassian site"},
        "created": {"type": "string", "format": "date-time"}, "updated": {"type": "string", "format": "date-time"}
    }});
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "permdex",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Permission-aware search over Confluence and Jira. Every search answers only with what the caller may read in Atlassian."
        },
        "paths": {
            "/healthz": {"get": {
                "summary": "Liveness", "operationId": "healthz", "security": [],
                "responses": {"200": {"description": "Serving", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}}}
            }},
            "/readyz": {"get": {
                "summary": "Readiness: every source's index is open and trusted (ACL store, state, segment checksums)", "operationId": "readyz", "security": [],
                "responses": {
                    "200": {"description": "Ready", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}},
                    "503": {"description": "Not ready", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}}
                }
            }},
            "/metrics": {"get": {
                "summary": "Prometheus metrics (text exposition format); needs the metrics key when server.metrics_key_env is set", "operationId": "metrics", "security": [{}, {"metricsKey": []}],
                "responses": merge(
                    json!({"200": {"description": "Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}),
                    error_responses(&[401])
                )
            }},
            "/api/v1/openapi.json": {"get": {
                "summary": "This description", "operationId": "openapi", "security": [],
                "responses": {"200": {"description": "OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }},
            "/api/v1/search": {"get": {
                "summary": "Search what the caller may read",
                "operationId": "search",
                "security": user,
                "parameters": [
                    query_param("q", "Query as people type it: bare words ranked by BM25 (any may match; stop words dropped); +term, \"phrases\", AND/OR/NOT, -term, parentheses and field prefixes title: space: project: kind: label: author: product: filter; Jira keys match whole; a sentence is read as text", json!({"type": "string"})),
                    repeated("source", "Only documents from these configured sources (by name): the `source` field of hits"),
                    repeated("product", "Only documents from these products (confluence, jira): the `product` field of hits and facets"),
                    repeated("kind", "Only these kinds (page, blogpost, comment, attachment, issue)"),
                    repeated("space", "Only these Confluence space keys"),
                    repeated("project", "Only these Jira project keys"),
                    repeated("label", "Only documents with one of these labels"),
                    query_param("updated_from", "Updated at or after (RFC 3339 or YYYY-MM-DD)", json!({"type": "string"})),
                    query_param("updated_to", "Updated at or before (RFC 3339 or YYYY-MM-DD, a date includes the whole day)", json!({"type": "string"})),
                    query_param("sort", "Order", json!({"type": "string", "enum": ["relevance", "updated"], "default": "relevance"})),
                    query_param("offset", "Hits to skip (not with cursor). Each source ranks offset + limit hits, so offset + limit may be at most 10000 when one source is searched and 1000 across several (else 400); the cursor pages deeper", json!({"type": "integer", "minimum": 0, "default": 0})),
                    query_param("limit", "Hits per page", json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 20})),
                    query_param("cursor", "next_cursor of the previous page (not with offset), with the same q, filters, sort and source; it pages across every source searched, in the same merged order, one search per source however deep. A cursor that is garbled or belongs to another search is a 400", json!({"type": "string"})),
                    query_param("facets", "Count matches by source, product, kind, space and project", json!({"type": "boolean", "default": false})),
                    query_param("snippets", "Highlighted snippets of the body", json!({"type": "boolean", "default": false}))
                ],
                "responses": merge(
                    json!({"200": {"description": "Results", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SearchResults"}}}}}),
                    error_responses(&[400, 401, 403])
                )
            }},
            "/api/v1/documents/{source}/{id}": {"get": {
                "summary": "One document's indexed text, as the caller may read it (the search page's preview)",
                "description": "The same permission check as a search. A document that does not exist and one the caller may not read get the same 404, as do an unknown source and one that does not know the caller or whose documents are withheld. The text is cut at a word boundary after 50,000 characters (text_truncated).",
                "operationId": "document",
                "security": user,
                "parameters": [
                    {"name": "source", "in": "path", "required": true, "description": "The hit's source", "schema": {"type": "string"}},
                    {"name": "id", "in": "path", "required": true, "description": "The hit's id", "schema": {"type": "string"}}
                ],
                "responses": merge(
                    json!({"200": {"description": "The document", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Document"}}}}}),
                    error_responses(&[401, 403, 404])
                )
            }},
            "/api/v1/admin/sources": {"get": {
                "summary": "Sources, their products and their last runs (never a token)",
                "operationId": "listSources",
                "security": admin,
                "responses": merge(
                    json!({"200": {"description": "Sources", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/SourceStatus"}}}}}}),
                    error_responses(&[401, 403])
                )
            }, "post": {
                "summary": "Add a source to the configuration file (its token to a new owner-only file beside it) and serve it at once, without a restart",
                "description": "The file's comments and layout are kept. The new source is checked by the file's own rules first; nothing is written when it breaks one. Once written, the file is loaded again as a restart would load it, and the running server takes the source from it: it is listed here at once, its first full sync starts (unless `start_sync` is false), it is synced on its schedule when the server runs schedules, and it is searched as its first commit lands, each caller with the principals the source's own directory gives them. When the server cannot take it, the file stays written and `restart_required` is true, `detail` saying why. Removing a source is live too (DELETE /api/v1/admin/sources/{name}); changing a source's other settings in the file takes a restart.",
                "operationId": "addSource",
                "security": admin,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["name", "url", "email", "token"], "properties": {
                        "name": {"type": "string"}, "url": {"type": "string"}, "email": {"type": "string"},
                        "token": {"type": "string", "writeOnly": true},
                        "confluence": {"type": "boolean", "default": true}, "jira": {"type": "boolean", "default": true},
                        "include_spaces": {"type": "array", "items": {"type": "string"}, "description": "Space keys; none: every space the token can see"},
                        "include_projects": {"type": "array", "items": {"type": "string"}, "description": "Project keys; none: every project the token can see"},
                        "start_sync": {"type": "boolean", "default": true, "description": "Start the source's first (full) sync at once; otherwise it is synced when asked or at its schedule's first run, one interval from now"}
                    }
                }}}},
                "responses": merge(
                    json!({"201": {"description": "Written, and served now unless `restart_required`", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["name", "config_file", "token_file", "warnings", "restart_required", "sync_started", "detail"], "properties": {
                            "name": {"type": "string"}, "config_file": {"type": "string"}, "token_file": {"type": "string"},
                            "warnings": {"type": "array", "items": {"type": "string"}},
                            "restart_required": {"type": "boolean", "description": "The running server could not take the source (`detail` says why): it is synced and searched after a restart"},
                            "sync_started": {"type": "boolean", "description": "The source's first full sync is running"},
                            "detail": {"type": "string", "description": "What happens now"}
                        }
                    }}}}}),
                    error_responses(&[400, 401, 403, 409, 413])
                )
            }},
            "/api/v1/admin/discover": {"post": {
                "summary": "The spaces and projects a token can see on a site, and which products the site has for it",
                "description": "A few listing calls to the site. Refused credentials or a site that cannot be reached answer 200 with `error` saying why.",
                "operationId": "discoverSite",
                "security": admin,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["url", "email", "token"], "properties": {
                        "url": {"type": "string"}, "email": {"type": "string"}, "token": {"type": "string", "writeOnly": true}
                    }
                }}}},
                "responses": merge(
                    json!({"200": {"description": "What the token sees", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["confluence", "jira", "spaces", "projects"], "properties": {
                            "confluence": {"type": "boolean"}, "jira": {"type": "boolean"},
                            "spaces": {"type": "array", "items": {"$ref": "#/components/schemas/ScopeItem"}},
                            "projects": {"type": "array", "items": {"$ref": "#/components/schemas/ScopeItem"}},
                            "problems": {"type": "array", "items": {"type": "string"}},
                            "error": {"type": "string", "description": "Why nothing could be listed, and what to do"}
                        }
                    }}}}}),
                    error_responses(&[400, 401, 403, 413])
                )
            }},
            "/api/v1/admin/sources/{name}": {"delete": {
                "summary": "Remove the source: from the configuration file and the running server, without a restart",
                "description": "The source's table leaves the configuration file (written atomically, every other line kept), its running sync is cancelled (recorded as cancelled), its schedule stops, it is no longer listed, and none of its documents is returned by any search or document request from the moment this is answered: searches already running when the source stopped being served are answered first. `data` says what becomes of its index directory, run records and token file (a token file another source reads is kept; a token from an environment variable is not touched); it is required, because a bare DELETE here used to delete the source's documents only (now DELETE /api/v1/admin/sources/{name}/documents), and such a request gets a 400 saying so. 409 when the source is the only one (a configuration needs one) or the file cannot be changed (it does not parse, or writes sources another way): nothing is changed then.",
                "operationId": "removeSource",
                "security": admin,
                "parameters": [name_param(), {"name": "data", "in": "query", "required": true,
                    "description": "keep: the source's index, run records and token file stay (a source of the same name added again takes the index up); delete: they are deleted once its sync has stopped",
                    "schema": {"type": "string", "enum": ["keep", "delete"]}}],
                "responses": merge(
                    json!({"200": {"description": "Removed: no longer served", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["name", "config_file", "removed_from_file", "sync_cancelled", "data", "deleted", "detail"], "properties": {
                            "name": {"type": "string"}, "config_file": {"type": "string"},
                            "removed_from_file": {"type": "boolean", "description": "The file still named the source (false: it had been taken out by hand)"},
                            "sync_cancelled": {"type": "boolean", "description": "A sync of the source was running and was cancelled"},
                            "data": {"type": "string", "enum": ["kept", "deleted"]},
                            "deleted": {"type": "array", "items": {"type": "string"}, "description": "Paths deleted; empty with data=keep, or while the cancelled sync is still stopping (detail says so)"},
                            "detail": {"type": "string", "description": "What happened and what is left to do"}
                        }
                    }}}}}),
                    error_responses(&[400, 401, 403, 404, 409])
                )
            }, "patch": {
                "summary": "Change the source's sync schedule, in the configuration file and the running server, without a restart",
                "description": "Any of interval, permissions_interval and full_interval, each a duration as the file writes it (\"30m\", \"6h\", \"7d\") or \"off\". The keys are set in the source's table (comments kept); the file is loaded again by the rules of a restart and written atomically only when it loads (else 400 with every problem, nothing written). The running server then syncs the source on the new schedule (a run going on finishes first). Any other key of a source takes an edit of the file and a restart: 400, nothing written. `restart_required` is true when this server runs no schedules: the new schedule applies when permdex serve starts.",
                "operationId": "changeSource",
                "security": admin,
                "parameters": [name_param()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "minProperties": 1, "additionalProperties": false, "properties": {
                        "interval": {"type": "string", "description": "Incremental syncs, e.g. 15m, or off"},
                        "permissions_interval": {"type": "string", "description": "Permission refreshes, e.g. 5m, or off"},
                        "full_interval": {"type": "string", "description": "Full syncs, e.g. 7d, or off"}
                    }
                }}}},
                "responses": merge(
                    json!({"200": {"description": "Written, and taken by the running server unless `restart_required`", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["name", "config_file", "schedule", "restart_required", "detail"], "properties": {
                            "name": {"type": "string"}, "config_file": {"type": "string"},
                            "schedule": {"$ref": "#/components/schemas/Schedule"},
                            "restart_required": {"type": "boolean", "description": "This server runs no schedules: the new one applies when permdex serve starts"},
                            "detail": {"type": "string", "description": "What happens now"}
                        }
                    }}}}}),
                    error_responses(&[400, 401, 403, 404, 409, 413])
                )
            }},
            "/api/v1/admin/sources/{name}/documents": {"delete": {
                "summary": "Delete every document of the source from the index, permanently; the source stays configured and its next sync starts from nothing",
                "operationId": "purgeSource",
                "security": admin,
                "parameters": [name_param()],
                "responses": merge(json!({"204": {"description": "Purged"}}), error_responses(&[401, 403, 404, 409]))
            }},
            "/api/v1/admin/sources/{name}/sync": {"post": {
                "summary": "Start an incremental sync in the background",
                "operationId": "startSync",
                "security": admin,
                "parameters": [name_param()],
                "responses": merge(
                    json!({"202": {"description": "Started", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SyncStarted"}}}}}),
                    error_responses(&[401, 403, 404, 409])
                )
            }},
            "/api/v1/admin/sources/{name}/check": {"post": {
                "summary": "Test connection: the checks of `permdex check` with the source's current token",
                "description": "About a dozen calls to the site: one line per capability the crawler depends on, with what to do on failure, and the include/exclude keys the site does not have. 200 whatever the checks found.",
                "operationId": "checkSource",
                "security": admin,
                "parameters": [name_param()],
                "responses": merge(
                    json!({"200": {"description": "What the checks found", "content": {"application/json": {"schema": connection_check}}}}),
                    error_responses(&[401, 403, 404])
                )
            }},
            "/api/v1/admin/sources/{name}/token": {"put": {
                "summary": "Replace the source's API token (used from the next sync on; written to the source's token file when it has one; never echoed)",
                "operationId": "replaceToken",
                "security": admin,
                "parameters": [name_param()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["token"], "properties": {"token": {"type": "string", "writeOnly": true}}
                }}}},
                "responses": merge(json!({"200": {"description": "Replaced; whether it survives a restart", "content": {"application/json": {"schema": token_replaced}}}}), error_responses(&[400, 401, 403, 404, 413]))
            }},
            "/api/v1/demo/users": {"get": {
                "summary": "Demo mode only (`permdex demo`): users anyone may sign in as, with their bearer tokens",
                "description": "Answers 404 unless the server was started by `permdex demo`, whose data is simulated. The web search page offers these users in a picker.",
                "operationId": "demoUsers",
                "security": [],
                "responses": merge(
                    json!({"200": {"description": "Demo users", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/DemoUser"}}}}}}),
                    error_responses(&[404])
                )
            }}
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A JWT (sub = Atlassian accountId) or a static API key"},
                "adminKey": {"type": "http", "scheme": "bearer", "description": "The admin key"},
                "metricsKey": {"type": "http", "scheme": "bearer", "description": "The metrics key (server.metrics_key_env)"}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string", "enum": ["bad_request", "bad_query", "unauthorized", "forbidden", "not_found", "method_not_allowed", "conflict", "payload_too_large", "too_many_requests", "timeout", "internal"]},
                        "message": {"type": "string"}
                    }
                }}},
                "Status": {"type": "object", "required": ["status"], "properties": {
                    "status": {"type": "string", "enum": ["ok", "ready", "not_ready"]},
                    "reason": {"type": "string", "description": "Why not ready (a source and what is wrong with its index)"}
                }},
                "SearchResults": {"type": "object", "required": ["total", "hits"], "properties": {
                    "total": {"type": "integer", "description": "Matches the caller may read (exact)"},
                    "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
                    "facets": {"$ref": "#/components/schemas/Facets"},
                    "next_cursor": {"type": "string", "description": "Pass as cursor for the next page; absent on the last page"},
                    "withheld": {"type": "array", "description": "Sources the caller is known in whose documents are not served now, and why", "items": {
                        "type": "object", "required": ["source", "reason"], "properties": {"source": {"type": "string"}, "reason": {"type": "string"}}
                    }}
                }},
                "Document": with_glance(document_schema),
                "Hit": with_glance(json!({"type": "object", "required": ["source", "id", "product", "kind", "title", "title_html", "labels", "url", "score"], "properties": {
                    "source": {"type": "string", "description": "Configured source (site) name; ids are unique within one source"},
                    "id": {"type": "string"}, "product": {"type": "string", "enum": ["confluence", "jira"]}, "kind": {"type": "string"},
                    "title": {"type": "string"}, "title_html": {"type": "string"}, "snippet_html": {"type": "string"},
                    "space": {"type": "string"}, "project": {"type": "string"}, "container": {"type": "string"},
                    "labels": {"type": "array", "items": {"type": "string"}}, "author_name": {"type": "string"},
                    "url": {"type": "string"}, "updated": {"type": "string", "format": "date-time"}, "score": {"type": "number"}
                }})),
                "Facets": {"type": "object", "properties": {
                    "source": {"$ref": "#/components/schemas/FacetCounts"},
                    "product": {"$ref": "#/components/schemas/FacetCounts"}, "kind": {"$ref": "#/components/schemas/FacetCounts"},
                    "space": {"$ref": "#/components/schemas/FacetCounts"}, "project": {"$ref": "#/components/schemas/FacetCounts"}
                }},
                "ScopeItem": {"type": "object", "required": ["key", "name", "archived"], "properties": {
                    "key": {"type": "string"}, "name": {"type": "string"}, "archived": {"type": "boolean"}
                }},
                "FacetCounts": {"type": "array", "items": {"type": "object", "required": ["value", "count"], "properties": {
                    "value": {"type": "string"}, "count": {"type": "integer"}
                }}},
                "DemoUser": {"type": "object", "required": ["account_id", "display_name", "description", "token"], "properties": {
                    "account_id": {"type": "string"}, "display_name": {"type": "string"},
                    "description": {"type": "string", "description": "What this user can see"},
                    "token": {"type": "string", "description": "A bearer token (JWT) for this user"},
                    "example": {"type": "string", "description": "A word that finds something this user may read (empty: none)"}
                }},
                "SyncStarted": {"type": "object", "required": ["source", "status"], "properties": {
                    "source": {"type": "string"}, "status": {"type": "string"}
                }},
                "SourceStatus": {"type": "object", "required": ["name", "url", "products", "sync_running", "schedule", "last_runs"], "properties": {
                    "name": {"type": "string"}, "url": {"type": "string"},
                    "products": {"type": "object", "properties": {"confluence": {"type": "boolean"}, "jira": {"type": "boolean"}}},
                    "sync_running": {"type": "boolean"},
                    "schedule": {"$ref": "#/components/schemas/Schedule"},
                    "integrity_problem": {"type": "string", "description": "Why the source's index cannot be trusted: it serves nothing until the next sync rebuilds it"},
                    "progress": progress_schema,
                    "served": served_schema,
                    "last_runs": {"type": "array", "items": {"$ref": "#/components/schemas/RunSummary"}}
                }},
                "Schedule": {"type": "object", "required": ["interval", "permissions_interval", "full_interval"], "description": "When permdex serve syncs the source: each interval as the configuration file writes it, or off", "properties": {
                    "interval": {"type": "string"}, "permissions_interval": {"type": "string"}, "full_interval": {"type": "string"}
                }},
                "RunSummary": {"type": "object", "properties": {
                    "run_id": {"type": "string"}, "mode": {"type": "string"},
                    "started": {"type": "string", "format": "date-time"}, "ended": {"type": "string", "format": "date-time"},
                    "outcome": {"type": "string", "enum": ["completed", "cancelled", "aborted"]}, "outcome_reason": {"type": "string"},
                    "counts": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}}},
                    "api_calls": {"type": "integer"}, "throttled": {"type": "integer"}, "failure_count": {"type": "integer"},
                    "failures": {"type": "array", "items": {"type": "object", "properties": {"item": {"type": "string"}, "reason": {"type": "string"}}}}
                }}
            }
        }
    })
}

/// The `(method, path)` pairs the document describes, sorted.
pub fn described_operations(document: &Value) -> Vec<(String, String)> {
    let mut operations = Vec::new();
    if let Some(paths) = document.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in item.as_object().into_iter().flat_map(|m| m.keys()) {
                operations.push((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    operations.sort();
    operations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_described_and_every_description_is_a_route() {
        let mut routes: Vec<(String, String)> = super::super::routes()
            .iter()
            .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
            .collect();
        routes.sort();
        assert_eq!(described_operations(&document()), routes);
    }

    #[test]
    fn every_reference_resolves() {
        let document = document();
        let text = document.to_string();
        let schemas = document["components"]["schemas"].as_object().unwrap();
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "dangling $ref to {name}");
        }
    }
}
