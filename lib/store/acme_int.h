/* Private to lib/store's ACME files (acme.c, acme_accounts.c, acme_orders.c): their transaction and binding helpers. */
#ifndef IOTCA_STORE_ACME_INT_H
#define IOTCA_STORE_ACME_INT_H

#include "iotca/store_acme.h"
#include "db.h"

/* Begins a transaction unless one is open (then *own is false and the caller's transaction is joined). */
iotca_rc acme_begin(iotca_store *s, bool *own, const char *doing);
/* Commits (rc OK) or rolls back what acme_begin began; returns rc, or the commit's failure. */
iotca_rc acme_end(iotca_store *s, bool own, iotca_rc rc, const char *doing);
/* Steps a statement that returns no row, then readies it for reuse: IOTCA_OK or IOTCA_E_STORAGE "doing: ...". */
iotca_rc acme_step_done(iotca_store *s, db_stmt *st, const char *doing);
/* Reads one row of a cached statement the caller prepared and bound (`bound`: whether the binds worked) with `row` into
 * rec: IOTCA_OK, IOTCA_E_USAGE `none` ("no such order") when there is no row, IOTCA_E_STORAGE "doing: ...".
 * The statement is readied for reuse either way. */
typedef iotca_rc (*acme_row_fn)(db_stmt *st, void *rec);
iotca_rc acme_one_row(iotca_store *s, db_stmt *st, bool bound, acme_row_fn row, void *rec, const char *none,
                      const char *doing);
/* Binds text, or NULL for NULL or "". */
bool acme_bind_text_or_null(db_stmt *st, int i, const char *t);

#endif
