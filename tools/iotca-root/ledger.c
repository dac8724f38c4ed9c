/* The vault's ledger: hash-chained JSON lines recording everything the root signed or revoked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iotca/file.h"
#include "root.h"

#define LEDGER_MAX ((size_t)32 << 20)
#define LINE_MAX_BYTES 65536

static void line_hash(const uint8_t *p, size_t n, char out[65]) {
    uint8_t h[32];
    iotca_sha256(iotca_slice_of(p, n), h);
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", h[i]);
}

iotca_rc ledger_verify(const char *path, json_t **records, char head[65], size_t *count) {
    iotca_buf raw = {0};
    json_t *all = json_array();
    iotca_rc rc = IOTCA_OK;
    IOTCA_CHECK(all != NULL, IOTCA_E_INTERNAL, "out of memory");
    IOTCA_TRY(iotca_file_read(path, LEDGER_MAX, &raw));
    char prev[65] = LEDGER_GENESIS;
    size_t pos = 0, n = 0;
    while (pos < raw.len) {
        const uint8_t *nl = memchr(raw.data + pos, '\n', raw.len - pos);
        IOTCA_CHECK(nl != NULL, IOTCA_E_PARSE, "ledger line %zu is not terminated (truncated?)", n + 1);
        size_t len = (size_t)(nl - (raw.data + pos));
        IOTCA_CHECK(len > 0 && len <= LINE_MAX_BYTES, IOTCA_E_PARSE, "ledger line %zu is empty or too long", n + 1);
        json_error_t e;
        json_t *rec = json_loadb((const char *)raw.data + pos, len, JSON_REJECT_DUPLICATES, &e);
        bool is_object = json_is_object(rec);
        if (!is_object) json_decref(rec); /* valid JSON but not an object used to leak (found by fuzz_ledger) */
        IOTCA_CHECK(is_object, IOTCA_E_PARSE, "ledger line %zu is not a JSON object", n + 1);
        json_array_append_new(all, rec);
        const char *p = json_string_value(json_object_get(rec, "prev"));
        json_int_t seq = json_integer_value(json_object_get(rec, "seq"));
        IOTCA_CHECK(seq == (json_int_t)(n + 1), IOTCA_E_PARSE, "ledger line %zu has sequence %lld (lines removed or reordered)",
                    n + 1, (long long)seq);
        IOTCA_CHECK(p != NULL && strcmp(p, prev) == 0, IOTCA_E_PARSE,
                    "ledger line %zu does not chain to the line before it (an earlier line was altered)", n + 1);
        IOTCA_CHECK(json_is_string(json_object_get(rec, "op")), IOTCA_E_PARSE, "ledger line %zu has no operation",
                    n + 1);
        line_hash(raw.data + pos, len, prev);
        pos += len + 1;
        n++;
    }
    strcpy(head, prev);
    *count = n;
    if (records) {
        *records = all;
        all = NULL;
    }
out:
    json_decref(all);
    iotca_buf_free(&raw);
    return rc;
}

iotca_rc ledger_append(vault *v, json_t *rec) {
    iotca_rc rc = IOTCA_OK;
    char path[PATH_MAX], now[32], head[65];
    char *line = NULL;
    const char *cur = json_string_value(json_object_get(v->state, "ledger_head"));
    json_int_t count = json_integer_value(json_object_get(v->state, "ledger_records"));
    IOTCA_CHECK(cur != NULL && strlen(cur) == 64, IOTCA_E_PARSE, "vault state has no ledger head");
    IOTCA_TRY(vault_path(v, VAULT_LEDGER, path, sizeof path));
    fmt_time(time(NULL), now);
    json_object_set_new(rec, "seq", json_integer(count + 1));
    json_object_set_new(rec, "time", json_string(now));
    json_object_set_new(rec, "prev", json_string(cur));
    line = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    IOTCA_CHECK(line != NULL, IOTCA_E_INTERNAL, "cannot serialise ledger record");
    size_t len = strlen(line);
    line_hash((const uint8_t *)line, len, head);
    line[len] = '\n';
    IOTCA_TRY(iotca_file_append(path, line, len + 1));
    json_object_set_new(v->state, "ledger_head", json_string(head));
    json_object_set_new(v->state, "ledger_records", json_integer(count + 1));
    IOTCA_TRY(vault_save(v));
out:
    free(line);
    json_decref(rec);
    return rc;
}
