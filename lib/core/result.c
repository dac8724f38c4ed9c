/* The per-thread error detail behind iotca_rc. */
#include "iotca/result.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char detail_[512];

iotca_rc iotca_error_set(iotca_rc rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail_, sizeof detail_, fmt, ap);
    va_end(ap);
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
    }
    return "unknown";
}
