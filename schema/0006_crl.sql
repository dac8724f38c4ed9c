-- CRLs (RFC 5280 §5): the current CRL of each issuer with its monotonic number, and the root CRLs that
-- iotca-root produced offline and an admin imported.

CREATE TABLE crls (
    issuer_id   INTEGER PRIMARY KEY REFERENCES issuers (id),
    number      INTEGER NOT NULL,
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    der         BLOB    NOT NULL
);

CREATE TABLE root_crls (
    root_sha256 TEXT    PRIMARY KEY,
    number      INTEGER NOT NULL,
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    der         BLOB    NOT NULL
);
