-- The pubsub core's store (component/src/storage/sqlite/sqlite-store.ts).
-- JIDs are stored lower-case bare (owner, publisher, affiliation entities); subscription JIDs
-- as given (bare or full) with their bare part and domain beside them for lookups and limits.

CREATE TABLE nodes (
  service TEXT NOT NULL,             -- "u@C"
  node    TEXT NOT NULL,             -- "urn:xmpp:microblog:0"
  owner   TEXT NOT NULL,             -- "u@D"
  config  TEXT NOT NULL,             -- NodeConfig as JSON
  created INTEGER NOT NULL,          -- ms since epoch
  PRIMARY KEY (service, node)
) STRICT;

-- seq: store-wide and monotonic (AUTOINCREMENT never reuses), newest = highest. A
-- re-publication deletes and re-inserts, so the item becomes the newest.
CREATE TABLE items (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  service   TEXT NOT NULL,
  node      TEXT NOT NULL,
  item_id   TEXT NOT NULL,
  payload   TEXT NOT NULL,
  publisher TEXT NOT NULL,
  created   INTEGER NOT NULL,
  updated   INTEGER NOT NULL,
  UNIQUE (service, node, item_id),
  FOREIGN KEY (service, node) REFERENCES nodes (service, node) ON DELETE CASCADE
) STRICT;
CREATE INDEX items_newest_first ON items (service, node, seq DESC);

CREATE TABLE subscriptions (
  service  TEXT NOT NULL,
  node     TEXT NOT NULL,
  jid      TEXT NOT NULL,
  bare_jid TEXT NOT NULL,
  domain   TEXT NOT NULL,
  subid    TEXT NOT NULL,
  state    TEXT NOT NULL CHECK (state IN ('none', 'pending', 'unconfigured', 'subscribed')),
  created  INTEGER NOT NULL,
  options  TEXT,                     -- JSON object or NULL
  PRIMARY KEY (service, node, jid),
  UNIQUE (service, node, subid),
  FOREIGN KEY (service, node) REFERENCES nodes (service, node) ON DELETE CASCADE
) STRICT;
CREATE INDEX subscriptions_by_node_state ON subscriptions (service, node, state, created);
CREATE INDEX subscriptions_by_bare_jid ON subscriptions (service, bare_jid);
CREATE INDEX subscriptions_pending_by_age ON subscriptions (created) WHERE state = 'pending';

-- entity: a bare JID, or a domain (applies to every JID of that domain). "none" is not stored.
CREATE TABLE affiliations (
  service     TEXT NOT NULL,
  node        TEXT NOT NULL,
  entity      TEXT NOT NULL,
  affiliation TEXT NOT NULL
    CHECK (affiliation IN ('owner', 'publisher', 'publish-only', 'member', 'outcast')),
  PRIMARY KEY (service, node, entity),
  FOREIGN KEY (service, node) REFERENCES nodes (service, node) ON DELETE CASCADE
) STRICT;
CREATE INDEX affiliations_by_entity ON affiliations (service, entity);

-- Named counters: refusals by reason ("refused:<reason>") and others.
CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;

-- New subscription requests per remote domain, for the per-minute limit (pruned as it goes).
CREATE TABLE subscription_requests (
  domain TEXT NOT NULL,
  at     INTEGER NOT NULL
) STRICT;
CREATE INDEX subscription_requests_by_domain ON subscription_requests (domain, at);
CREATE INDEX subscription_requests_by_age ON subscription_requests (at);
