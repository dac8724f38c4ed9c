/* What copying a SQLite database into PostgreSQL reports (`iotcad db copy`, lib/store/copy.c): the rows copied, table
 * by table. A plain record, so the CA hands it to server/ without the store in between. */
#ifndef IOTCA_DB_COPY_H
#define IOTCA_DB_COPY_H

#include <stddef.h>
#include <stdint.h>

/* The schema has 25 tables; room for the ones later migrations add. */
#define IOTCA_DB_COPY_MAX_TABLES 64

typedef struct iotca_db_copy_table {
    char name[64];
    int64_t rows; /* the source's rows, which the target holds after the copy (counted on both) */
} iotca_db_copy_table;

typedef struct iotca_db_copy_report {
    iotca_db_copy_table table[IOTCA_DB_COPY_MAX_TABLES]; /* in the order copied: a table after those it refers to */
    size_t n;
    int64_t rows;  /* all tables' rows */
    int sequences; /* identity columns whose sequence was moved past the copied values */
} iotca_db_copy_report;

#endif
