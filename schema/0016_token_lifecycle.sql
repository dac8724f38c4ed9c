-- iotca: API tokens that expire, are revoked and say when they were last used (issue 19, point 6).
-- expires_at and revoked_at are NULL for "never" and "not revoked"; a revoked or expired token is refused
-- by the next request that presents it. last_used_at is written by the tick from what requests remembered
-- in memory (lib/ca/tick.c), never by the request itself, so authentication adds no write.
ALTER TABLE tokens ADD COLUMN expires_at INTEGER;
ALTER TABLE tokens ADD COLUMN revoked_at INTEGER;
ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
