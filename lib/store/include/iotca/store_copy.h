/* Moving a SQLite deployment to PostgreSQL (issue 25): every row of every table copied into an empty PostgreSQL
 * database, in one PostgreSQL transaction (lib/store/copy.c). */
#ifndef IOTCA_STORE_COPY_H
#define IOTCA_STORE_COPY_H

#include "iotca/db_copy.h"
#include "iotca/store.h"

/* Copies every table of the SQLite store from into the PostgreSQL store to, and fills *out (zeroed first; the
 * counts are set only on success).
 *  - from must be at this binary's schema version (IOTCA_E_STORAGE otherwise, "run iotcad init" for an older
 *    one, as iotca_store_check_schema says); to is migrated first and then checked the same way.
 *  - to must be empty: no table may hold a row beyond those the migrations themselves write (the single rows
 *    of ocsp_mark and heartbeat, which the source's replace). IOTCA_E_POLICY naming a table and its rows
 *    otherwise, and nothing is written.
 *  - All or nothing: the copy is one PostgreSQL transaction (its tables locked against other writers), read
 *    from one SQLite read transaction (a consistent snapshot even if iotcad still writes); a failure rolls
 *    it back and leaves to as it was. The identity columns' sequences are moved past the copied values (and
 *    past a number SQLite's AUTOINCREMENT handed out before pruning), and every table's row count on to is
 *    checked against from's before the commit.
 * IOTCA_E_USAGE when from is not SQLite or to is not PostgreSQL; IOTCA_E_STORAGE with the database's message
 * (naming the table) when a read or an insert fails. Neither store may be in a transaction. */
iotca_rc iotca_store_copy(iotca_store *from, iotca_store *to, iotca_db_copy_report *out);

/* The same from a SQLite file to a PostgreSQL conninfo (a postgresql:// URL or libpq's key=value words),
 * opening and closing both. Before opening the source for the copy, it is read read-only, so a file that is
 * not an iotca database is refused without being changed. IOTCA_E_USAGE for a from that is a conninfo or a
 * to that is not one (the conninfo, which may hold a password, is never put in a message); IOTCA_E_STORAGE
 * for a from that does not exist, is not a SQLite database, or is not an iotca database (schema version 0),
 * and for a failed connection; then iotca_store_copy's. */
iotca_rc iotca_store_copy_files(const char *from_path, const char *to_conninfo, iotca_db_copy_report *out);

#endif
