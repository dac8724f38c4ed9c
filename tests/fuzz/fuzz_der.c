/* Fuzz target: the strict DER reader, walked recursively over arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "iotca/der.h"

static void walk(iotca_slice in, int depth) {
    iotca_tlv t;
    while (depth < 32 && iotca_der_next(&in, &t) == IOTCA_OK) {
        time_t tm;
        uint64_t u;
        iotca_slice mag;
        (void)iotca_der_read_time(&t, &tm);
        (void)iotca_der_read_uint(&t, &u);
        (void)iotca_der_int_magnitude(&t, &mag);
        if (t.tag & 0x20) walk(t.val, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    walk(iotca_slice_of(data, size), 0);
    return 0;
}
