-- Bench only (bench/store-scale.ts): Prosody 0.12 leaves Nagle's algorithm on for its sockets,
-- which stalls a stanza over about 8 KB by a delayed ACK (40 ms; ../shared/SERVERS.md).
-- Included into prosody-config/prosody.cfg.lua's global section through WARBLE_PROSODY_EXTRA.
network_settings = { nagle = false }
