-- The start-up catch-up and the trim of home timelines at scale (issue 12).

-- A node's newest entry in a user's timeline (what a catch-up has seen of that node): one probe
-- of this index, where the (user_jid, seq) index had to be walked until an entry of the node.
CREATE INDEX timeline_by_node ON timeline (user_jid, service, node, seq);

-- Entries per home timeline, kept by the triggers below through every insert and delete: a trim
-- reads how many are over the limit and deletes that many of the oldest, through
-- timeline_by_user from the oldest end, instead of walking past the newest maxTimelineEntries.
CREATE TABLE timeline_sizes (
  user_jid TEXT PRIMARY KEY,
  entries  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO timeline_sizes (user_jid, entries)
  SELECT user_jid, COUNT(*) FROM timeline GROUP BY user_jid;

CREATE TRIGGER timeline_sizes_insert AFTER INSERT ON timeline BEGIN
  INSERT INTO timeline_sizes (user_jid, entries) VALUES (NEW.user_jid, 1)
    ON CONFLICT (user_jid) DO UPDATE SET entries = entries + 1;
END;
CREATE TRIGGER timeline_sizes_delete AFTER DELETE ON timeline BEGIN
  UPDATE timeline_sizes SET entries = entries - 1 WHERE user_jid = OLD.user_jid;
END;

-- Catch-up reads the follows a page at a time in key order (user, service, node): those of one
-- domain through this index, which takes the place of the (domain, user_jid, created_at) one.
DROP INDEX follows_by_domain;
CREATE INDEX follows_by_domain_key ON follows (domain, user_jid, service, node);
