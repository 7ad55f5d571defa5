-- Indexes that let the hot queries read in the order they return, without sorting: a fan-out
-- reads a node's subscribed subscriptions, oldest first, on every publish.
DROP INDEX subscriptions_by_node_state;
CREATE INDEX subscriptions_by_node_state ON subscriptions (service, node, state, created, jid);
CREATE INDEX subscriptions_by_node_age ON subscriptions (service, node, created, jid);
-- A requester's subscriptions at one service (every items request's access check), in order.
DROP INDEX subscriptions_by_bare_jid;
CREATE INDEX subscriptions_by_bare_jid ON subscriptions (service, bare_jid, node, created, jid);
