/* Monotonic time for timeouts, idle checks and timed waits: CLOCK_MONOTONIC, which setting the wall clock
 * (an operator, NTP stepping it) never moves, so no wait is cut short or stretched by hours. */
#ifndef IOTCA_CLOCK_H
#define IOTCA_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC (an arbitrary origin: only differences mean anything). */
int64_t iotca_mono_ms(void);
/* Initialises *cv so that pthread_cond_timedwait on it reads its deadline by CLOCK_MONOTONIC, as
 * iotca_mono_deadline_us makes them. Returns pthread_cond_init's result (0 on success). */
int iotca_cond_init_mono(pthread_cond_t *cv);
/* The CLOCK_MONOTONIC instant us microseconds from now (us >= 0), normalised (tv_nsec below 1e9): the
 * deadline for pthread_cond_timedwait on a condition variable made by iotca_cond_init_mono. */
struct timespec iotca_mono_deadline_us(int64_t us);

#endif
