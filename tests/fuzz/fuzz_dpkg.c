/* Fuzz target: dpkg's status file and Debian versions (debversion.h), as iotcad reads them at start to tell
 * whether Debian's wolfSSL moved past its SP build. The comparison must be antisymmetric on valid versions. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iotca/debversion.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char best[IOTCA_DEBVERSION_MAX];
    (void)iotca_dpkg_installed(iotca_slice_of(data, size), "libwolfssl", best);
    /* the input split at its first NUL into two version strings */
    if (size > 2 * IOTCA_DEBVERSION_MAX) return 0;
    char a[2 * IOTCA_DEBVERSION_MAX + 1], *b;
    memcpy(a, data, size);
    a[size] = 0;
    b = a + strlen(a) + (strlen(a) < size ? 1 : 0);
    if (iotca_debversion_valid(a) && iotca_debversion_valid(b)) {
        int x = iotca_debversion_cmp(a, b), y = iotca_debversion_cmp(b, a);
        if ((x > 0) != (y < 0) || (x == 0) != (y == 0)) abort();
        if (iotca_debversion_cmp(a, a) != 0) abort();
    }
    return 0;
}
