/* Trust-store lint (SPEC §7): the mistakes that stranded real fleets, named before they ship. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "iotca/fleet.h"

static const char *const stack_names[] = {"openssl", "openssl102", "mbedtls", "wolfssl", "bearssl"};

iotca_rc iotca_stack_parse(const char *name, iotca_stack *out) {
    for (int i = 0; name && i < 5; i++)
        if (strcmp(name, stack_names[i]) == 0) {
            *out = (iotca_stack)i;
            return IOTCA_OK;
        }
    IOTCA_BAIL(IOTCA_E_USAGE, "unknown stack '%s' (use openssl, openssl102, mbedtls, wolfssl or bearssl)",
               name ? name : "");
}

const char *iotca_stack_name(iotca_stack s) { return (unsigned)s < 5 ? stack_names[s] : "unknown"; }

static void add(iotca_lint_report *r, iotca_severity sev, const char *code, const iotca_cert *c, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void add(iotca_lint_report *r, iotca_severity sev, const char *code, const iotca_cert *c, const char *fmt, ...) {
    if (r->n >= IOTCA_LINT_MAX_FINDINGS) return;
    iotca_finding *f = &r->findings[r->n++];
    f->severity = sev;
    f->code = code;
    f->subject[0] = 0;
    if (c) {
        iotca_buf s = {0};
        if (iotca_name_format(iotca_cert_get(c)->subject, &s) == IOTCA_OK)
            snprintf(f->subject, sizeof f->subject, "%s", (const char *)s.data);
        iotca_buf_free(&s);
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof f->message, fmt, ap);
    va_end(ap);
    if (sev == IOTCA_LINT_ERROR) r->errors++;
    else r->warnings++;
}

static void date(time_t t, char out[16]) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

/* The critical extensions a stack cannot process in a CA certificate. */
static const char *unparseable(const iotca_cert_info *ci, iotca_stack st) {
    if (ci->has_name_constraints && ci->name_constraints_critical) {
        if (st == IOTCA_STACK_MBEDTLS) return "mbedTLS cannot parse a critical nameConstraints extension";
        if (st == IOTCA_STACK_BEARSSL) return "BearSSL's minimal engine rejects critical nameConstraints";
    }
    if (ci->n_unknown_critical)
        return "it carries a critical extension iotca does not know, which BearSSL and mbedTLS reject";
    return NULL;
}

iotca_rc iotca_lint_trust_store(const iotca_slice *store, size_t n_store, const iotca_slice *served, size_t n_served,
                                iotca_stack stack, time_t now, time_t until, iotca_lint_report *out) {
    memset(out, 0, sizeof *out);
    iotca_cert *certs[IOTCA_LINT_MAX_FINDINGS] = {0}, *chain[16] = {0};
    IOTCA_ENSURE(n_store <= IOTCA_LINT_MAX_FINDINGS && n_served <= 16, IOTCA_E_USAGE, "too many certificates to lint");
    iotca_rc rc = IOTCA_OK;
    size_t roots = 0;
    char d[16];
    for (size_t i = 0; i < n_store; i++) {
        rc = iotca_cert_parse(store[i], &certs[i]);
        IOTCA_CHECK(rc == IOTCA_OK, rc, "trust store certificate %zu: %s", i + 1, iotca_error_detail());
    }
    for (size_t i = 0; i < n_served; i++) {
        rc = iotca_cert_parse(served[i], &chain[i]);
        IOTCA_CHECK(rc == IOTCA_OK, rc, "served certificate %zu: %s", i + 1, iotca_error_detail());
    }
    if (n_store == 0) add(out, IOTCA_LINT_ERROR, "store.empty", NULL, "the trust store holds no certificate");
    for (size_t i = 0; i < n_store; i++) {
        const iotca_cert_info *ci = iotca_cert_get(certs[i]);
        bool root = ci->is_ca && iotca_cert_is_self_signed(certs[i]);
        if (!root) {
            add(out, IOTCA_LINT_ERROR, "store.not_root", certs[i],
                ci->is_ca ? "pins an intermediate; breaks at the next rotation (devices must trust roots only)"
                          : "pins a leaf certificate; breaks at the server's next renewal (devices must trust roots only)");
            continue;
        }
        roots++;
        date(ci->not_after, d);
        if (ci->not_after <= now) add(out, IOTCA_LINT_ERROR, "root.expires", certs[i], "the root expired on %s", d);
        else if (until && ci->not_after < until)
            add(out, IOTCA_LINT_ERROR, "root.expires", certs[i],
                "the root expires on %s, before the device's end of life", d);
        if (!ci->key_type_supported)
            add(out, IOTCA_LINT_WARNING, "root.weak", certs[i], "the root's key type or size is not one iotca accepts");
        /* anchors are parsed by the stack when the store is loaded */
        const char *why = unparseable(ci, stack);
        if (why) add(out, IOTCA_LINT_ERROR, "chain.critical_ext", certs[i], "%s: %s", iotca_stack_name(stack), why);
    }
    if (n_store > 0 && roots == 1)
        add(out, IOTCA_LINT_ERROR, "store.single_root", NULL,
            "only one root: replacing it would need a firmware update (hold at least two independent roots)");
    for (size_t i = 0; i < n_served; i++) {
        const iotca_cert_info *ci = iotca_cert_get(chain[i]);
        const char *why = ci->is_ca ? unparseable(ci, stack) : NULL;
        if (why) add(out, IOTCA_LINT_ERROR, "chain.critical_ext", chain[i], "%s: %s", iotca_stack_name(stack), why);
        /* the top of each served chain must be signed by a root in the store */
        bool anchored = false;
        for (size_t j = 0; j < n_store && !anchored; j++)
            anchored = iotca_cert_get(certs[j])->is_ca && iotca_cert_verify_signed_by(chain[i], certs[j]) == IOTCA_OK;
        bool issued_by_served = false;
        for (size_t j = 0; j < n_served && !issued_by_served; j++)
            issued_by_served = j != i && iotca_cert_verify_signed_by(chain[i], chain[j]) == IOTCA_OK;
        if (!anchored && !issued_by_served)
            add(out, IOTCA_LINT_ERROR, "chain.no_anchor", chain[i],
                "this served CA certificate chains to no root in the trust store");
    }
out:
    for (size_t i = 0; i < n_store; i++) iotca_cert_free(certs[i]);
    for (size_t i = 0; i < n_served; i++) iotca_cert_free(chain[i]);
    return rc;
}
