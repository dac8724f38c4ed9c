/* How every unit suite runs: Check's runner (fork mode from CK_FORK, which CTest sets), exit status from the
 * number of failed tests. */
#ifndef IOTCA_UNIT_RUN_H
#define IOTCA_UNIT_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int unit_run(Suite *s) {
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
