/* The CA's profile table: looked up by every issuance, replaced whole by a config reload. */
#include <stdio.h>
#include <string.h>

#include "ca_internal.h"

/* ca->profiles and ca->n_profiles change together under ca->lock (iotca_ca_set_profiles), so a lookup never
 * pairs one table's pointer with another table's length. */
const iotca_profile *iotca_ca_profile(const iotca_ca *ca, const char *name) {
    if (name == NULL) return NULL;
    iotca_ca *m = (iotca_ca *)ca; /* the lock is not part of the CA's observable state */
    const iotca_profile *found = NULL;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n_profiles && !found; i++)
        if (strcmp(m->profiles[i].name, name) == 0) found = &m->profiles[i];
    pthread_mutex_unlock(&m->lock);
    return found;
}

iotca_rc iotca_ca_set_profiles(iotca_ca *ca, const iotca_profile *profiles, size_t n) {
    IOTCA_ENSURE(profiles != NULL || n == 0, IOTCA_E_USAGE, "no profile table given");
    for (size_t i = 0; i < n; i++) {
        IOTCA_GUARD(iotca_profile_validate(&profiles[i]));
        for (size_t j = 0; j < i; j++)
            IOTCA_ENSURE(strcmp(profiles[i].name, profiles[j].name) != 0, IOTCA_E_USAGE,
                         "profile '%s' is defined twice", profiles[i].name);
    }
    pthread_mutex_lock(&ca->lock);
    ca->profiles = profiles;
    ca->n_profiles = n;
    pthread_mutex_unlock(&ca->lock);
    return IOTCA_OK;
}

const char *iotca_ca_profile_names(const iotca_ca *ca, const char *scope, char *out, size_t size) {
    if (size == 0) return out;
    iotca_ca *m = (iotca_ca *)ca;
    size_t len = 0;
    bool cut = false;
    out[0] = 0;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n_profiles && !cut; i++) {
        const char *name = m->profiles[i].name;
        if (scope && *scope && !iotca_scope_allows(scope, name)) continue;
        /* room for the name, its separator and a final "..." */
        if (len + strlen(name) + 2 + 4 >= size) {
            cut = true;
            break;
        }
        len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "", name);
    }
    pthread_mutex_unlock(&m->lock);
    if (cut && len + 4 < size) snprintf(out + len, size - len, "%s...", len ? ", " : "");
    else if (len == 0 && !cut) snprintf(out, size, "none");
    return out;
}
