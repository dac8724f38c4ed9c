-- Issue 6: one B-tree fewer written per issuance. certificates_issuer (issuer_id, status) held every
-- certificate, so every issuance wrote a page of it (one of about nine WAL pages a lone issuance writes,
-- measured with a replay of the issuance statements), yet the only query it served reads revoked
-- certificates by issuer (the CRL). A partial index holds just those: issuance never touches it, and the
-- CRL reads only revoked rows, in issuer order.
DROP INDEX certificates_issuer;
CREATE INDEX certificates_revoked ON certificates (issuer_id) WHERE status = 'revoked';
