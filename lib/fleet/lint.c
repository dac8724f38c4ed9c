/* Trust-store lint (SPEC §7): the mistakes that stranded real fleets, named before they ship. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotca/fleet.h"
#include "stack_ext.h"

/* Indexed by iotca_stack. */
static const char *const stack_names[] = {"openssl", "openssl102", "mbedtls", "wolfssl", "bearssl", "gnutls"};
#define N_STACKS (sizeof stack_names / sizeof stack_names[0])

iotca_rc iotca_stack_parse(const char *name, iotca_stack *out) {
    for (size_t i = 0; name && i < N_STACKS; i++)
        if (strcmp(name, stack_names[i]) == 0) {
            *out = (iotca_stack)i;
            return IOTCA_OK;
        }
    IOTCA_BAIL(IOTCA_E_USAGE, "unknown stack '%s' (use openssl, openssl102, mbedtls, wolfssl, bearssl or gnutls)",
               name ? name : "");
}

const char *iotca_stack_name(iotca_stack s) { return (unsigned)s < N_STACKS ? stack_names[s] : "unknown"; }

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

/* chain.critical_ext: a critical extension the stack cannot process (RFC 5280 §4.2), judged by the same table as
 * the fleet check (stack_ext.h). A root counts only for a stack that processes its anchor's extensions; a served
 * CA counts for every stack, although all but mbedTLS look only at the certificates on the path they build: the
 * lint cannot know which path a device takes, and a CA is served to be on one. */
static void critical_ext(iotca_lint_report *r, iotca_stack st, const iotca_cert *c, bool anchor) {
    const iotca_stack_ext_scope *scope = iotca_fleet_ext_scope(st);
    if (anchor && !scope->anchor) return;
    const char *ext = iotca_fleet_unprocessed_critical(st, c);
    if (ext == NULL) return;
    add(r, IOTCA_LINT_ERROR, "chain.critical_ext", c, "%s: %s cannot process a critical %s extension%s",
        iotca_stack_name(st), scope->library, ext,
        anchor                   ? " in this root: no path ending at it validates"
        : scope->every_presented ? ", and it parses every certificate the server sends: the handshake fails "
                                   "whether or not the path needs this one"
                                 : ": every path through this certificate fails");
}

/* chain.rejected: the fleet check's own model of the stack refuses the served chain today (the issuing CA first,
 * as iotca_served says) for a reason the findings above do not name: a CA without the CA bit, a pathLenConstraint
 * exceeded, a chain longer than the stack takes, an out-of-date certificate. One model for the lint and the check. */
static iotca_rc judged_today(iotca_lint_report *out, const iotca_slice *store, size_t n_store, const iotca_slice *served,
                             size_t n_served, iotca_stack stack, time_t now) {
    for (size_t i = 0; i < out->n; i++)
        if (strncmp(out->findings[i].code, "chain.", 6) == 0) return IOTCA_OK; /* already said why */
    iotca_check_report *rep = calloc(1, sizeof *rep);
    IOTCA_ENSURE(rep != NULL, IOTCA_E_INTERNAL, "out of memory");
    iotca_served today = {.from = now, .certs = served, .n = n_served > IOTCA_SERVED_MAX ? IOTCA_SERVED_MAX : n_served};
    iotca_rc rc = iotca_fleet_check(store, n_store, &today, 1, stack, now, now + 1, rep);
    if (rc == IOTCA_OK && rep->n > 0 && !rep->points[0].ok)
        add(out, IOTCA_LINT_ERROR, "chain.rejected", NULL, "%s: %s refuses the served chain today: %.300s",
            iotca_stack_name(stack), iotca_fleet_ext_scope(stack)->library, rep->points[0].reason);
    free(rep);
    return rc;
}

iotca_rc iotca_lint_trust_store(const iotca_slice *store, size_t n_store, const iotca_slice *served, size_t n_served,
                                iotca_stack stack, time_t now, time_t until, iotca_lint_report *out) {
    memset(out, 0, sizeof *out);
    iotca_cert *certs[IOTCA_LINT_MAX_FINDINGS] = {0}, *chain[16] = {0};
    IOTCA_ENSURE(n_store <= IOTCA_LINT_MAX_FINDINGS && n_served <= 16, IOTCA_E_USAGE, "too many certificates to lint");
    IOTCA_ENSURE((unsigned)stack < N_STACKS, IOTCA_E_USAGE, "unknown stack %d", (int)stack);
    iotca_rc rc = IOTCA_OK;
    size_t roots = 0;
    char d[16];
    for (size_t i = 0; i < n_store; i++) {
        rc = iotca_cert_parse_lenient(store[i], &certs[i]);
        IOTCA_CHECK(rc == IOTCA_OK, rc, "trust store certificate %zu: %s", i + 1, iotca_error_detail());
    }
    for (size_t i = 0; i < n_served; i++) {
        rc = iotca_cert_parse_lenient(served[i], &chain[i]);
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
        critical_ext(out, stack, certs[i], true);
    }
    if (n_store > 0 && roots == 1)
        add(out, IOTCA_LINT_ERROR, "store.single_root", NULL,
            "only one root: replacing it would need a firmware update (hold at least two independent roots)");
    for (size_t i = 0; i < n_served; i++) {
        const iotca_cert_info *ci = iotca_cert_get(chain[i]);
        if (ci->is_ca) critical_ext(out, stack, chain[i], false);
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
    if (rc == IOTCA_OK && n_served > 0 && n_store > 0) rc = judged_today(out, store, n_store, served, n_served, stack, now);
out:
    for (size_t i = 0; i < n_store; i++) iotca_cert_free(certs[i]);
    for (size_t i = 0; i < n_served; i++) iotca_cert_free(chain[i]);
    return rc;
}
