-- OCSP (RFC 6960): delegated responder certificates per issuer, and pre-signed responses per certificate
-- so that answering is a lookup, not a signature.

CREATE TABLE ocsp_signers (
    id         INTEGER PRIMARY KEY,
    issuer_id  INTEGER NOT NULL REFERENCES issuers (id),
    cert       BLOB    NOT NULL,
    key_ref    TEXT    NOT NULL,
    not_after  INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ocsp_signers_issuer ON ocsp_signers (issuer_id, not_after);

CREATE TABLE ocsp_responses (
    serial      TEXT    PRIMARY KEY REFERENCES certificates (serial),
    der         BLOB    NOT NULL,
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL
);
CREATE INDEX ocsp_responses_next ON ocsp_responses (next_update);
