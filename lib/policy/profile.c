/* Profile enforcement: every rule a request can break is checked here and named in the refusal. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iotca/policy.h"

#define REFUSE(p, rule, ...) return refuse((p), (rule), __VA_ARGS__)

static iotca_rc refuse(const iotca_profile *p, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static iotca_rc refuse(const iotca_profile *p, const char *rule, const char *fmt, ...) {
    char why[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return iotca_error_set(IOTCA_E_POLICY, "profile %s: rule %s: %s", p->name, rule, why);
}

/* The requested SAN as the CSR carries it (or, renewing without a CSR, as the renewed certificate does); a
 * name the parser refuses is refused under the rule of its kind, keeping the parser's category (a policy
 * refusal for a name's bytes or the number of names, a parse error for an IP address of the wrong size, RFC
 * 5280 §4.2.1.6). */
static iotca_rc requested_names(const iotca_profile *p, const iotca_request *req, iotca_names *out) {
    iotca_rc rc;
    if (req->csr) {
        rc = iotca_csr_names(req->csr, out);
    } else {
        memset(out, 0, sizeof *out);
        iotca_slice san = iotca_cert_get(req->renews)->san;
        rc = san.len ? iotca_names_parse(san, out) : IOTCA_OK;
    }
    if (rc == IOTCA_OK) return IOTCA_OK;
    const char *rule = out->fault == IOTCA_NAMES_FAULT_COUNT ? "san.count"
                     : out->fault == IOTCA_NAMES_FAULT_DNS   ? "san.dns"
                     : out->fault == IOTCA_NAMES_FAULT_IP    ? "san.ip"
                     : out->fault == IOTCA_NAMES_FAULT_URI   ? "san.uri"
                                                             : NULL;
    if (rule == NULL) return rc; /* malformed DER: the parser's words */
    return iotca_error_set(rc, "profile %s: rule %s: %s", p->name, rule, iotca_error_detail());
}

iotca_rc iotca_profile_validate(const iotca_profile *p) {
    IOTCA_ENSURE(p->name && *p->name && strlen(p->name) < 64, IOTCA_E_USAGE, "profile needs a name (< 64 chars)");
    IOTCA_ENSURE(p->issuer_group && *p->issuer_group && strlen(p->issuer_group) < 64, IOTCA_E_USAGE,
                 "profile %s: issuer_group is required", p->name);
    IOTCA_ENSURE(p->key_types != 0, IOTCA_E_USAGE, "profile %s: key_types must allow at least one type", p->name);
    IOTCA_ENSURE(p->max_ttl > 0 && p->default_ttl > 0 && p->default_ttl <= p->max_ttl, IOTCA_E_USAGE,
                 "profile %s: need 0 < default_ttl <= max_ttl", p->name);
    /* a bridge lets devices that pinned a retiring issuer in once more: short-lived by design */
    IOTCA_ENSURE(p->bridge_max_ttl >= 0 && p->bridge_max_ttl <= p->max_ttl && p->bridge_max_ttl <= 30L * 86400,
                 IOTCA_E_USAGE, "profile %s: bridge_max_ttl must be at most max_ttl and at most 30 days", p->name);
    IOTCA_ENSURE(p->eku != 0, IOTCA_E_USAGE, "profile %s: eku is required", p->name);
    IOTCA_ENSURE(!(p->key_usage & (IOTCA_KU_KEY_CERT_SIGN | IOTCA_KU_CRL_SIGN)), IOTCA_E_USAGE,
                 "profile %s: leaves may not have keyCertSign or cRLSign", p->name);
    IOTCA_ENSURE(p->n_dns_suffixes <= IOTCA_PROFILE_MAX_RULES && p->n_ip_ranges <= IOTCA_PROFILE_MAX_RULES &&
                     p->n_uri_prefixes <= IOTCA_PROFILE_MAX_RULES,
                 IOTCA_E_USAGE, "profile %s: too many rules", p->name);
    for (size_t i = 0; i < p->n_dns_suffixes; i++)
        IOTCA_ENSURE(p->dns_suffixes[i] && *p->dns_suffixes[i], IOTCA_E_USAGE, "profile %s: empty dns suffix",
                     p->name);
    return IOTCA_OK;
}

void iotca_decision_free(iotca_decision *d) { iotca_buf_free(&d->subject); }

/* RFC 5280-style subtree match: name equals suffix or ends with "." + suffix. */
static bool under(const char *name, const char *suffix) {
    if (*suffix == '.') suffix++;
    size_t n = strlen(name), s = strlen(suffix);
    if (n == s) return strcasecmp(name, suffix) == 0;
    return n > s && name[n - s - 1] == '.' && strcasecmp(name + n - s, suffix) == 0;
}

/* RFC 1123 host name syntax (plus a leading "*." when wildcards are allowed). */
static bool valid_dns(const char *d, bool *wildcard) {
    *wildcard = strncmp(d, "*.", 2) == 0;
    if (*wildcard) d += 2;
    size_t label = 0, total = strlen(d);
    if (total == 0 || total > 253) return false;
    for (const char *p = d;; p++) {
        if (*p == '.' || *p == 0) {
            if (label == 0 || label > 63 || p[-1] == '-') return false;
            if (*p == 0) return true;
            label = 0;
            continue;
        }
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  (*p == '-' && label > 0);
        if (!ok) return false;
        label++;
    }
}

static bool ip_in(const iotca_ip *ip, const iotca_ip *range) {
    if (ip->len != range->len) return false;
    for (size_t i = 0; i < ip->len; i++)
        if ((ip->addr[i] & range->mask[i]) != range->addr[i]) return false;
    return true;
}

static iotca_rc check_names(const iotca_profile *p, const iotca_names *n, const char *cn) {
    if (n->n_other) REFUSE(p, "san.other", "only DNS, IP and URI names are allowed");
    size_t total = n->n_dns + n->n_ips + n->n_uris, max = p->max_names ? p->max_names : IOTCA_SPEC_MAX_NAMES;
    if (total > max) REFUSE(p, "san.count", "%zu names requested, at most %zu allowed", total, max);
    if (p->require_san && total == 0) REFUSE(p, "san.required", "the CSR requests no subjectAltName");
    for (size_t i = 0; i < n->n_dns; i++) {
        bool wild;
        if (!valid_dns(n->dns[i], &wild)) REFUSE(p, "san.dns", "'%s' is not a valid DNS name", n->dns[i]);
        if (wild && !p->allow_wildcards) REFUSE(p, "san.wildcard", "wildcard '%s' not allowed", n->dns[i]);
        bool ok = false;
        for (size_t j = 0; j < p->n_dns_suffixes && !ok; j++) ok = under(n->dns[i] + (wild ? 2 : 0), p->dns_suffixes[j]);
        if (!ok)
            REFUSE(p, "san.dns", "'%s' is not under an allowed domain%s%s", n->dns[i], p->n_dns_suffixes ? " (" : "",
                   p->n_dns_suffixes ? p->dns_suffixes[0] : " (none allowed)");
    }
    for (size_t i = 0; i < n->n_ips; i++) {
        bool ok = false;
        for (size_t j = 0; j < p->n_ip_ranges && !ok; j++) ok = ip_in(&n->ips[i], &p->ip_ranges[j]);
        if (!ok) REFUSE(p, "san.ip", "IP address #%zu is outside the allowed ranges", i + 1);
    }
    for (size_t i = 0; i < n->n_uris; i++) {
        bool ok = false;
        for (size_t j = 0; j < p->n_uri_prefixes && !ok; j++)
            ok = strncmp(n->uris[i], p->uri_prefixes[j], strlen(p->uri_prefixes[j])) == 0;
        if (!ok) REFUSE(p, "san.uri", "'%s' does not start with an allowed prefix", n->uris[i]);
    }
    if (p->cn_in_san && cn && *cn) {
        bool ok = false;
        for (size_t i = 0; i < n->n_dns && !ok; i++) ok = strcasecmp(n->dns[i], cn) == 0;
        for (size_t i = 0; i < n->n_uris && !ok; i++) {
            const char *u = n->uris[i], *colon = strrchr(u, ':'), *slash = strrchr(u, '/');
            const char *tail = slash && slash > colon ? slash + 1 : colon ? colon + 1 : u;
            ok = strcmp(u, cn) == 0 || strcmp(tail, cn) == 0;
        }
        if (!ok) REFUSE(p, "subject.cn", "CN '%s' does not appear among the requested names", cn);
    }
    return IOTCA_OK;
}

iotca_rc iotca_policy_check_names(const iotca_profile *p, const iotca_names *names) {
    IOTCA_ENSURE(p && names, IOTCA_E_USAGE, "iotca_policy_check_names: NULL argument");
    return check_names(p, names, NULL);
}

iotca_rc iotca_policy_decide(const iotca_profile *p, const iotca_request *req, time_t now, time_t issuer_not_after,
                             iotca_decision *out) {
    memset(out, 0, sizeof *out);
    IOTCA_ENSURE(req->csr || req->renews, IOTCA_E_USAGE, "profile %s: a request needs a CSR or a certificate to renew",
                 p->name);
    /* renewing with the same key: the renewed certificate's subject and key stand for the CSR's */
    iotca_key_type kt = req->csr ? iotca_csr_get(req->csr)->key_type : iotca_cert_get(req->renews)->key_type;
    iotca_slice subject = req->csr ? iotca_csr_get(req->csr)->subject : iotca_cert_get(req->renews)->subject;
    if (!req->csr && !iotca_cert_get(req->renews)->key_type_supported)
        REFUSE(p, "key_types", "the renewed certificate's key is of a type iotca does not issue for");
    if (!(p->key_types & (1u << kt))) REFUSE(p, "key_types", "%s keys are not allowed", iotca_key_type_name(kt));
    long ttl = req->ttl ? req->ttl : p->default_ttl;
    if (ttl <= 0) REFUSE(p, "ttl", "TTL must be positive");
    if (ttl > p->max_ttl) {
        char asked[IOTCA_DURATION_TEXT], max[IOTCA_DURATION_TEXT];
        REFUSE(p, "ttl", "TTL of %s exceeds the maximum of %s", iotca_duration_format(ttl, asked),
               iotca_duration_format(p->max_ttl, max));
    }
    IOTCA_GUARD(requested_names(p, req, &out->names));
    iotca_buf cn = {0};
    iotca_rc rc = iotca_name_cn(subject, &cn);
    if (rc == IOTCA_OK) rc = check_names(p, &out->names, (const char *)cn.data);
    if (rc == IOTCA_OK) {
        if (p->subject == IOTCA_SUBJECT_FROM_CSR) rc = iotca_buf_append(&out->subject, subject.p, subject.len);
        else if (cn.len) rc = iotca_name_build(NULL, NULL, NULL, (const char *)cn.data, &out->subject);
        else rc = refuse(p, "subject.cn", "the CSR has no CN to build the subject from");
    }
    iotca_buf_free(&cn);
    if (rc != IOTCA_OK) {
        iotca_decision_free(out);
        return rc;
    }
    out->not_before = now - 60; /* small backdate for device clock skew */
    out->not_after = now + ttl;
    out->ttl_asked = ttl;
    if (out->not_after > issuer_not_after) { /* SPEC §3 */
        out->not_after = issuer_not_after;
        out->capped_by_issuer = true;
    }
    if (out->not_after <= now) {
        iotca_decision_free(out);
        REFUSE(p, "ttl", "the issuer expires before the certificate could be valid");
    }
    out->ttl_granted = (long)(out->not_after - now);
    out->eku = p->eku;
    out->key_usage = p->key_usage ? p->key_usage : IOTCA_KU_DIGITAL_SIGNATURE;
    return IOTCA_OK;
}

void iotca_decision_apply(const iotca_decision *d, iotca_cert_spec *s) {
    s->subject = iotca_buf_slice(&d->subject);
    s->not_before = d->not_before;
    s->not_after = d->not_after;
    s->eku = d->eku;
    s->key_usage = d->key_usage;
    s->is_ca = false;
    s->path_len = -1;
    s->n_dns = d->names.n_dns;
    for (size_t i = 0; i < d->names.n_dns; i++) s->dns[i] = d->names.dns[i];
    s->n_ips = d->names.n_ips;
    for (size_t i = 0; i < d->names.n_ips; i++) s->ips[i] = d->names.ips[i];
    s->n_uris = d->names.n_uris;
    for (size_t i = 0; i < d->names.n_uris; i++) s->uris[i] = d->names.uris[i];
}

iotca_rc iotca_duration_parse(const char *s, long *seconds) {
    IOTCA_ENSURE(s && *s, IOTCA_E_USAGE, "empty duration");
    char *end;
    long v = strtol(s, &end, 10);
    IOTCA_ENSURE(end != s && v > 0, IOTCA_E_USAGE, "invalid duration '%s' (use e.g. 90d, 12h, 3600s)", s);
    long unit = 1;
    if (*end == 'd') unit = 86400, end++;
    else if (*end == 'h') unit = 3600, end++;
    else if (*end == 'm') unit = 60, end++;
    else if (*end == 's') end++;
    IOTCA_ENSURE(*end == 0, IOTCA_E_USAGE, "invalid duration '%s' (use e.g. 90d, 12h, 3600s)", s);
    IOTCA_ENSURE(v <= 36525L * 86400 / unit, IOTCA_E_USAGE, "duration '%s' exceeds 100 years", s);
    *seconds = v * unit;
    return IOTCA_OK;
}

/* "N unit" or "N units". */
static const char *plural(long n, const char *unit, char *buf, size_t size) {
    snprintf(buf, size, "%ld %s%s", n, unit, n == 1 ? "" : "s");
    return buf;
}

const char *iotca_duration_format(long seconds, char out[IOTCA_DURATION_TEXT]) {
    /* the largest unit and, if not zero, the next one: "90 days", "2 days 12 hours", "36 minutes" */
    static const struct {
        long size;
        const char *name;
    } units[] = {{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
    size_t i = 0;
    while (i + 1 < sizeof units / sizeof units[0] && seconds < units[i].size) i++;
    char a[40], b[40];
    long big = seconds / units[i].size, small = i + 1 < sizeof units / sizeof units[0]
                                                    ? seconds % units[i].size / units[i + 1].size
                                                    : 0;
    if (small > 0)
        snprintf(out, IOTCA_DURATION_TEXT, "%s %s", plural(big, units[i].name, a, sizeof a),
                 plural(small, units[i + 1].name, b, sizeof b));
    else
        snprintf(out, IOTCA_DURATION_TEXT, "%s", plural(big, units[i].name, a, sizeof a));
    return out;
}
