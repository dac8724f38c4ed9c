/* Fuzz target: iotcad's JSON config loader (validation of every key). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[] = "/tmp/iotca-fuzz-config-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        config c;
        if (config_load(path, &c) == IOTCA_OK) config_free(&c);
    }
    close(fd);
    unlink(path);
    return 0;
}
