-- Prosody for Warble: a users' host D and the Warble component C, on loopback.
-- Used by `npm start` and by the test harness; every setting that varies comes from the
-- environment (WARBLE_*), with the quick-start defaults after `or`.
local env = os.getenv

local data = env("WARBLE_PROSODY_DATA") or "data/prosody"
local users_domain = env("WARBLE_USERS_DOMAIN") or "localhost"
local component_domain = env("WARBLE_DOMAIN") or "microblog.localhost"

run_as_root = true
data_path = data
pidfile = data .. "/prosody.pid"
certificates = env("WARBLE_PROSODY_CERTS") or (data .. "/certs")
interfaces = { "127.0.0.1" }
c2s_ports = { tonumber(env("WARBLE_C2S_PORT") or "5222") }
s2s_ports = { tonumber(env("WARBLE_S2S_PORT") or "5269") }
component_ports = { tonumber(env("WARBLE_COMPONENT_PORT") or "5347") }
component_interfaces = { "127.0.0.1" }
http_ports = {}
https_ports = {}

-- No "tls": there are no certificates on loopback (see SERVERS.md).
-- (A local too: the config's globals can be set but not read back.)
local modules = { "roster", "saslauth", "dialback", "disco", "ping", "presence", "version", "posix",
  "offline", "pep" }
modules_enabled = modules
modules_disabled = { "s2s_bidi" }
c2s_require_encryption = false
s2s_require_encryption = false
s2s_secure_auth = false
allow_unencrypted_plain_auth = true
authentication = "internal_hashed"
storage = "internal"
log = { { levels = { min = env("WARBLE_PROSODY_LOG_LEVEL") or "info" }, to = "console" } }

-- Federation tests: WARBLE_S2S_ROUTES="domain=port,domain=port" pins those remote domains to
-- 127.0.0.1:port through modules/mod_warble_s2s_routes.lua (Prosody 0.12 can only use DNS).
-- Unset, nothing here changes.
local routes_spec = env("WARBLE_S2S_ROUTES")
if routes_spec and routes_spec ~= "" then
  local routes = {}
  for item in routes_spec:gmatch("[^,%s]+") do
    local domain, target = item:match("^([^=]+)=(.+)$")
    if not domain then error("WARBLE_S2S_ROUTES: expected domain=port, got " .. item) end
    routes[domain] = tonumber(target) or target
  end
  warble_s2s_routes = routes
  -- plugin_paths must be absolute (Prosody changes into data_path before loading modules):
  -- this file's own directory, made absolute against the directory Prosody was started in.
  local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\][^/\\]*$") or "."
  if not here:match("^/") then here = require("lfs").currentdir() .. "/" .. here end
  plugin_paths = { here .. "/modules" }
  modules[#modules + 1] = "warble_s2s_routes"
end

local extra = env("WARBLE_PROSODY_EXTRA")
if extra then Include(extra) end

VirtualHost(users_domain)

Component(component_domain)
  component_secret = env("WARBLE_SECRET") or "warble-dev-secret"
