/* Fuzz target: iotcad's JSON config loader (validation of every key), and the masking of the database's
 * password for display. */
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
        if (config_load(path, &c) == IOTCA_OK) {
            char shown[256]; /* shorter than a database string may be: the masking must cut, never overrun */
            config_database_display(c.database, shown, sizeof shown);
            if (c.db.read) config_database_display(c.db.read, shown, sizeof shown);
            config_free(&c);
        }
    }
    close(fd);
    unlink(path);
    return 0;
}
