-- The start-up catch-up and the trim of home timelines at scale: the same index, table and
-- triggers as schemas/sql/006_timeline_catch_up.sql for SQLite (see there).

CREATE INDEX timeline_by_node ON timeline (user_jid, service, node, seq);

CREATE TABLE timeline_sizes (
  user_jid TEXT COLLATE "C" PRIMARY KEY,
  entries  BIGINT NOT NULL
);
INSERT INTO timeline_sizes (user_jid, entries)
  SELECT user_jid, COUNT(*) FROM timeline GROUP BY user_jid;

CREATE FUNCTION timeline_sizes_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO timeline_sizes (user_jid, entries) VALUES (NEW.user_jid, 1)
      ON CONFLICT (user_jid) DO UPDATE SET entries = timeline_sizes.entries + 1;
  ELSE
    UPDATE timeline_sizes SET entries = entries - 1 WHERE user_jid = OLD.user_jid;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER timeline_sizes_change AFTER INSERT OR DELETE ON timeline
  FOR EACH ROW EXECUTE FUNCTION timeline_sizes_change();

DROP INDEX follows_by_domain;
CREATE INDEX follows_by_domain_key ON follows (domain, user_jid, service, node);
