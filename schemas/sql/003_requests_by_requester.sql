-- The per-requester rate limit under the per-domain one: which account made each request
-- (its bare JID; '' for requests logged before this migration).
ALTER TABLE subscription_requests ADD COLUMN requester TEXT NOT NULL DEFAULT '';
CREATE INDEX subscription_requests_by_requester ON subscription_requests (requester, at);
