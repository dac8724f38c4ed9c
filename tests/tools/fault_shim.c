/* Test-only LD_PRELOAD shim: makes sqlite3_step fail with a chosen result code for statements whose SQL
 * contains a pattern, while the file named by IOTCA_FAULT_FILE holds "CODE PATTERN" lines. iotcad runs
 * unmodified; the fault-injection test writes and clears the file. */
#include <dlfcn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*step_fn)(sqlite3_stmt *);

int sqlite3_step(sqlite3_stmt *st) {
    static step_fn real;
    if (real == NULL) real = (step_fn)dlsym(RTLD_NEXT, "sqlite3_step");
    const char *path = getenv("IOTCA_FAULT_FILE");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (f) {
        const char *sql = sqlite3_sql(st);
        char line[256];
        while (sql && fgets(line, sizeof line, f)) {
            int code;
            char pattern[200];
            if (sscanf(line, "%d %199[^\n]", &code, pattern) == 2 && strstr(sql, pattern)) {
                fclose(f);
                return code;
            }
        }
        fclose(f);
    }
    return real(st);
}
