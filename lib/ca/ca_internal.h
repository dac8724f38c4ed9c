/* Private state of the CA service, shared by its source files. */
#ifndef IOTCA_CA_INTERNAL_H
#define IOTCA_CA_INTERNAL_H

#include <pthread.h>

#include "iotca/ca.h"

#define CA_MAX_ROOTS 8
#define CA_MAX_ISSUERS 64

/* An issuer that has signed or will sign: its certificate and key in memory. */
typedef struct ca_issuer {
    int64_t id;
    iotca_cert *cert;
    iotca_key *key;
    const iotca_cert *root;
} ca_issuer;

struct iotca_ca {
    char *db_path, *key_dir, *default_group, *base_url;
    iotca_buf pass;
    iotca_key_type issuer_key_type;
    unsigned kdf_iterations;
    const iotca_profile *profiles;
    size_t n_profiles;
    iotca_cert *roots[CA_MAX_ROOTS];
    size_t n_roots;
    /* lock guards issuers[] and serialises signing with a shared key */
    pthread_mutex_t lock;
    ca_issuer issuers[CA_MAX_ISSUERS];
    size_t n_issuers;
    pthread_key_t store_key;
    bool key_created;
    iotca_ca_stats stats;
};

/* This thread's store handle, opened on first use. */
iotca_rc ca_store(iotca_ca *ca, iotca_store **out);
/* The loaded issuer for rec (parsing its certificate and decrypting its key
 * on first use). Caller holds ca->lock. */
iotca_rc ca_issuer_locked(iotca_ca *ca, const iotca_issuer_rec *rec, ca_issuer **out);
/* The configured root that signed c, or NULL. */
const iotca_cert *ca_root_of(const iotca_ca *ca, const iotca_cert *c);

#endif
