/* Fuzz target: ledger verification of an arbitrary ledger file (a tampered vault is outside input). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "root.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[] = "/tmp/iotca-fuzz-ledger-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        json_t *recs = NULL;
        char head[65];
        size_t n;
        if (ledger_verify(path, &recs, head, &n) == IOTCA_OK) json_decref(recs);
    }
    close(fd);
    unlink(path);
    return 0;
}
