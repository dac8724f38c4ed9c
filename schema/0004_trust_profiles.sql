-- Trust profiles (SPEC §7): the device trust stores in the field, checked before any rotation; and the
-- operator's recorded justification when a preflight refusal was overridden.

CREATE TABLE trust_profiles (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    pem        TEXT    NOT NULL,
    stack      TEXT    NOT NULL,
    until      INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE preflight_overrides (
    id            INTEGER PRIMARY KEY,
    issuer_id     INTEGER NOT NULL REFERENCES issuers (id),
    justification TEXT    NOT NULL,
    findings      TEXT    NOT NULL,
    at            INTEGER NOT NULL
);
