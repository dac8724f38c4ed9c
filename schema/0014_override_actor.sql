-- iotca: who overrode a rotation preflight (issue 18). The override, its justification and every broken
-- trust profile also go into the hash-chained audit trail; this row is what GET /v1/issuers shows.
ALTER TABLE preflight_overrides ADD COLUMN actor TEXT NOT NULL DEFAULT '';
