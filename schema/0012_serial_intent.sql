-- Issue 18: intent before signature (STYLE.md's issuance cycle, after Boulder's ISSUANCE-CYCLE). An issuance
-- now reserves its serial after its TBSCertificate was built and linted and before the issuer key signs it,
-- and the reservation says what is about to be signed: the SHA-256 of that DER TBS (the very bytes the
-- certificate will carry), the profile and the notAfter (the issuer id was there already). It is the same
-- row and the same write as before, in the same group commit as the certificate's record or an earlier one,
-- so a serial reserved but never recorded still tells what was planned under it. NULL in the rows reserved
-- before this migration and in the serials of OCSP responder certificates, which carry no intent.
ALTER TABLE serials ADD COLUMN profile TEXT;
ALTER TABLE serials ADD COLUMN not_after INTEGER;
ALTER TABLE serials ADD COLUMN tbs_sha256 BLOB CHECK (tbs_sha256 IS NULL OR length(tbs_sha256) = 32);
