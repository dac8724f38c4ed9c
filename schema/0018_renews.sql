-- Issue 19, point 7: renewal. A certificate issued by POST /v1/certificates/{serial}/renew records the
-- certificate it renews (same subject, names and profile; the same key or a new one), so both can be told
-- apart from a fresh issuance and found from each other: GET /v1/certificates/{serial} shows `renews` on the
-- successor and `renewed_by` on the predecessor. NULL for every certificate issued otherwise.
ALTER TABLE certificates ADD COLUMN renews TEXT REFERENCES certificates (serial);
CREATE INDEX certificates_renews ON certificates (renews) WHERE renews IS NOT NULL;
