-- Finding the OCSP answers to (re)sign without scanning every certificate: each certificate gets a
-- placeholder answer row when it is recorded (no bytes, next_update 0: due at once, and never served: the
-- responder signs on demand while an answer is not fresh), so "due" is a range of the next_update index.
CREATE TRIGGER certificates_ocsp_placeholder AFTER INSERT ON certificates
BEGIN
    INSERT OR IGNORE INTO ocsp_responses (serial, der, this_update, next_update) VALUES (NEW.serial, x'', 0, 0);
END;
INSERT OR IGNORE INTO ocsp_responses (serial, der, this_update, next_update)
    SELECT serial, x'', 0, 0 FROM certificates WHERE not_after > CAST(strftime('%s', 'now') AS INTEGER);
