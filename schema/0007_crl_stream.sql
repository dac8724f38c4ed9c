-- Streaming CRLs (issue 4). An issuer's CRL body lives in a file next to the database,
-- crl/<issuer_id>-<number>.crl, so neither generating nor serving a CRL of a million entries holds it
-- in memory; `crls` now describes the current file. `crl_state` numbers each issuer's CRLs (a number
-- is reserved durably before it is used, so even a crash never reuses one: RFC 5280 §5.2.3) and
-- counts revocations: the trigger below counts each one inside the revoking transaction, and a CRL
-- records the count its entries cover, so an issuer with more revocations than its CRL covers is due.

CREATE TABLE crl_state (
    issuer_id   INTEGER PRIMARY KEY REFERENCES issuers (id),
    last_number INTEGER NOT NULL DEFAULT 0,
    revocations INTEGER NOT NULL DEFAULT 0
);
INSERT INTO crl_state (issuer_id, last_number) SELECT issuer_id, number FROM crls;

-- Schema 6 kept the DER in the row; those CRLs are regenerated into files by the next tick, with
-- numbers above the ones they had.
DROP TABLE crls;
CREATE TABLE crls (
    issuer_id   INTEGER PRIMARY KEY REFERENCES issuers (id),
    number      INTEGER NOT NULL,
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    size        INTEGER NOT NULL, -- bytes of crl/<issuer_id>-<number>.crl
    entries     INTEGER NOT NULL, -- revoked certificates it lists
    covers      INTEGER NOT NULL  -- crl_state.revocations when its entries were read
);

CREATE TRIGGER certificates_revoked_crl AFTER UPDATE OF status ON certificates
WHEN NEW.status = 'revoked' AND OLD.status IS NOT 'revoked'
BEGIN
    INSERT OR IGNORE INTO crl_state (issuer_id) VALUES (NEW.issuer_id);
    UPDATE crl_state SET revocations = revocations + 1 WHERE issuer_id = NEW.issuer_id;
END;
