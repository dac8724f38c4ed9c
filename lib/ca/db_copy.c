/* `iotcad db copy` for server/: the store's copy of a SQLite database into PostgreSQL, which server/ may not call
 * itself (STYLE.md's module table: server/ never reaches the store). */
#include "iotca/ca_db_copy.h"
#include "iotca/store_copy.h"

iotca_rc iotca_ca_db_copy(const char *from_path, const char *to_conninfo, iotca_db_copy_report *out) {
    return iotca_store_copy_files(from_path, to_conninfo, out);
}
