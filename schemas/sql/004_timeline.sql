-- Following and home timelines (component/src/domain/timeline-types.ts): whom each user
-- follows, what entered their timeline, their settings, and the outbox of notifications waiting
-- to be sent again. `user_jid` is the user's bare JID u@D in lower case ("user" is a keyword of
-- PostgreSQL). Nothing here references nodes: followed nodes are mostly remote.

-- One row per (user, followed node). domain: the domain part of `service`, for catch-up and
-- retries by domain. subid: the remote service's subscription id, NULL when it gave none.
CREATE TABLE follows (
  user_jid   TEXT NOT NULL,
  service    TEXT NOT NULL,
  node       TEXT NOT NULL,
  domain     TEXT NOT NULL,
  target     TEXT NOT NULL,         -- what the user asked to follow, shown back
  state      TEXT NOT NULL CHECK (state IN ('requested', 'pending', 'subscribed')),
  subid      TEXT,
  created_at INTEGER NOT NULL,      -- ms since epoch
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (user_jid, service, node)
) STRICT;
CREATE INDEX follows_by_domain ON follows (domain, user_jid, created_at);

-- seq: store-wide and monotonic (AUTOINCREMENT never reuses), assigned at the first insert and
-- kept when the payload is replaced: the timeline's order and the MAM id.
CREATE TABLE timeline (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  user_jid     TEXT NOT NULL,
  service      TEXT NOT NULL,
  node         TEXT NOT NULL,
  item_id      TEXT NOT NULL,
  author       TEXT NOT NULL,
  payload      TEXT NOT NULL,       -- the Atom entry as XML
  published_at INTEGER NOT NULL,
  received_at  INTEGER NOT NULL     -- arrival in this timeline (MAM start/end)
) STRICT;
CREATE INDEX timeline_by_user ON timeline (user_jid, seq);
CREATE UNIQUE INDEX timeline_by_item ON timeline (user_jid, service, node, item_id);
CREATE INDEX timeline_by_received ON timeline (user_jid, received_at);

-- settings: UserSettings as JSON (a missing field reads as its default).
CREATE TABLE user_settings (
  user_jid TEXT PRIMARY KEY,
  settings TEXT NOT NULL
) STRICT;

-- id: ascending (AUTOINCREMENT never reuses), the order of sending. sent_at: set while an entry
-- sent again waits to see whether it bounces once more, NULL while it waits to be sent.
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  recipient       TEXT NOT NULL,
  domain          TEXT NOT NULL,
  message_id      TEXT NOT NULL,
  stanza          TEXT NOT NULL,
  attempts        INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  deadline        INTEGER NOT NULL,
  sent_at         INTEGER,
  last_error      TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX outbox_by_message_id ON outbox (message_id);
CREATE INDEX outbox_by_domain ON outbox (domain, sent_at, next_attempt_at);
CREATE INDEX outbox_due ON outbox (next_attempt_at);
CREATE INDEX outbox_by_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX outbox_by_deadline ON outbox (deadline);
