/* The dashboard's reads (issue 27): the roots and cross-certificates, one certificate described, a text search
 * of the inventory, the fleet risk of every registered trust profile, and counts by week. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca_internal.h"
#include "iotca/ca_dashboard.h"
#include "iotca/key.h"

/* The subject or issuer Name as text, cut to fit. */
static void name_text(iotca_slice name, char *out, size_t cap) {
    iotca_buf b = {0};
    if (iotca_name_format(name, &b) == IOTCA_OK && iotca_buf_cstr(&b) == IOTCA_OK)
        snprintf(out, cap, "%s", (const char *)b.data);
    else
        snprintf(out, cap, "(unreadable name)");
    iotca_buf_free(&b);
}

/* The Name's CN (the whole Name as text when it has none), cut to fit. */
static void cn_text(iotca_slice name, char *out, size_t cap) {
    iotca_buf b = {0};
    if (iotca_name_cn(name, &b) == IOTCA_OK && b.len && iotca_buf_cstr(&b) == IOTCA_OK)
        snprintf(out, cap, "%s", (const char *)b.data);
    else
        name_text(name, out, cap);
    iotca_buf_free(&b);
}

static void anchor_of(const iotca_cert *c, bool cross, size_t root_index, iotca_ca_anchor *a) {
    const iotca_cert_info *i = iotca_cert_get(c);
    memset(a, 0, sizeof *a);
    a->cross = cross;
    a->root_index = root_index;
    name_text(i->subject, a->subject, sizeof a->subject);
    name_text(i->issuer, a->issuer, sizeof a->issuer);
    cn_text(i->subject, a->subject_cn, sizeof a->subject_cn);
    cn_text(i->issuer, a->issuer_cn, sizeof a->issuer_cn);
    a->not_before = i->not_before;
    a->not_after = i->not_after;
    iotca_cert_spki_pin(c, a->pin);
    iotca_cert_fingerprint(c, a->sha256);
    snprintf(a->key, sizeof a->key, "%s", iotca_key_type_name(i->key_type));
}

void iotca_ca_anchors(const iotca_ca *ca, iotca_ca_anchor *out, size_t max, size_t *n) {
    *n = 0;
    for (size_t i = 0; i < ca->n_roots && *n < max; i++) anchor_of(ca->roots[i], false, i, &out[(*n)++]);
    for (size_t i = 0; i < ca->n_cross && *n < max; i++) anchor_of(ca->cross[i], true, ca->cross_root[i], &out[(*n)++]);
}

/* Appends "<kind>:<value>" to the names list, ", " between; a name that does not fit ends the list with "...". */
static void add_name(char *list, size_t cap, const char *kind, const char *value) {
    size_t used = strlen(list);
    if (used >= 3 && strcmp(list + used - 3, "...") == 0) return; /* already cut: the list has ended */
    int w = snprintf(list + used, cap - used, "%s%s:%s", used ? ", " : "", kind, value);
    if (w < 0 || (size_t)w >= cap - used) snprintf(list + (used < cap - 4 ? used : cap - 4), 4, "...");
}

static void names_text(iotca_slice san, char *out, size_t cap) {
    out[0] = 0;
    if (san.len == 0) return;
    iotca_names *nm = calloc(1, sizeof *nm); /* about 20 KB: not on a serving thread's stack */
    if (nm == NULL || iotca_names_parse(san, nm) != IOTCA_OK) {
        snprintf(out, cap, "(unreadable subjectAltName)");
        free(nm);
        return;
    }
    for (size_t i = 0; i < nm->n_dns; i++) add_name(out, cap, "DNS", nm->dns[i]);
    for (size_t i = 0; i < nm->n_ips; i++) {
        char ip[INET6_ADDRSTRLEN] = "?";
        inet_ntop(nm->ips[i].len == 4 ? AF_INET : AF_INET6, nm->ips[i].addr, ip, sizeof ip);
        add_name(out, cap, "IP", ip);
    }
    for (size_t i = 0; i < nm->n_uris; i++) add_name(out, cap, "URI", nm->uris[i]);
    if (nm->n_other) {
        char more[32];
        snprintf(more, sizeof more, "%zu", nm->n_other);
        add_name(out, cap, "other names", more);
    }
    free(nm);
}

iotca_rc iotca_ca_cert_describe(iotca_slice der, iotca_ca_cert_desc *out) {
    memset(out, 0, sizeof *out);
    iotca_cert *c = NULL;
    IOTCA_GUARD(iotca_cert_parse_lenient(der, &c));
    const iotca_cert_info *i = iotca_cert_get(c);
    name_text(i->subject, out->subject, sizeof out->subject);
    name_text(i->issuer, out->issuer, sizeof out->issuer);
    names_text(i->san, out->names, sizeof out->names);
    snprintf(out->key, sizeof out->key, "%s", iotca_key_type_name(i->key_type));
    iotca_cert_fingerprint(c, out->sha256);
    iotca_cert_free(c);
    return IOTCA_OK;
}

iotca_rc iotca_ca_cert_search(iotca_ca *ca, const iotca_cert_filter *f, const char *scope, iotca_cert_rec **out,
                              size_t *n, char next[41]) {
    next[0] = 0;
    IOTCA_GUARD(iotca_ca_cert_list(ca, f, out, n));
    if (*n == f->limit) snprintf(next, 41, "%s", (*out)[*n - 1].serial);
    /* the store matched the subject, or the text's bytes anywhere in the DER (an issuer's name, a key): keep
     * those whose subject or SANs hold it, and drop the DER the search needed */
    /* an IP address as the names spell it (inet_ntop's canonical form: 2001:DB8:0::7 is IP:2001:db8::7) */
    const char *as_named = f->text;
    uint8_t addr[16];
    char canon[INET6_ADDRSTRLEN];
    if (f->text && inet_pton(AF_INET, f->text, addr) == 1 && inet_ntop(AF_INET, addr, canon, sizeof canon))
        as_named = canon;
    else if (f->text && inet_pton(AF_INET6, f->text, addr) == 1 && inet_ntop(AF_INET6, addr, canon, sizeof canon))
        as_named = canon;
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++) {
        iotca_cert_rec *r = &(*out)[i];
        iotca_ca_cert_desc d;
        bool keep =
            iotca_scope_allows(scope, r->profile) &&
            (f->text == NULL || strcasestr(r->subject, f->text) ||
             (iotca_ca_cert_describe(iotca_buf_slice(&r->der), &d) == IOTCA_OK && strcasestr(d.names, as_named)));
        iotca_buf_free(&r->der);
        if (keep)
            (*out)[kept++] = *r;
        else
            iotca_cert_rec_free(r);
    }
    *n = kept;
    return IOTCA_OK;
}

void iotca_ca_risks_free(iotca_ca_risk *list, size_t n) {
    if (list == NULL) return;
    for (size_t i = 0; i < n; i++) free(list[i].report);
    free(list);
}

/* The distinct groups with an active or staged issuer, in list order. */
static size_t served_groups(const iotca_issuer_rec *list, size_t n, const char *groups[CA_MAX_ISSUERS]) {
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        if (list[i].state != IOTCA_ISSUER_ACTIVE && list[i].state != IOTCA_ISSUER_STAGED) continue;
        size_t g = 0;
        while (g < ng && strcmp(groups[g], list[i].group) != 0) g++;
        if (g == ng && ng < CA_MAX_ISSUERS) groups[ng++] = list[i].group;
    }
    return ng;
}

iotca_rc iotca_ca_fleet_risk(iotca_ca *ca, time_t now, iotca_ca_risk **out, size_t *n) {
    *out = NULL;
    *n = 0;
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_read_store(ca, &s));
    iotca_issuer_rec *list = NULL;
    iotca_trust_profile_rec *profiles = NULL;
    iotca_ca_risk *v = NULL;
    size_t ni = 0, np = 0, len = 0;
    iotca_rc rc = IOTCA_OK;
    const char *groups[CA_MAX_ISSUERS];
    IOTCA_TRY(iotca_store_trust_profile_list(s, &profiles, &np));
    IOTCA_TRY(iotca_store_issuer_list(s, &list, &ni));
    size_t ng = served_groups(list, ni, groups);
    if (np == 0 || ng == 0) goto out;
    v = calloc(np * ng, sizeof *v);
    IOTCA_CHECK(v != NULL, IOTCA_E_INTERNAL, "out of memory");
    for (size_t p = 0; p < np; p++)
        for (size_t g = 0; g < ng; g++) {
            iotca_ca_risk *k = &v[len++];
            snprintf(k->profile, sizeof k->profile, "%s", profiles[p].name);
            snprintf(k->stack, sizeof k->stack, "%s", profiles[p].stack);
            snprintf(k->group, sizeof k->group, "%s", groups[g]);
            k->until = profiles[p].until;
            k->report = calloc(1, sizeof *k->report);
            IOTCA_CHECK(k->report != NULL, IOTCA_E_INTERNAL, "out of memory");
            iotca_served sched[CA_SCHEDULE_MAX];
            iotca_slice certs[CA_SCHEDULE_MAX];
            size_t nsched = ca_group_schedule(list, ni, groups[g], 0, iotca_slice_of(NULL, 0), 0, now, certs, sched);
            if (ca_check_profile(&profiles[p], sched, nsched, now, k->report) != IOTCA_OK) {
                snprintf(k->error, sizeof k->error, "%s", iotca_error_detail());
                memset(k->report, 0, sizeof *k->report);
            }
        }
    *out = v;
    *n = len;
    v = NULL;
out:
    iotca_ca_risks_free(v, len);
    iotca_issuer_recs_free(list, ni);
    for (size_t i = 0; i < np; i++) iotca_trust_profile_rec_free(&profiles[i]);
    free(profiles);
    return rc;
}

iotca_rc iotca_ca_weekly(iotca_ca *ca, iotca_weekly what, time_t since, size_t weeks, iotca_week_count **out,
                         size_t *n) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_read_store(ca, &s));
    return iotca_store_weekly(s, what, since, weeks, out, n);
}

iotca_rc iotca_ca_weekly_audit(iotca_ca *ca, time_t since, size_t weeks, const char *const *actions,
                               const char *outcome, iotca_week_count **out, size_t *n) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_read_store(ca, &s));
    return iotca_store_weekly_audit(s, since, weeks, actions, outcome, out, n);
}
