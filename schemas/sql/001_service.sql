-- Service-wide facts: one row per key. The schema version itself lives in PRAGMA user_version.
CREATE TABLE service_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
