/* The per-thread error detail behind iotca_rc. */
#include "iotca/result.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char detail_[512];

iotca_rc iotca_error_set(iotca_rc rc, const char *fmt, ...) {
    /* format into a local buffer first: callers may pass iotca_error_detail()
     * itself as an argument to prefix context to the previous failure */
    char tmp[sizeof detail_];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    memcpy(detail_, tmp, sizeof detail_);
    return rc;
}

const char *iotca_error_detail(void) { return detail_; }

const char *iotca_rc_name(iotca_rc rc) {
    switch (rc) {
    case IOTCA_OK: return "ok";
    case IOTCA_E_USAGE: return "usage";
    case IOTCA_E_PARSE: return "parse";
    case IOTCA_E_POLICY: return "policy";
    case IOTCA_E_STORAGE: return "storage";
    case IOTCA_E_CRYPTO: return "crypto";
    case IOTCA_E_INTERNAL: return "internal";
    case IOTCA_E_UNAVAILABLE: return "unavailable";
    }
    return "unknown";
}
