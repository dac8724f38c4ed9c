/* iotca trust-profile add | list | show | replace | delete: the device trust stores in the field that the daemon
 * checks every rotation against (SPEC §7), kept right so one mistake does not hold every rotation back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "iotca/file.h"
#include "iotca/fleet.h"
#include "iotca/pem.h"
#include "iotca/x509.h"

/* The body of add and replace: the store file, stack and end of life (checked here, before anything is sent),
 * and the acknowledged lint codes. */
static iotca_rc profile_body(const cli *c, const char *cmd, const char *name, json_t **body) {
    IOTCA_ENSURE(c->trust_store && c->stack && c->until, IOTCA_E_USAGE, "trust-profile %s needs --trust-store, --stack and --until", cmd);
    iotca_stack st;
    time_t until;
    IOTCA_GUARD(iotca_stack_parse(c->stack, &st));
    IOTCA_GUARD(parse_date(c->until, &until));
    IOTCA_GUARD(http_check_target(c));
    iotca_buf pem = {0};
    iotca_rc rc = iotca_file_read(c->trust_store, 1 << 20, &pem);
    if (rc == IOTCA_OK) rc = iotca_buf_cstr(&pem);
    if (rc != IOTCA_OK) {
        iotca_buf_free(&pem);
        return rc;
    }
    char day[16];
    struct tm tm;
    gmtime_r(&until, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    *body = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "pem", (const char *)pem.data, "stack", iotca_stack_name(st),
                      "until", day);
    iotca_buf_free(&pem);
    if (c->n_acknowledge) { /* lint errors the registrar accepts (the daemon refuses a store with others) */
        json_t *ack = json_array();
        for (size_t i = 0; i < c->n_acknowledge; i++) json_array_append_new(ack, json_string(c->acknowledge[i]));
        json_object_set_new(*body, "acknowledge", ack);
    }
    return IOTCA_OK;
}

/* The lint's warnings of an add or replace answer, one a line. */
static void print_warnings(const json_t *doc) {
    size_t i;
    const json_t *w;
    json_array_foreach(json_object_get(doc, "warnings"), i, w) {
        fputs("warning: ", stdout);
        out_safe(stdout, jstr(w, "code", "?"));
        fputs(": ", stdout);
        out_safe(stdout, jstr(w, "message", ""));
        fputc('\n', stdout);
    }
}

/* "/v1/trust-profiles/NAME" with NAME percent-encoded; a name the daemon cannot hold is a usage error. */
static iotca_rc profile_path(const char *name, char out[256]) {
    size_t n = strlen(name);
    IOTCA_ENSURE(n > 0 && n < 64, IOTCA_E_USAGE, "a trust profile NAME has 1 to 63 characters");
    IOTCA_ENSURE(strchr(name, '/') == NULL, IOTCA_E_USAGE, "a trust profile NAME has no '/'");
    size_t k = (size_t)snprintf(out, 256, "/v1/trust-profiles/");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                     *p == '_' || *p == '.' || *p == '~';
        k += (size_t)snprintf(out + k, 256 - k, plain ? "%c" : "%%%02X", *p);
    }
    return IOTCA_OK;
}

int cmd_trust_profile_add(cli *c) {
    if (!c->name)
        return cli_report(iotca_error_set(IOTCA_E_USAGE, "trust-profile add needs --name, --trust-store, --stack and --until"));
    json_t *body = NULL, *doc = NULL;
    iotca_rc rc = profile_body(c, "add", c->name, &body);
    if (rc != IOTCA_OK) return cli_report(rc);
    int code = http_json(c, "POST", "/v1/trust-profiles", body, &doc);
    json_decref(body);
    if (code != EXIT_OK) return code;
    if (c->json) {
        out_json(doc);
    } else {
        fputs("registered trust profile ", stdout);
        out_safe(stdout, jstr(doc, "name", "?"));
        printf(" (%s until %s); rotations that would break it are now refused\n", jstr(doc, "stack", "?"),
               jstr(doc, "until", "?"));
        print_warnings(doc);
    }
    json_decref(doc);
    return EXIT_OK;
}

int cmd_trust_profile_list(cli *c) {
    iotca_rc rc = http_check_target(c);
    if (rc != IOTCA_OK) return cli_report(rc);
    json_t *doc = NULL;
    int code = http_json(c, "GET", "/v1/trust-profiles", NULL, &doc);
    if (code != EXIT_OK) return code;
    if (c->json) out_json(doc);
    else {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(doc, "trust_profiles"), i, p) {
            out_safe(stdout, jstr(p, "name", "?"));
            printf("  %s  until %s\n", jstr(p, "stack", "?"), jstr(p, "until", "?"));
        }
        if (json_array_size(json_object_get(doc, "trust_profiles")) == 0)
            puts("no trust profiles; register one with: iotca trust-profile add");
    }
    json_decref(doc);
    return EXIT_OK;
}

/* Prints each certificate of the store: subject, notAfter, SHA-256 fingerprint. */
static void print_store(const char *pem) {
    iotca_slice in = iotca_slice_of(pem, strlen(pem));
    iotca_buf der = {0};
    for (int i = 1; iotca_pem_next(&in, "CERTIFICATE", &der, NULL) == IOTCA_OK; i++) {
        iotca_cert *cert = NULL;
        if (iotca_cert_parse(iotca_buf_slice(&der), &cert) == IOTCA_OK) {
            iotca_buf subj = {0};
            char na[32], fp[65];
            uint8_t h[32];
            iotca_name_format(iotca_cert_get(cert)->subject, &subj);
            iotca_buf_cstr(&subj);
            fmt_time(iotca_cert_get(cert)->not_after, na);
            iotca_cert_fingerprint(cert, h);
            for (int k = 0; k < 32; k++) snprintf(fp + 2 * k, 3, "%02x", h[k]);
            printf("  certificate %d: ", i);
            out_safe(stdout, subj.data ? (const char *)subj.data : "");
            printf("\n    not after %s, SHA-256 %s\n", na, fp);
            iotca_buf_free(&subj);
        } else {
            printf("  certificate %d: does not parse\n", i);
        }
        iotca_cert_free(cert);
        iotca_buf_free(&der);
    }
}

int cmd_trust_profile_show(cli *c) {
    char path[256];
    iotca_rc rc = profile_path(c->args[0], path);
    if (rc == IOTCA_OK) rc = http_check_target(c);
    if (rc == IOTCA_OK && c->out) rc = out_path_free("--out", c->out);
    if (rc != IOTCA_OK) return cli_report(rc);
    json_t *doc = NULL;
    int code = http_json(c, "GET", path, NULL, &doc);
    if (code != EXIT_OK) return code;
    const char *pem = jstr(doc, "pem", "");
    if (c->out && iotca_file_create(c->out, pem, strlen(pem), 0644) != IOTCA_OK) {
        cli_err("--out: %s", iotca_error_detail());
        code = EXIT_LOCAL;
    }
    if (c->json) {
        out_json(doc);
    } else {
        out_field("Name", jstr(doc, "name", "?"));
        out_field("Stack", jstr(doc, "stack", "?"));
        out_field("Until", jstr(doc, "until", "?"));
        out_field("Registered", jstr(doc, "created_at", "?"));
        print_store(pem);
        if (c->out && code == EXIT_OK) printf("wrote the trust store to %s\n", c->out);
    }
    json_decref(doc);
    return code;
}

int cmd_trust_profile_replace(cli *c) {
    char path[256];
    json_t *body = NULL, *doc = NULL;
    iotca_rc rc = profile_path(c->args[0], path);
    if (rc == IOTCA_OK) rc = profile_body(c, "replace", c->args[0], &body);
    if (rc != IOTCA_OK) return cli_report(rc);
    int code = http_json(c, "PUT", path, body, &doc);
    json_decref(body);
    if (code != EXIT_OK) return code;
    if (c->json) {
        out_json(doc);
    } else {
        fputs("replaced trust profile ", stdout);
        out_safe(stdout, jstr(doc, "name", "?"));
        printf(" (now %s until %s); the next rotation is checked against it\n", jstr(doc, "stack", "?"),
               jstr(doc, "until", "?"));
        print_warnings(doc);
    }
    json_decref(doc);
    return EXIT_OK;
}

int cmd_trust_profile_delete(cli *c) {
    char path[256];
    iotca_rc rc = profile_path(c->args[0], path);
    if (rc == IOTCA_OK) rc = http_check_target(c);
    if (rc != IOTCA_OK) return cli_report(rc);
    json_t *doc = NULL;
    int code = http_json(c, "DELETE", path, NULL, &doc);
    if (code != EXIT_OK) return code;
    if (c->json) {
        out_json(doc);
    } else {
        fputs("deleted trust profile ", stdout);
        out_safe(stdout, c->args[0]);
        puts("; rotations are no longer checked against it");
    }
    json_decref(doc);
    return EXIT_OK;
}
