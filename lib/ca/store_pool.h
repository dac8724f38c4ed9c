/* The CA's database connections (issue 25): handles lent to a thread for one unit of work and given back. */
#ifndef IOTCA_CA_STORE_POOL_H
#define IOTCA_CA_STORE_POOL_H

#include <pthread.h>
#include <stdbool.h>

#include "iotca/ca.h"
#include "iotca/store.h"

typedef struct ca_pool_slot ca_pool_slot;

/* At most max handles open (0: no limit). A thread borrows one at its first ca_pool_lend and keeps it until
 * ca_pool_return (or its end), so nested calls of one request share a handle and its transaction. When all
 * max are lent, a lender waits up to wait_ms for one and then fails with IOTCA_E_STORAGE (a 503, as for a
 * database that does not answer). */
typedef struct ca_store_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* monotonic: a handle came back, or an open slot freed */
    char *path;
    bool reader; /* handles of a read replica (iotca_store_open_reader) */
    unsigned max, wait_ms;
    unsigned open; /* handles open (lent, idle, or being opened) */
    unsigned lent; /* of which lent to a thread */
    unsigned long long waited, timed_out;
    ca_pool_slot *idle; /* most recently returned first, so a light load keeps using the same few */
    pthread_key_t key;  /* the calling thread's lent slot; its destructor gives it back */
    bool ready;         /* mu, cv and key exist */
} ca_store_pool;

/* Sets up p for path (copied). IOTCA_E_INTERNAL if out of memory or no thread key is left. */
iotca_rc ca_pool_init(ca_store_pool *p, const char *path, bool reader, unsigned max, unsigned wait_ms);
/* Closes every handle: the idle ones and the calling thread's. Other threads must have given theirs back (or
 * ended). A pool that never was initialised (zeroed) is ignored. */
void ca_pool_free(ca_store_pool *p);
/* The calling thread's handle: the one it holds, or one borrowed now (an idle one, or a new connection while
 * fewer than max are open). IOTCA_E_STORAGE after wait_ms with all max lent; the store's error if a new
 * connection fails. */
iotca_rc ca_pool_lend(ca_store_pool *p, iotca_store **out);
/* The calling thread's handle if it holds one, else NULL (nothing is borrowed). */
iotca_store *ca_pool_held(ca_store_pool *p);
/* Gives the calling thread's handle back (none held: nothing). A handle left inside a transaction is closed
 * rather than lent to another thread mid-transaction. */
void ca_pool_return(ca_store_pool *p);
/* Gives back the page cache of every idle handle (iotca_store_release_memory). */
void ca_pool_release_memory(ca_store_pool *p);
/* The counters, for /metrics. */
void ca_pool_stats(ca_store_pool *p, iotca_ca_pool_stats *out);

#endif
