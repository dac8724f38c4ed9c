/* Renewal (issue 19, point 7): a successor of a recorded certificate, with the same subject, names and profile,
 * made by the one issuance cycle of issue.c; here only what is particular to it: which certificate is renewed,
 * that it may be, and that the successor says what it said. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca_internal.h"

/* The renewed certificate, loaded and parsed: refused when revoked (a revoked certificate is never renewed:
 * its key or its claim was withdrawn). *profile gets its profile's name. */
static iotca_rc load_renewed(iotca_ca *ca, const char *serial, iotca_cert **cert, char profile[64]) {
    iotca_store *s = NULL;
    iotca_cert_rec rec = {0};
    IOTCA_GUARD(ca_store(ca, &s));
    IOTCA_GUARD(iotca_store_cert_get(s, serial, &rec));
    iotca_rc rc = IOTCA_OK;
    IOTCA_CHECK(!rec.revoked, IOTCA_E_POLICY, "certificate %s is revoked; a revoked certificate is not renewed",
                rec.serial);
    snprintf(profile, 64, "%s", rec.profile);
    IOTCA_TRY(iotca_cert_parse(iotca_buf_slice(&rec.der), cert));
out:
    iotca_cert_rec_free(&rec);
    return rc;
}

iotca_rc iotca_ca_renew_start(iotca_ca *ca, const char *serial, iotca_slice csr, long ttl,
                              const iotca_issue_audit *audit, void (*done)(void *arg), void *arg,
                              iotca_issuance **out) {
    IOTCA_ENSURE(ca && serial && done && out, IOTCA_E_USAGE, "iotca_ca_renew_start: NULL argument");
    *out = NULL;
    iotca_cert *cert = NULL;
    char profile[64];
    IOTCA_GUARD(load_renewed(ca, serial, &cert, profile));
    return ca_issue_start(ca, csr, profile, ttl, audit, cert, serial, NULL, done, arg, out);
}

iotca_rc iotca_ca_renew(iotca_ca *ca, const char *serial, iotca_slice csr, long ttl, const iotca_issue_audit *audit,
                        iotca_issued *out) {
    memset(out, 0, sizeof *out);
    IOTCA_ENSURE(ca && serial, IOTCA_E_USAGE, "iotca_ca_renew: NULL argument");
    iotca_cert *cert = NULL;
    char profile[64];
    IOTCA_GUARD(load_renewed(ca, serial, &cert, profile));
    return ca_issue_sync(ca, csr, profile, ttl, audit, cert, serial, NULL, out);
}

/* One name as people write it in a SAN: "DNS:a.example.com", "IP:10.0.0.1", "URI:urn:x". */
static void name_text(const iotca_names *n, size_t i, char *out, size_t size) {
    if (i < n->n_dns) {
        snprintf(out, size, "DNS:%s", n->dns[i]);
        return;
    }
    i -= n->n_dns;
    if (i < n->n_ips) {
        char ip[INET6_ADDRSTRLEN] = "?";
        inet_ntop(n->ips[i].len == 4 ? AF_INET : AF_INET6, n->ips[i].addr, ip, sizeof ip);
        snprintf(out, size, "IP:%s", ip);
        return;
    }
    snprintf(out, size, "URI:%s", n->uris[i - n->n_ips]);
}

/* Whether b holds name i of a (DNS names compare without case, RFC 4343; the rest byte for byte). */
static bool holds(const iotca_names *b, const iotca_names *a, size_t i) {
    if (i < a->n_dns) {
        for (size_t j = 0; j < b->n_dns; j++)
            if (strcasecmp(b->dns[j], a->dns[i]) == 0) return true;
        return false;
    }
    i -= a->n_dns;
    if (i < a->n_ips) {
        for (size_t j = 0; j < b->n_ips; j++)
            if (b->ips[j].len == a->ips[i].len && memcmp(b->ips[j].addr, a->ips[i].addr, a->ips[i].len) == 0)
                return true;
        return false;
    }
    i -= a->n_ips;
    for (size_t j = 0; j < b->n_uris; j++)
        if (strcmp(b->uris[j], a->uris[i]) == 0) return true;
    return false;
}

static size_t count(const iotca_names *n) { return n->n_dns + n->n_ips + n->n_uris; }

/* The first name one side has and the other lacks, as "the request asks for X" or "... lacks X". */
static iotca_rc names_differ(const iotca_names *had, const iotca_names *asked, const char *serial) {
    char name[IOTCA_NAME_MAX + 8];
    for (size_t i = 0; i < count(asked); i++)
        if (!holds(had, asked, i)) {
            name_text(asked, i, name, sizeof name);
            IOTCA_BAIL(IOTCA_E_USAGE, "renewal of %s keeps its names: the request asks for %s, which it does not have",
                       serial, name);
        }
    for (size_t i = 0; i < count(had); i++)
        if (!holds(asked, had, i)) {
            name_text(had, i, name, sizeof name);
            IOTCA_BAIL(IOTCA_E_USAGE, "renewal of %s keeps its names: the request lacks %s, which it has", serial,
                       name);
        }
    if (count(had) != count(asked) || had->n_other)
        IOTCA_BAIL(IOTCA_E_USAGE, "renewal of %s keeps its names: the request asks for %zu, it has %zu", serial,
                   count(asked), count(had) + had->n_other);
    return IOTCA_OK;
}

iotca_rc ca_renew_check(const iotca_cert *renews, const char *serial, const iotca_decision *d) {
    const iotca_cert_info *ci = iotca_cert_get(renews);
    if (!iotca_slice_eq(ci->subject, iotca_buf_slice(&d->subject))) {
        iotca_buf was = {0}, asked = {0};
        iotca_rc rc = iotca_name_format(ci->subject, &was);
        if (rc == IOTCA_OK) rc = iotca_name_format(iotca_buf_slice(&d->subject), &asked);
        if (rc == IOTCA_OK)
            rc = iotca_error_set(IOTCA_E_USAGE,
                                 "renewal of %s keeps its subject: the request asks for '%s', the certificate has '%s'",
                                 serial, (const char *)asked.data, (const char *)was.data);
        iotca_buf_free(&was);
        iotca_buf_free(&asked);
        return rc;
    }
    iotca_names *had = calloc(1, sizeof *had); /* ~16 KiB: off a crypto thread's stack */
    IOTCA_ENSURE(had != NULL, IOTCA_E_INTERNAL, "out of memory");
    iotca_rc rc = ci->san.len ? iotca_names_parse(ci->san, had) : IOTCA_OK;
    if (rc == IOTCA_OK) rc = names_differ(had, &d->names, serial);
    free(had);
    return rc;
}
