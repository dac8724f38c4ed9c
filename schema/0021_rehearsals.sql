-- Issue 24: rehearsals. A rehearsal endpoint presents a short-lived leaf per scenario (the current chain, the next
-- one, a change, a failure a device must refuse) so a bench device can try a chain before the fleet meets it, and
-- what the device did is recorded per trust profile. The leaves are never certificates of the inventory: their
-- own table, kept until they expire (the tick prunes them). A leaf of an issuer of this CA (issuer_id > 0) has its
-- serial reserved in serials, like any other (lib/store/rehearsals.c, in the same transaction), and the reservation
-- stays after the leaf is pruned, so the serial is never drawn again; issuer_id 0 is the rehearsal lab hierarchy,
-- which is no issuer of this CA (hence no foreign key) and reserves nothing.
CREATE TABLE rehearsal_leaves (
    serial     TEXT    PRIMARY KEY,
    scenario   TEXT    NOT NULL CHECK (length(scenario) BETWEEN 1 AND 47),
    issuer_id  INTEGER NOT NULL CHECK (issuer_id >= 0),
    not_before INTEGER NOT NULL,
    not_after  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    der        BLOB    NOT NULL
);
CREATE INDEX rehearsal_leaves_not_after ON rehearsal_leaves (not_after);

-- What a device, or the engineer holding it, said about a scenario: a report (POST .../results) or what the
-- endpoint saw of the handshake. `passed` is what a correct device does (accept current, next and changes, refuse
-- the failures). Kept as a history; the latest row (greatest id) of a pair is its state.
CREATE TABLE rehearsal_results (
    id            INTEGER PRIMARY KEY,
    scenario      TEXT    NOT NULL CHECK (length(scenario) BETWEEN 1 AND 47),
    trust_profile TEXT    NOT NULL CHECK (length(trust_profile) BETWEEN 1 AND 63),
    issuer_id     INTEGER NOT NULL CHECK (issuer_id >= 0),
    serial        TEXT,
    accepted      INTEGER NOT NULL CHECK (accepted IN (0, 1)),
    passed        INTEGER NOT NULL CHECK (passed IN (0, 1)),
    source        TEXT    NOT NULL CHECK (source IN ('report', 'handshake')),
    actor         TEXT    NOT NULL,
    note          TEXT    NOT NULL DEFAULT '',
    at            INTEGER NOT NULL
);
-- One index for both lookups (an index ends in the rowid, id): the latest result for a (trust_profile, scenario,
-- issuer_id) is the last entry of its range (iotca_store_rehearsal_passed); the latest of each (trust_profile,
-- scenario) pair, a walk of the index alone, already grouped (iotca_store_rehearsal_result_latest).
CREATE INDEX rehearsal_results_pair ON rehearsal_results (trust_profile, scenario, issuer_id);
