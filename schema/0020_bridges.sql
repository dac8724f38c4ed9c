-- Issue 24, point 4: bridge certificates. An admin may issue, from a retiring issuer, a short-lived certificate
-- for an update endpoint, so devices that pinned that issuer can connect once more and fetch a corrected trust
-- store. Each one is a certificate row as any other (serial reserved, intent, record, audit) and a row here
-- saying who asked and why, listed (GET /v1/bridges, /metrics) until it expires.
CREATE TABLE bridges (
    serial        TEXT    PRIMARY KEY REFERENCES certificates (serial),
    issuer_id     INTEGER NOT NULL REFERENCES issuers (id),
    justification TEXT    NOT NULL CHECK (length(justification) BETWEEN 1 AND 200),
    actor         TEXT    NOT NULL,
    not_after     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX bridges_not_after ON bridges (not_after);
