/* iotca cert renew: a successor of an issued certificate (same subject, names and profile), with the same key,
 * a CSR's, or a key made here; written out as cert issue writes a new one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "iotca/file.h"
#include "iotca/pem.h"
#include "iotca/policy.h"

#define CERT_FILE_MAX 65536

/* Everything about the flags that can be checked before anything is read, made or sent. */
static iotca_rc check_flags(const cli *c, long *ttl) {
    IOTCA_ENSURE((c->n_args == 1) != (c->cert != NULL), IOTCA_E_USAGE,
                 c->n_args ? "give the certificate to renew once: SERIAL or --cert FILE, not both"
                           : "cert renew needs SERIAL or --cert FILE (the certificate to renew)");
    IOTCA_ENSURE(!(c->csr && c->new_key), IOTCA_E_USAGE,
                 "give either --csr FILE (a request for the new key) or --new-key FILE (a key made here), not both");
    IOTCA_ENSURE(!c->key_type || c->new_key, IOTCA_E_USAGE,
                 "--key-type applies only with --new-key; without it the certificate's own key is kept");
    *ttl = 0;
    if (c->ttl) {
        iotca_rc rc = iotca_duration_parse(c->ttl, ttl);
        if (rc != IOTCA_OK) IOTCA_BAIL(rc, "--ttl: %s", iotca_error_detail());
    }
    const char *paths[3] = {c->new_key, c->out, c->chain_out};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            IOTCA_ENSURE(!paths[i] || !paths[j] || strcmp(paths[i], paths[j]) != 0, IOTCA_E_USAGE,
                         "--new-key, --out and --chain-out must name different files (%s given twice)", paths[i]);
    if (c->new_key) IOTCA_GUARD(out_path_free("--new-key", c->new_key));
    if (c->out) IOTCA_GUARD(out_path_free("--out", c->out));
    if (c->chain_out) IOTCA_GUARD(out_path_free("--chain-out", c->chain_out));
    return IOTCA_OK;
}

/* The certificate --cert names (PEM or DER), and its serial as the server writes it. */
static iotca_rc load_cert_file(const char *path, iotca_cert **cert, char serial[41]) {
    iotca_buf raw = {0}, hex = {0};
    iotca_rc rc = iotca_file_read(path, CERT_FILE_MAX, &raw);
    if (rc == IOTCA_OK) rc = iotca_cert_parse(iotca_buf_slice(&raw), cert);
    if (rc != IOTCA_OK) {
        char why[400];
        snprintf(why, sizeof why, "%s", iotca_error_detail());
        iotca_buf_free(&raw);
        IOTCA_BAIL(IOTCA_E_USAGE, "--cert %s: %s", path, why);
    }
    /* iotca's serials are IOTCA_SERIAL_LEN octets, written in full (the DER magnitude drops leading zeros) */
    iotca_slice s = iotca_cert_get(*cert)->serial;
    uint8_t full[IOTCA_SERIAL_LEN] = {0};
    if (s.len >= 1 && s.len <= sizeof full) {
        memcpy(full + sizeof full - s.len, s.p, s.len);
        rc = iotca_hex_encode(full, sizeof full, &hex);
    } else {
        rc = iotca_error_set(IOTCA_E_USAGE, "--cert %s: its serial is not one iotca issues", path);
    }
    if (rc == IOTCA_OK) snprintf(serial, 41, "%s", (const char *)hex.data);
    iotca_buf_free(&hex);
    iotca_buf_free(&raw);
    return rc;
}

/* The certificate being renewed, from the server (for a key made here: its subject and names). */
static int fetch_cert(const cli *c, const char *serial, iotca_cert **cert) {
    char path[80];
    snprintf(path, sizeof path, "/v1/certificates/%s", serial);
    json_t *doc = NULL;
    int code = http_json(c, "GET", path, NULL, &doc);
    if (code != EXIT_OK) return code;
    const char *pem = jstr(doc, "certificate", NULL);
    if (pem == NULL || iotca_cert_parse(iotca_slice_of(pem, strlen(pem)), cert) != IOTCA_OK) {
        cli_err("the server's answer for %s carries no certificate that parses", serial);
        code = EXIT_SERVER;
    }
    json_decref(doc);
    return code;
}

/* The CSR for a key made here: the renewed certificate's own subject (byte for byte) and names. */
static iotca_rc new_key_for(const cli *c, const iotca_cert *cert, iotca_buf *pem, iotca_buf *spki,
                            iotca_key_type *kt) {
    const iotca_cert_info *ci = iotca_cert_get(cert);
    *kt = ci->key_type;
    if (c->key_type) {
        iotca_rc rc = iotca_key_type_parse(c->key_type, kt);
        if (rc != IOTCA_OK) IOTCA_BAIL(rc, "--key-type: %s", iotca_error_detail());
    }
    iotca_names *names = calloc(1, sizeof *names); /* ~16 KiB: off the stack */
    IOTCA_ENSURE(names != NULL, IOTCA_E_INTERNAL, "out of memory");
    iotca_rc rc = ci->san.len ? iotca_names_parse(ci->san, names) : IOTCA_OK;
    if (rc == IOTCA_OK) rc = issue_new_key_csr("--new-key", c->new_key, *kt, ci->subject, names, pem, spki);
    free(names);
    return rc;
}

/* The renewal's request body: the CSR (absent: the same key) and the TTL. */
static json_t *request_body(const iotca_buf *csr_pem, long ttl) {
    json_t *body = json_object();
    if (body && csr_pem->len) json_object_set_new(body, "csr", json_string((const char *)csr_pem->data));
    if (body && ttl) json_object_set_new(body, "ttl", json_integer(ttl));
    return body;
}

/* The successor says what its predecessor said: same subject (when the predecessor is known here). */
static bool same_subject(const json_t *doc, const iotca_cert *was) {
    if (was == NULL) return true;
    const char *pem = jstr(doc, "certificate", "");
    iotca_cert *now = NULL;
    bool ok = iotca_cert_parse(iotca_slice_of(pem, strlen(pem)), &now) == IOTCA_OK &&
              iotca_slice_eq(iotca_cert_get(now)->subject, iotca_cert_get(was)->subject);
    iotca_cert_free(now);
    if (!ok) cli_err("the server answered with a certificate whose subject is not the renewed certificate's");
    return ok;
}

int cmd_cert_renew(cli *c) {
    long ttl = 0;
    char serial[41] = "", path[80];
    iotca_cert *was = NULL;
    iotca_buf csr_pem = {0}, spki = {0};
    iotca_key_type kt = IOTCA_KEY_ECDSA_P256;
    json_t *body = NULL, *doc = NULL;
    bool key_written = false;
    int code = EXIT_OK;
    iotca_rc rc = check_flags(c, &ttl);
    if (rc == IOTCA_OK)
        rc = c->cert ? load_cert_file(c->cert, &was, serial) : normalise_serial("SERIAL", c->args[0], serial);
    if (rc == IOTCA_OK) rc = http_check_target(c);
    if (rc == IOTCA_OK && c->csr) rc = issue_load_csr(c->csr, &csr_pem, &spki);
    if (rc != IOTCA_OK) {
        code = cli_report(rc);
        goto out;
    }
    if (c->new_key && was == NULL && (code = fetch_cert(c, serial, &was)) != EXIT_OK) goto out;
    if (c->new_key) {
        rc = new_key_for(c, was, &csr_pem, &spki, &kt);
        key_written = rc == IOTCA_OK;
        if (rc != IOTCA_OK) {
            code = cli_report(rc);
            goto out;
        }
    } else if (!c->csr && was) { /* the same key: the answer must be for the certificate's own */
        iotca_slice k = iotca_cert_get(was)->spki;
        if (iotca_buf_append(&spki, k.p, k.len) != IOTCA_OK) {
            code = cli_report(IOTCA_E_INTERNAL);
            goto out;
        }
    }
    if (csr_pem.len && iotca_buf_cstr(&csr_pem) != IOTCA_OK) {
        code = cli_report(IOTCA_E_INTERNAL);
        goto out;
    }
    snprintf(path, sizeof path, "/v1/certificates/%s/renew", serial);
    body = request_body(&csr_pem, ttl);
    code = body ? http_json(c, "POST", path, body, &doc) : EXIT_LOCAL;
    if (code == EXIT_OK && spki.len && !issue_answer_ok(doc, &spki)) code = EXIT_SERVER;
    if (code == EXIT_OK &&
        (!jstr(doc, "certificate", NULL) || !jstr(doc, "chain", NULL) || !jstr(doc, "serial", NULL))) {
        cli_err("the server's answer lacks serial, certificate or chain");
        code = EXIT_SERVER;
    }
    if (code == EXIT_OK && !same_subject(doc, was)) code = EXIT_SERVER;
    if (code == EXIT_OK && strcmp(jstr(doc, "renews", ""), serial) != 0) {
        cli_err("the server's answer does not say it renews %s", serial);
        code = EXIT_SERVER;
    }
    if (code != EXIT_OK) {
        if (key_written && unlink(c->new_key) == 0)
            cli_err("no certificate was received; removed the new key %s", c->new_key);
        goto out;
    }
    if (c->json) out_json(doc);
    code = issue_write_outputs(c, doc);
    if (!c->json) issue_summary(c, doc, iotca_key_type_name(kt));
out:
    iotca_cert_free(was);
    json_decref(body);
    json_decref(doc);
    iotca_buf_free(&csr_pem);
    iotca_buf_free(&spki);
    return code;
}
