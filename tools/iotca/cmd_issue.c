/* iotca cert issue: send a CSR (given, or built here for a key made here) and write the certificate and chain;
 * its CSR, answer and output steps serve cert renew too (cmd_renew.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "iotca/file.h"
#include "iotca/key.h"
#include "iotca/pem.h"
#include "iotca/policy.h"
#include "iotca/x509.h"

#define CSR_FILE_MAX 65536

/* Prefixes the last library error with the flag it came from, keeping its category. */
static iotca_rc about(const char *flag, iotca_rc rc) {
    if (rc == IOTCA_OK) return rc;
    char detail[512];
    snprintf(detail, sizeof detail, "%s", iotca_error_detail());
    return iotca_error_set(rc, "%s: %s", flag, detail);
}

/* Checks one requested name: printable ASCII, no spaces, within the length a certificate may carry. */
static iotca_rc check_name(const char *flag, const char *v) {
    IOTCA_ENSURE(strlen(v) <= IOTCA_NAME_MAX, IOTCA_E_USAGE, "%s is longer than %d characters", flag, IOTCA_NAME_MAX);
    for (const char *p = v; *p; p++)
        IOTCA_ENSURE(*p > ' ' && *p < 0x7f, IOTCA_E_USAGE, "%s '%s' contains spaces or non-ASCII characters", flag, v);
    return IOTCA_OK;
}

/* Everything about the request that can be checked before anything is created or sent. */
static iotca_rc check_flags(const cli *c, long *ttl, iotca_key_type *kt, iotca_names *names) {
    IOTCA_ENSURE(c->profile, IOTCA_E_USAGE, "cert issue needs --profile NAME");
    IOTCA_ENSURE(!(c->csr && c->key_out), IOTCA_E_USAGE,
                 "give either --csr FILE (an existing request) or --key-out FILE (a new key made here), not both");
    IOTCA_ENSURE(c->csr || c->key_out, IOTCA_E_USAGE,
                 "cert issue needs --csr FILE, or --key-out FILE --cn NAME to make a new key here");
    if (c->csr)
        IOTCA_ENSURE(!c->cn && !c->key_type && !c->n_dns && !c->n_ip && !c->n_uri, IOTCA_E_USAGE,
                     "--cn, --dns, --ip, --uri and --key-type apply only with --key-out; a --csr carries its own");
    if (c->key_out) IOTCA_ENSURE(c->cn, IOTCA_E_USAGE, "--key-out needs --cn NAME for the request's subject");
    *ttl = 0;
    if (c->ttl) IOTCA_GUARD(about("--ttl", iotca_duration_parse(c->ttl, ttl)));
    *kt = IOTCA_KEY_ECDSA_P256;
    if (c->key_type) IOTCA_GUARD(about("--key-type", iotca_key_type_parse(c->key_type, kt)));
    memset(names, 0, sizeof *names);
    for (size_t i = 0; i < c->n_dns; i++) {
        IOTCA_GUARD(check_name("--dns", c->dns[i]));
        snprintf(names->dns[names->n_dns++], IOTCA_NAME_MAX + 1, "%s", c->dns[i]);
    }
    for (size_t i = 0; i < c->n_ip; i++) {
        IOTCA_ENSURE(strchr(c->ip[i], '/') == NULL, IOTCA_E_USAGE, "--ip takes one address, not a range: %s", c->ip[i]);
        IOTCA_GUARD(about("--ip", iotca_ip_parse(c->ip[i], &names->ips[names->n_ips++])));
    }
    for (size_t i = 0; i < c->n_uri; i++) {
        IOTCA_GUARD(check_name("--uri", c->uri[i]));
        IOTCA_ENSURE(strchr(c->uri[i], ':') != NULL, IOTCA_E_USAGE, "--uri '%s' needs a scheme (urn:, spiffe://...)",
                     c->uri[i]);
        snprintf(names->uris[names->n_uris++], IOTCA_NAME_MAX + 1, "%s", c->uri[i]);
    }
    const char *paths[3] = {c->key_out, c->out, c->chain_out};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            IOTCA_ENSURE(!paths[i] || !paths[j] || strcmp(paths[i], paths[j]) != 0, IOTCA_E_USAGE,
                         "--key-out, --out and --chain-out must name different files (%s given twice)", paths[i]);
    return IOTCA_OK;
}

/* Reads --csr (PEM or DER), checks its self-signature, and returns it as PEM plus its public key. */
iotca_rc issue_load_csr(const char *path, iotca_buf *pem, iotca_buf *spki) {
    iotca_rc rc = IOTCA_OK;
    iotca_buf raw = {0};
    iotca_csr *csr = NULL;
    IOTCA_TRY(about("--csr", iotca_file_read(path, CSR_FILE_MAX, &raw)));
    IOTCA_TRY(about(path, iotca_csr_parse(iotca_buf_slice(&raw), &csr)));
    const iotca_csr_info *ci = iotca_csr_get(csr);
    IOTCA_TRY(iotca_pem_encode("CERTIFICATE REQUEST", ci->der.p, ci->der.len, pem));
    IOTCA_TRY(iotca_buf_append(spki, ci->spki.p, ci->spki.len));
out:
    iotca_csr_free(csr);
    iotca_buf_free(&raw);
    return rc;
}

iotca_rc issue_new_key_csr(const char *flag, const char *key_out, iotca_key_type kt, iotca_slice subject,
                           const iotca_names *names, iotca_buf *pem, iotca_buf *spki) {
    iotca_rc rc = IOTCA_OK;
    iotca_key *key = NULL;
    iotca_buf csr = {0}, p8 = {.secret = true}, keypem = {.secret = true};
    IOTCA_TRY(iotca_key_generate(kt, &key));
    IOTCA_TRY(iotca_csr_build_names(key, subject, names, &csr));
    IOTCA_TRY(iotca_pem_encode("CERTIFICATE REQUEST", csr.data, csr.len, pem));
    IOTCA_TRY(iotca_key_spki(key, spki));
    IOTCA_TRY(iotca_key_to_pkcs8(key, &p8));
    IOTCA_TRY(iotca_pem_encode("PRIVATE KEY", p8.data, p8.len, &keypem));
    IOTCA_TRY(about(flag, iotca_file_create(key_out, keypem.data, keypem.len, 0600)));
out:
    iotca_key_free(key);
    iotca_buf_free(&csr);
    iotca_buf_free(&p8);
    iotca_buf_free(&keypem);
    return rc;
}

/* Makes the key, writes it to --key-out and builds the CSR for --cn and the names. The key stays here. */
static iotca_rc new_key_and_csr(const cli *c, iotca_key_type kt, const iotca_names *names, iotca_buf *pem,
                                iotca_buf *spki) {
    iotca_buf subject = {0};
    iotca_rc rc = about("--cn", iotca_name_build(NULL, NULL, NULL, c->cn, &subject));
    if (rc == IOTCA_OK)
        rc = issue_new_key_csr("--key-out", c->key_out, kt, iotca_buf_slice(&subject), names, pem, spki);
    iotca_buf_free(&subject);
    return rc;
}

bool issue_answer_ok(const json_t *doc, const iotca_buf *spki) {
    const char *pem = jstr(doc, "certificate", NULL);
    if (pem == NULL || jstr(doc, "chain", NULL) == NULL || jstr(doc, "serial", NULL) == NULL) {
        cli_err("the server's answer lacks serial, certificate or chain");
        return false;
    }
    iotca_cert *cert = NULL;
    bool ok = iotca_cert_parse(iotca_slice_of(pem, strlen(pem)), &cert) == IOTCA_OK &&
              iotca_slice_eq(iotca_cert_get(cert)->spki, iotca_buf_slice(spki));
    iotca_cert_free(cert);
    if (!ok) cli_err("the server answered with a certificate that does not parse or is not for this request's key");
    return ok;
}

static size_t count_certs(const char *pem) {
    size_t n = 0;
    for (const char *p = pem; (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL; p++) n++;
    return n;
}

/* Appends a PEM text, making sure it ends with a newline. */
static iotca_rc add_pem(iotca_buf *b, const char *pem) {
    IOTCA_GUARD(iotca_buf_append_str(b, pem));
    if (b->len && b->data[b->len - 1] != '\n') IOTCA_GUARD(iotca_buf_append_byte(b, '\n'));
    return IOTCA_OK;
}

int issue_write_outputs(const cli *c, const json_t *doc) {
    const char *leaf = jstr(doc, "certificate", ""), *chain = jstr(doc, "chain", "");
    iotca_buf main_out = {0}, chain_out = {0};
    int code = EXIT_OK;
    if (add_pem(&main_out, leaf) != IOTCA_OK || (c->chain_out ? add_pem(&chain_out, chain) : add_pem(&main_out, chain)))
        code = cli_report(IOTCA_E_INTERNAL);
    if (code == EXIT_OK && c->out &&
        iotca_file_create(c->out, main_out.data, main_out.len, 0644) != IOTCA_OK) {
        cli_err("--out: %s", iotca_error_detail());
        code = EXIT_LOCAL;
    }
    if (code == EXIT_OK && c->chain_out &&
        iotca_file_create(c->chain_out, chain_out.data, chain_out.len, 0644) != IOTCA_OK) {
        cli_err("--chain-out: %s", iotca_error_detail());
        code = EXIT_LOCAL;
    }
    if (code != EXIT_OK || (c->out == NULL && !c->json)) {
        if (code != EXIT_OK) cli_err("the certificate was issued; here it is on standard output");
        fwrite(main_out.data, 1, main_out.len, stdout);
        if (code != EXIT_OK && c->chain_out) fwrite(chain_out.data, 1, chain_out.len, stdout);
    }
    iotca_buf_free(&main_out);
    iotca_buf_free(&chain_out);
    return code;
}

/* A leaf cut short by its issuer's end says so, with what was asked and what was granted (the answer's ttl). */
static void cut_short(FILE *f, const json_t *doc) {
    const json_t *t = json_object_get(doc, "ttl");
    if (!json_is_string(json_object_get(t, "capped_by"))) return;
    char asked[IOTCA_DURATION_TEXT], granted[IOTCA_DURATION_TEXT];
    fprintf(f, "  cut short:   asked %s, granted %s: its issuer ends ",
            iotca_duration_format((long)json_integer_value(json_object_get(t, "asked")), asked),
            iotca_duration_format((long)json_integer_value(json_object_get(t, "granted")), granted));
    out_safe(f, jstr(t, "issuer_not_after", "?"));
    fputs(" and a certificate never outlives its issuer\n", f);
}

void issue_summary(const cli *c, const json_t *doc, const char *key_type) {
    FILE *f = c->out ? stdout : stderr; /* keep stdout pure PEM when the certificate goes there */
    char issuer[32];
    const char *renews = jstr(doc, "renews", NULL);
    if (renews) {
        fputs("renewed ", f);
        out_safe(f, renews);
        fputs(" as ", f);
    } else {
        fputs("issued ", f);
    }
    out_safe(f, jstr(doc, "serial", "?"));
    fputs(" (profile ", f);
    out_safe(f, jstr(doc, "profile", c->profile ? c->profile : "?"));
    fputs(", issuer ", f);
    out_safe(f, jscalar(doc, "issuer", issuer, sizeof issuer, "?"));
    fputs("), valid ", f);
    out_safe(f, jstr(doc, "not_before", "?"));
    fputs(" to ", f);
    out_safe(f, jstr(doc, "not_after", "?"));
    fputc('\n', f);
    cut_short(f, doc);
    size_t n = count_certs(jstr(doc, "chain", ""));
    const char *key_out = c->key_out ? c->key_out : c->new_key;
    if (key_out) fprintf(f, "  key:         %s (%s, never sent)\n", key_out, key_type);
    if (c->chain_out) {
        fprintf(f, "  certificate: %s (leaf)\n", c->out ? c->out : "standard output");
        fprintf(f, "  chain:       %s (%zu intermediate%s)\n", c->chain_out, n, n == 1 ? "" : "s");
    } else {
        fprintf(f, "  certificate: %s (leaf + %zu intermediate%s)\n", c->out ? c->out : "standard output", n,
                n == 1 ? "" : "s");
    }
}

/* cert issue (POST /v1/certificates), or cert bridge (POST /v1/bridges, with the issuer and justification) */
static int issue(cli *c, bool bridge) {
    long ttl;
    iotca_key_type kt;
    iotca_names *names = calloc(1, sizeof *names); /* ~16 KiB: off the stack */
    iotca_buf csr_pem = {0}, spki = {0};
    json_t *req = NULL, *doc = NULL;
    bool key_written = false;
    int code;
    iotca_rc rc = names ? check_flags(c, &ttl, &kt, names) : iotca_error_set(IOTCA_E_INTERNAL, "out of memory");
    if (rc == IOTCA_OK) rc = http_check_target(c);
    if (rc == IOTCA_OK && c->key_out) rc = out_path_free("--key-out", c->key_out);
    if (rc == IOTCA_OK && c->out) rc = out_path_free("--out", c->out);
    if (rc == IOTCA_OK && c->chain_out) rc = out_path_free("--chain-out", c->chain_out);
    if (rc == IOTCA_OK)
        rc = c->csr ? issue_load_csr(c->csr, &csr_pem, &spki) : new_key_and_csr(c, kt, names, &csr_pem, &spki);
    key_written = rc == IOTCA_OK && c->key_out;
    if (rc == IOTCA_OK && iotca_buf_cstr(&csr_pem) != IOTCA_OK) rc = IOTCA_E_INTERNAL;
    if (rc != IOTCA_OK) {
        code = cli_report(rc);
        goto out;
    }
    req = json_pack("{s:s, s:s}", "csr", (const char *)csr_pem.data, "profile", c->profile);
    if (req && ttl) json_object_set_new(req, "ttl", json_integer(ttl));
    if (req && bridge) {
        json_object_set_new(req, "issuer", json_integer(strtoll(c->issuer, NULL, 10)));
        json_object_set_new(req, "justification", json_string(c->justification));
    }
    code = req ? http_json(c, "POST", bridge ? "/v1/bridges" : "/v1/certificates", req, &doc) : EXIT_LOCAL;
    if (code == EXIT_OK && !issue_answer_ok(doc, &spki)) code = EXIT_SERVER;
    if (code != EXIT_OK) {
        if (key_written && unlink(c->key_out) == 0) cli_err("no certificate was received; removed the new key %s", c->key_out);
        goto out;
    }
    if (c->json) out_json(doc);
    code = issue_write_outputs(c, doc);
    if (!c->json) issue_summary(c, doc, iotca_key_type_name(kt));
out:
    json_decref(req);
    json_decref(doc);
    iotca_buf_free(&csr_pem);
    iotca_buf_free(&spki);
    free(names);
    return code;
}

int cmd_cert_issue(cli *c) { return issue(c, false); }

/* cert bridge: --issuer is a positive decimal id and --justification 1 to 200 bytes, checked before anything
 * is made (a key included); the daemon checks the rest (a retiring issuer, a profile that allows bridges). */
int cmd_cert_bridge(cli *c) {
    char *end = NULL;
    long long id = c->issuer ? strtoll(c->issuer, &end, 10) : 0;
    if (!c->issuer || !*c->issuer || *end || id <= 0) {
        cli_err("cert bridge needs --issuer ID, the retiring issuer's id (a positive number; see iotca issuers list)");
        return EXIT_USAGE;
    }
    if (!c->justification || !*c->justification || strlen(c->justification) > 200) {
        cli_err("cert bridge needs --justification TEXT of 1 to 200 bytes: why the devices need it (it is audited)");
        return EXIT_USAGE;
    }
    return issue(c, true);
}
