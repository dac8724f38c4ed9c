-- iotca: the tick's write probe (issue 18). Each tick commits one small write here, so /readyz tells a
-- database that answers reads but refuses writes (a full disk, a read-only file) from one that works.
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at INTEGER NOT NULL
);
INSERT INTO heartbeat (id, at) VALUES (1, 0);
