-- New certificates' OCSP answers are found through a mark instead of a placeholder row per certificate.
-- The placeholder (0008) cost every issuance three more B-tree inserts, about a quarter of the WAL pages
-- a certificate writes (2.7 of 10.3 pages, measured on this schema at 50,000 rows). Certificates are never
-- deleted and are recorded by one writer at a time, so their rowids only grow in commit order: "recorded
-- after the last one the tick answered" is a rowid range. Placeholders already written stay (they are
-- still found through the next_update index) and the mark starts after the last certificate.
DROP TRIGGER certificates_ocsp_placeholder;
CREATE TABLE ocsp_mark (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    last_rowid INTEGER NOT NULL
);
INSERT INTO ocsp_mark (id, last_rowid) VALUES (1, (SELECT coalesce(max(rowid), 0) FROM certificates));
