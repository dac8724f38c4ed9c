-- iotca schema v1: issuers and their lifecycle, serials, certificates, API tokens.
-- Applied by `iotcad init`; the version lives in PRAGMA user_version.

CREATE TABLE issuers (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    grp         TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'staged', 'active', 'retiring', 'retired')),
    key_ref     TEXT    NOT NULL,
    csr         BLOB    NOT NULL,
    cert        BLOB,
    not_before  INTEGER,
    not_after   INTEGER,
    activate_at INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
-- SPEC §3: one active issuer per issuer group
CREATE UNIQUE INDEX issuers_one_active ON issuers (grp) WHERE state = 'active';

CREATE TABLE issuer_events (
    id         INTEGER PRIMARY KEY,
    issuer_id  INTEGER NOT NULL REFERENCES issuers (id),
    from_state TEXT,
    to_state   TEXT    NOT NULL,
    at         INTEGER NOT NULL
);

-- Every serial ever drawn, kept forever: a serial is reserved here before
-- signing, so a crash between signing and recording can never reuse it.
CREATE TABLE serials (
    serial      TEXT    PRIMARY KEY,
    issuer_id   INTEGER NOT NULL REFERENCES issuers (id),
    reserved_at INTEGER NOT NULL
);

CREATE TABLE certificates (
    serial      TEXT    PRIMARY KEY REFERENCES serials (serial),
    issuer_id   INTEGER NOT NULL REFERENCES issuers (id),
    profile     TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    der         BLOB    NOT NULL,
    not_before  INTEGER NOT NULL,
    not_after   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
    revoked_at  INTEGER,
    reason      INTEGER
);
CREATE INDEX certificates_profile ON certificates (profile, serial);
CREATE INDEX certificates_not_after ON certificates (not_after);
CREATE INDEX certificates_issuer ON certificates (issuer_id, status);

CREATE TABLE tokens (
    id         TEXT    PRIMARY KEY,
    hash       BLOB    NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('admin', 'provisioner')),
    profiles   TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
