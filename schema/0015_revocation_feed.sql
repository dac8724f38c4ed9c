-- iotca: every revocation, in commit order (issue 19). Several iotcad processes may share one database, and each
-- keeps its signed OCSP answers in memory: before serving a cached answer, a process reads the rows past the last
-- one it saw and drops those serials' answers, so a revocation through one process is answered "revoked" by
-- all of them at once. The trigger writes the row inside the revoking transaction, whatever path revokes.
-- AUTOINCREMENT: a number is never used twice, even after the tick prunes old rows, so a process that finds
-- a gap past its last row knows it missed some and drops its whole cache.
CREATE TABLE revocation_feed (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    serial     TEXT NOT NULL,
    revoked_at INTEGER NOT NULL
);

CREATE TRIGGER certificates_revoked_feed AFTER UPDATE OF status ON certificates
WHEN NEW.status = 'revoked' AND OLD.status IS NOT 'revoked'
BEGIN
    INSERT INTO revocation_feed (serial, revoked_at) VALUES (NEW.serial, NEW.revoked_at);
END;
