-- Gatehouse's edge for people (docs/sign-in.md). Loaded by haproxy.cfg; HAProxy 2.6's Lua 5.3.
--   gh_refresh   an expired (or missing) session with a refresh cookie: one call to the bridge's
--                POST /auth/refresh through the loopback-only refresh frontend; the new session
--                replaces txn.session and the Cookie header, and its Set-Cookie lines are kept
--                for the answer (txn.set_cookie_N)
--   gh_decide    after the session verified: which Argo namespace and role, or Temporal namespace
--                and access, the request needs, against the grants Cedar put in the session
--   gh_cookies   removes every __Host-gh_* cookie before a request leaves for Argo or Temporal
--   gh_audit     one JSON line per unsafe request a person sends to Argo or Temporal (and per
--                refusal of one): principal, decision, upstream, method, path, status, trace id
--   gh_forbidden_page  the small HTML 403 a person's browser gets when a page navigation is
--                refused: what happened, who they are signed in as, a sign-out link (API and
--                XHR callers get the problem+json instead)
-- Nothing here reads a token's claims without HAProxy having verified its signature first, except
-- gh_refresh, which only decides whether to ask for a new session.

local refresh_address = os.getenv("EDGE_REFRESH_BIND")

local function cookie_headers(txn)
  local headers = txn.http:req_get_headers()["cookie"]
  local list = {}
  if headers ~= nil then
    for i = 0, #headers do
      if headers[i] ~= nil then list[#list + 1] = headers[i] end
    end
  end
  return list
end

-- The Cookie header(s) without our cookies (and, when given, with a new session cookie instead).
local function rewrite_cookies(txn, session)
  local kept = {}
  for _, header in ipairs(cookie_headers(txn)) do
    for pair in string.gmatch(header, "[^;]+") do
      local trimmed = pair:gsub("^%s+", ""):gsub("%s+$", "")
      if trimmed ~= "" and trimmed:sub(1, 10) ~= "__Host-gh_" then kept[#kept + 1] = trimmed end
    end
  end
  if session ~= nil then kept[#kept + 1] = "__Host-gh_session=" .. session end
  txn.http:req_del_header("cookie")
  if #kept > 0 then txn.http:req_set_header("cookie", table.concat(kept, "; ")) end
end

core.register_action("gh_refresh", { "http-req" }, function(txn)
  if refresh_address == nil then return end
  local refresh = txn.f:req_cook("__Host-gh_refresh")
  if refresh == nil or refresh == "" then return end
  local client = core.httpclient()
  local response = client:post({
    url = "http://" .. refresh_address .. "/auth/refresh",
    headers = {
      ["cookie"] = { "__Host-gh_refresh=" .. refresh },
      ["x-request-id"] = { txn:get_var("txn.request_id") or "" },
      ["traceparent"] = { txn:get_var("txn.traceparent") or "" },
    },
    timeout = 5000,
  })
  if response == nil or response.status == nil then return end
  local set_cookies = response.headers and response.headers["set-cookie"]
  local session = nil
  local n = 0
  if set_cookies ~= nil then
    for i = 0, 16 do
      local line = set_cookies[i]
      if line ~= nil then
        n = n + 1
        txn:set_var("txn.set_cookie_" .. n, line)
        local value = line:match("^__Host%-gh_session=([A-Za-z0-9_.-]+);")
        if value ~= nil and value ~= "" then session = value end
      end
    end
  end
  if response.status == 204 and session ~= nil then
    txn:set_var("txn.session", session)
    txn:set_var("txn.session_refreshed", 1)
    rewrite_cookies(txn, session)
  end
end, 0)

core.register_action("gh_cookies", { "http-req" }, function(txn)
  rewrite_cookies(txn, nil)
end, 0)

-- "ns:role ns:role" -> { ns = role }
local function parse_grants(text)
  local grants = {}
  local first = nil
  for entry in string.gmatch(text or "", "%S+") do
    local ns, role = entry:match("^([^:]+):(%a+)$")
    if ns ~= nil then
      grants[ns] = role
      first = first or entry
    end
  end
  return grants, first
end

local unsafe = { POST = true, PUT = true, PATCH = true, DELETE = true }
local argo_global = { info = true, version = true, userinfo = true }
local argo_namespaced = {
  workflows = true, ["workflow-templates"] = true, ["cron-workflows"] = true, ["workflow-events"] = true,
  ["event-sources"] = true, sensors = true, ["workflow-event-bindings"] = true, events = true,
}

local function decide(txn, decision, ns, role, reason)
  txn:set_var("txn.people_decision", decision)
  if ns ~= nil then txn:set_var("txn.people_ns", ns) end
  if role ~= nil then txn:set_var("txn.people_role", role) end
  if reason ~= nil then txn:set_var("txn.people_reason", reason) end
end

-- Argo: the namespace comes from the path (the API's namespaced resources, artifacts); view may
-- read, edit may also change. With identity=session only a session is needed: Kubernetes decides.
local function decide_argo(txn, path, method)
  if txn:get_var("txn.argo_identity") == "session" then return decide(txn, "allow", nil, "session", "kubernetes decides") end
  local grants, first = parse_grants(txn:get_var("txn.s_argo"))
  if first == nil then return decide(txn, "deny", nil, nil, "no argo namespace granted") end
  local resource, ns = path:match("^/api/v1/([a-z-]+)/([a-z0-9][-a-z0-9]*)")
  if resource == nil or not argo_namespaced[resource] then
    ns = path:match("^/artifact[a-z-]*/([a-z0-9][-a-z0-9]*)/") or path:match("^/input%-artifacts/([a-z0-9][-a-z0-9]*)/")
  end
  if ns == nil then
    local top = path:match("^/api/v1/([a-z-]+)")
    if path:sub(1, 5) == "/api/" and not (top ~= nil and argo_global[top] and not unsafe[method]) then
      return decide(txn, "deny", nil, nil, "not a namespaced argo path")
    end
    -- The UI's files and the global reads: the person's first grant picks the token.
    local gns, grole = first:match("^([^:]+):(%a+)$")
    txn:set_var("txn.argo_key", first)
    return decide(txn, "allow", gns, grole, "global")
  end
  local role = grants[ns]
  if role == nil then return decide(txn, "deny", ns, nil, "namespace not granted") end
  if unsafe[method] and role ~= "edit" then return decide(txn, "deny", ns, role, "read-only role") end
  txn:set_var("txn.argo_key", ns .. ":" .. role)
  return decide(txn, "allow", ns, role, "granted")
end

-- Temporal UI: /temporal/api/v1/namespaces/<ns>/... needs that namespace (write for a change);
-- other paths (the UI's files, cluster and namespace lists) need any grant, and admin to change.
local function decide_temporal(txn, path, method)
  local grants, first = parse_grants(txn:get_var("txn.s_temporal"))
  if first == nil then return decide(txn, "deny", nil, nil, "no temporal namespace granted") end
  local admin = grants["*"] == "write"
  local ns = path:match("^/temporal/api/v1/namespaces/([^/?]+)/")
  if ns == nil then
    if unsafe[method] and not admin then return decide(txn, "deny", nil, nil, "only admins change global settings") end
    return decide(txn, "allow", nil, admin and "admin" or "read", "global")
  end
  local access = admin and "write" or grants[ns]
  if access == nil then return decide(txn, "deny", ns, nil, "namespace not granted") end
  if unsafe[method] and access ~= "write" then return decide(txn, "deny", ns, access, "read-only access") end
  return decide(txn, "allow", ns, access, "granted")
end

core.register_action("gh_decide", { "http-req" }, function(txn, upstream)
  local path = txn.f:path() or "/"
  local method = txn.f:method()
  txn:set_var("txn.people_upstream", upstream)
  txn:set_var("txn.people_method", method)
  txn:set_var("txn.people_path", path)
  if upstream == "argo" then
    decide_argo(txn, path:sub(6), method) -- without the /argo prefix
  else
    decide_temporal(txn, path, method)
  end
end, 1)

local function json_string(value)
  if value == nil then return "null" end
  local escaped = tostring(value):gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. escaped .. '"'
end

local function audit(txn, status)
  local fields = {
    { "audit", "gatehouse.people" },
    { "principal", txn:get_var("txn.principal") },
    { "decision", txn:get_var("txn.people_decision") },
    { "reason", txn:get_var("txn.people_reason") },
    { "namespace", txn:get_var("txn.people_ns") },
    { "role", txn:get_var("txn.people_role") },
    { "upstream", txn:get_var("txn.people_upstream") },
    { "method", txn:get_var("txn.people_method") },
    { "path", txn:get_var("txn.people_path") },
    { "status", status },
    { "trace_id", txn:get_var("txn.trace_id") },
    { "request_id", txn:get_var("txn.request_id") },
  }
  local parts = {}
  for _, field in ipairs(fields) do
    local key, value = field[1], field[2]
    if type(value) == "number" then
      parts[#parts + 1] = json_string(key) .. ":" .. tostring(value)
    else
      parts[#parts + 1] = json_string(key) .. ":" .. json_string(value)
    end
  end
  txn:log(core.info, "{" .. table.concat(parts, ",") .. "}")
end

core.register_action("gh_audit_request", { "http-req" }, function(txn) audit(txn, nil) end, 0)
core.register_action("gh_audit", { "http-res" }, function(txn) audit(txn, txn.f:status()) end, 0)

-- The refusal page: every value from the request or the session is HTML-escaped (a name at the
-- IdP may hold markup), and the page loads nothing, so its CSP allows nothing but its own style.
local function html(value)
  return (tostring(value or ""):gsub("[&<>\"']", {
    ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;",
  }))
end

local reasons = {
  ["no argo namespace granted"] = "Your sign-in grants you no Argo namespace.",
  ["namespace not granted"] = "Your sign-in does not grant you this namespace.",
  ["read-only role"] = "Your sign-in lets you read this namespace, not change it.",
  ["read-only access"] = "Your sign-in lets you read this namespace, not change it.",
  ["not a namespaced argo path"] = "This Argo path is not one the edge lets people use.",
  ["no temporal namespace granted"] = "Your sign-in grants you no Temporal namespace.",
  ["only admins change global settings"] = "Only admins change Temporal's global settings.",
}

core.register_service("gh_forbidden_page", "http", function(applet)
  local upstream = applet:get_var("txn.people_upstream") == "temporal" and "the Temporal UI" or "Argo"
  local reason = reasons[applet:get_var("txn.people_reason") or ""] or "Your sign-in does not allow this."
  local name = applet:get_var("txn.s_name") or applet:get_var("txn.s_email")
  local principal = applet:get_var("txn.principal")
  local who = name ~= nil and (html(name) .. " (<code>" .. html(principal) .. "</code>)")
    or ("<code>" .. html(principal) .. "</code>")
  local body = table.concat({
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    "<title>Not allowed · Gatehouse</title>",
    "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}",
    "code{word-break:break-all}</style></head><body><main>",
    "<h1>Not allowed</h1>",
    "<p>You may not open <code>", html(applet:get_var("txn.people_path")), "</code> in ", upstream, ". ",
    reason, "</p>",
    "<p>You are signed in as ", who, ".</p>",
    "<p>If you need this, ask your Gatehouse administrator for a grant, quoting request <code>",
    html(applet:get_var("txn.request_id")), "</code> (GATEHOUSE_FORBIDDEN).</p>",
    '<p><a href="/auth/logout">Sign out</a> to sign in as someone else.</p>',
    "</main></body></html>\n",
  })
  applet:set_status(403, "Forbidden")
  applet:add_header("content-type", "text/html; charset=utf-8")
  applet:add_header("content-length", tostring(#body))
  applet:add_header("cache-control", "no-store")
  applet:add_header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
  applet:add_header("x-content-type-options", "nosniff")
  applet:start_response()
  applet:send(body)
end)
