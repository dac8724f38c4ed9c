/* Monotonic time and timed waits that follow it (see iotca/clock.h). */
#include "iotca/clock.h"

int64_t iotca_mono_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int iotca_cond_init_mono(pthread_cond_t *cv) {
    pthread_condattr_t a;
    int r = pthread_condattr_init(&a);
    if (r != 0) return r;
    r = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    if (r == 0) r = pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
    return r;
}

struct timespec iotca_mono_deadline_us(int64_t us) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int64_t ns = (int64_t)t.tv_nsec + (us % 1000000) * 1000;
    t.tv_sec += (time_t)(us / 1000000 + ns / 1000000000);
    t.tv_nsec = (long)(ns % 1000000000);
    return t;
}
