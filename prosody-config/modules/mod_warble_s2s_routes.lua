-- mod_warble_s2s_routes: send outgoing s2s for listed domains to a fixed loopback port.
--
-- Prosody 0.12 finds a remote server through DNS SRV/A records (net.resolvers.service),
-- and has no setting to pin a domain to an address. For tests that federate two private
-- Prosody instances on 127.0.0.1, this module replaces net.resolvers.service.new, process
-- wide, with a function that answers listed domains from a net.resolvers.manual target
-- list and hands every other domain to the original resolver.
--
--   warble_s2s_routes = { ["rogue.localhost"] = 15269, ["microblog.rogue.localhost"] = 15269 }
--
-- A value is a port on 127.0.0.1, or "address:port" / { "address", port }. Every domain
-- that may be a remote address needs an entry, components included, and both servers need
-- a map: dialback verifies by connecting back to the originating domain.
module:set_global();

local service = require "net.resolvers.service";
local manual = require "net.resolvers.manual";
local inet_pton = require "util.net".pton;

local function parse_target(domain, value)
	local addr, port = "127.0.0.1", nil;
	if type(value) == "number" then
		port = value;
	elseif type(value) == "string" then
		local a, p = value:match("^%[?([^%]]-)%]?:(%d+)$");
		if a then
			addr, port = a, tonumber(p);
		else
			port = tonumber(value);
		end
	elseif type(value) == "table" then
		addr, port = value[1] or value.address or addr, tonumber(value[2] or value.port);
	end
	if not port or port < 1 or port > 65535 or port % 1 ~= 0 then
		return nil, ("bad port for %s: %s"):format(domain, tostring(value));
	end
	local packed = inet_pton(addr);
	if not packed then
		return nil, ("bad address for %s: %s (an IP address is needed)"):format(domain, tostring(addr));
	end
	return { addr = addr, port = port, family = #packed == 16 and "6" or "4" };
end

local routes = {};
for domain, value in pairs(module:get_option("warble_s2s_routes", {})) do
	local target, err = parse_target(domain, value);
	if target then
		routes[domain:lower()] = target;
	else
		module:log("error", "warble_s2s_routes: %s", err);
	end
end

-- The function being wrapped; kept across reloads so that wrapping never nests.
local original_new = service.warble_original_new or service.new;

local function routed_new(hostname, srv_name, conn_type, extra)
	local target = type(hostname) == "string" and routes[hostname:lower()];
	if not target then
		return original_new(hostname, srv_name, conn_type, extra);
	end
	conn_type = conn_type or "tcp";
	local targets = {};
	-- Only the plain "xmpp-server" service is routed. Direct TLS ("xmpps-server", tried first
	-- when TLS is set up) gets no targets, so the chain falls through to the plain one.
	if srv_name == "xmpp-server" then
		targets[1] = { conn_type .. target.family, target.addr, target.port, extra };
	end
	module:log("debug", "s2s route for %s (%s): %s", hostname, srv_name,
		targets[1] and (target.addr .. ":" .. target.port) or "none");
	local resolver = manual.new(targets, conn_type, extra);
	resolver.hostname = hostname; -- only for net.connect's log lines
	return resolver;
end

function module.load()
	service.warble_original_new = original_new;
	service.new = routed_new;
	local listed = {};
	for domain, target in pairs(routes) do
		listed[#listed + 1] = ("%s=%s:%d"):format(domain, target.addr, target.port);
	end
	table.sort(listed);
	module:log("info", "s2s routes: %s", #listed > 0 and table.concat(listed, ", ") or "(none)");
end

function module.unload()
	if service.new == routed_new then
		service.new = original_new;
		service.warble_original_new = nil;
	end
end
