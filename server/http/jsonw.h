/* A JSON object written straight into a response body (RFC 8259), for the answers iotcad sends thousands of
 * times a second: an issuance's certificate and chain. Jansson builds a tree of copies and then dumps it
 * character by character; this writes each value once, escaped as Jansson's compact output escapes it. */
#ifndef IOTCAD_JSONW_H
#define IOTCAD_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "iotca/buf.h"

#define JSONW_DEPTH 8

typedef struct jsonw {
    iotca_buf *b;     /* borrowed: the body written to */
    bool bad;         /* a value was not UTF-8, nesting went past JSONW_DEPTH or memory ran out */
    unsigned depth;   /* objects and arrays open */
    bool first[JSONW_DEPTH + 1]; /* per depth: nothing written in it yet */
    char kind[JSONW_DEPTH + 1];  /* per depth: '{' or '[' */
} jsonw;

/* The length of the well-formed UTF-8 sequence at p (1 to 4 bytes), or 0 for a malformed one: no overlongs,
 * no surrogates, at most U+10FFFF (RFC 3629 §4). p is NUL-terminated, so a cut sequence stops at the NUL. */
size_t jsonw_utf8_len(const unsigned char *p);
/* Starts an object in b, emptying it first. */
void jsonw_open(jsonw *w, iotca_buf *b);
/* A member whose value is the string v (UTF-8, escaped here; NULL: null). */
void jsonw_str(jsonw *w, const char *key, const char *v);
/* A member whose value is an integer. */
void jsonw_int(jsonw *w, const char *key, long long v);
/* A member whose value is true or false. */
void jsonw_bool(jsonw *w, const char *key, bool v);
/* A member whose value is the RFC 3339 UTC time t, or null for 0 (as iotca_json_time). */
void jsonw_time(jsonw *w, const char *key, time_t t);
/* A member whose value is null. */
void jsonw_null(jsonw *w, const char *key);
/* A member whose value is an object (jsonw_end closes it). */
void jsonw_object(jsonw *w, const char *key);
/* A member whose value is an array (jsonw_end closes it); jsonw_item adds its strings. */
void jsonw_array(jsonw *w, const char *key);
void jsonw_item(jsonw *w, const char *v);
/* Closes the innermost open object or array. */
void jsonw_end(jsonw *w);
/* True when every object and array was closed and nothing went wrong: b holds the text (NUL-terminated). */
bool jsonw_done(jsonw *w);

#endif
