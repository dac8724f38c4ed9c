-- iotca: rebuilds a table (run with foreign keys off, then checked; SQLite's "making other kinds of table
-- schema changes" procedure)
-- Issue 19, point 9: a pending issuer can be abandoned (DELETE /v1/issuers/{id}): its key is wiped and its row
-- stays, in the terminal state 'abandoned', so the history (its CSR, its events, the audit trail) keeps
-- naming it. SQLite cannot change a CHECK constraint in place, so the table is rebuilt with the new state;
-- the rows, ids and the one-active-per-group index stay as they were.
CREATE TABLE issuers_new (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    grp         TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'staged', 'active', 'retiring', 'retired', 'abandoned')),
    key_ref     TEXT    NOT NULL,
    csr         BLOB    NOT NULL,
    cert        BLOB,
    not_before  INTEGER,
    not_after   INTEGER,
    activate_at INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
INSERT INTO issuers_new (id, name, grp, state, key_ref, csr, cert, not_before, not_after, activate_at, created_at,
                         updated_at)
    SELECT id, name, grp, state, key_ref, csr, cert, not_before, not_after, activate_at, created_at, updated_at
    FROM issuers ORDER BY id;
DROP TABLE issuers;
ALTER TABLE issuers_new RENAME TO issuers;
-- SPEC §3: one active issuer per issuer group
CREATE UNIQUE INDEX issuers_one_active ON issuers (grp) WHERE state = 'active';
