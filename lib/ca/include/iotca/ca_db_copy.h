/* `iotcad db copy` (issue 25): a SQLite deployment's database copied into PostgreSQL, for server/, which never
 * reaches the store itself (lib/ca/db_copy.c). */
#ifndef IOTCA_CA_DB_COPY_H
#define IOTCA_CA_DB_COPY_H

#include "iotca/db_copy.h"
#include "iotca/result.h"

/* Copies every row of every table of the SQLite database file from_path into the empty PostgreSQL database
 * to_conninfo (a postgresql:// URL or libpq's key=value words), migrating it first, in one transaction; *out
 * says what was copied, table by table. Errors as iotca_store_copy_files (lib/store/include/iotca/store_copy.h):
 * IOTCA_E_USAGE for a from that is a conninfo or a to that is not one, IOTCA_E_POLICY for a target that is not
 * empty, IOTCA_E_STORAGE for a source that is missing, not SQLite, not iotca's or at another schema version, and
 * for a failed read, insert or connection. No message repeats the conninfo (it may hold a password). */
iotca_rc iotca_ca_db_copy(const char *from_path, const char *to_conninfo, iotca_db_copy_report *out);

#endif
