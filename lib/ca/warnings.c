/* Advance warnings (SPEC §7): roots and issuers nearing expiry, and issuers due to rotate without a staged
 * successor, at 180, 60 and 30 days — early enough to run the offline ceremony. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca_internal.h"

#define DAY 86400
static const int thresholds[] = {30, 60, 180};

static int threshold_for(long days) {
    for (size_t i = 0; i < sizeof thresholds / sizeof thresholds[0]; i++)
        if (days <= thresholds[i]) return thresholds[i];
    return 0;
}

const char *iotca_warning_kind_name(iotca_warning_kind k) {
    switch (k) {
    case IOTCA_WARN_ROOT_EXPIRY: return "root_expiry";
    case IOTCA_WARN_ISSUER_EXPIRY: return "issuer_expiry";
    case IOTCA_WARN_ROTATION_DUE: return "rotation_due";
    case IOTCA_WARN_ACTIVATION_HELD: return "activation_held";
    }
    return "unknown";
}

static void push(iotca_warning *out, size_t *n, iotca_warning_kind k, long days, int64_t id, const char *subject,
                 const char *what) {
    int th = threshold_for(days);
    if (th == 0 || *n >= IOTCA_MAX_WARNINGS) return;
    iotca_warning *w = &out[(*n)++];
    w->kind = k;
    w->threshold_days = th;
    w->days_left = days;
    w->issuer_id = id;
    snprintf(w->subject, sizeof w->subject, "%s", subject);
    if (days < 0) snprintf(w->message, sizeof w->message, "%s %ld days ago", what, -days);
    else snprintf(w->message, sizeof w->message, "%s in %ld days", what, days);
}

static int by_days(const void *a, const void *b) {
    long x = ((const iotca_warning *)a)->days_left, y = ((const iotca_warning *)b)->days_left;
    return (x > y) - (x < y);
}

iotca_rc iotca_ca_warnings(iotca_ca *ca, time_t now, iotca_warning *out, size_t *n) {
    *n = 0;
    for (size_t i = 0; i < ca->n_roots; i++) {
        const iotca_cert_info *ri = iotca_cert_get(ca->roots[i]);
        iotca_buf s = {0};
        iotca_name_format(ri->subject, &s);
        push(out, n, IOTCA_WARN_ROOT_EXPIRY, (long)((ri->not_after - now) / DAY), 0, s.data ? (const char *)s.data : "",
             "root expires");
        iotca_buf_free(&s);
    }
    iotca_issuer_rec *list = NULL;
    size_t count = 0;
    IOTCA_GUARD(iotca_ca_issuers(ca, &list, &count));
    for (size_t i = 0; i < count; i++) {
        iotca_issuer_rec *is = &list[i];
        if (is->state == IOTCA_ISSUER_ACTIVE || is->state == IOTCA_ISSUER_STAGED)
            push(out, n, IOTCA_WARN_ISSUER_EXPIRY, (long)((is->not_after - now) / DAY), is->id, is->name,
                 "issuer certificate expires");
        if (is->state == IOTCA_ISSUER_STAGED && ca_is_held(ca, is->id))
            push(out, n, IOTCA_WARN_ACTIVATION_HELD, -(long)((now - is->activate_at) / DAY), is->id, is->name,
                 "activation held by rotation preflight (a registered trust profile would break, or has not passed a "
                 "required rehearsal: the audit trail says which); was due");
        if (is->state != IOTCA_ISSUER_ACTIVE) continue;
        bool successor = false;
        for (size_t j = 0; j < count; j++)
            successor |= list[j].state == IOTCA_ISSUER_STAGED && strcmp(list[j].group, is->group) == 0;
        time_t activated = is->activate_at ? is->activate_at : is->not_before;
        time_t due = activated + (time_t)IOTCA_ISSUER_ACTIVE_DAYS * DAY;
        /* an issuer whose certificate ends first is due by then, whatever its schedule */
        if (is->not_after - 30 * DAY < due) due = is->not_after - 30 * DAY;
        if (!successor)
            push(out, n, IOTCA_WARN_ROTATION_DUE, (long)((due - now) / DAY), is->id, is->name,
                 "issuer is due to rotate and no successor is staged; rotation due");
    }
    for (size_t i = 0; i < count; i++) iotca_issuer_rec_free(&list[i]);
    free(list);
    qsort(out, *n, sizeof *out, by_days);
    return IOTCA_OK;
}
