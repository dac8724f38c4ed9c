/* Which critical extensions each modelled TLS stack processes: one table (stack_ext.c), used by the fleet check
 * (check.c) and by the trust-store lint (lint.c), so the two cannot tell a user different things. Private to
 * lib/fleet. */
#ifndef IOTCA_FLEET_STACK_EXT_H
#define IOTCA_FLEET_STACK_EXT_H

#include "iotca/fleet.h"

/* Where a stack looks at critical extensions (RFC 5280 §4.2: one it cannot process fails the certificate). */
typedef struct iotca_stack_ext_scope {
    const char *library;  /* the library the model was held against, for messages: "mbedTLS 2.28" */
    bool anchor;          /* the trust anchor it validates with is processed too, not only its key and name */
    bool every_presented; /* every certificate the server sends is parsed, whether a path needs it or not */
} iotca_stack_ext_scope;

/* The scope of `stack`; never NULL (an out-of-range stack gets a scope that checks nothing). */
const iotca_stack_ext_scope *iotca_fleet_ext_scope(iotca_stack stack);

/* The name of the first critical extension of c that `stack` cannot process ("nameConstraints",
 * "certificatePolicies (other than anyPolicy)", "unrecognised" for an OID no table row names, "malformed" if
 * the extensions cannot be read), or NULL if the stack processes them all. A static string; c is borrowed. */
const char *iotca_fleet_unprocessed_critical(iotca_stack stack, const iotca_cert *c);
/* Whether stack is one of the modelled stacks. */
bool iotca_fleet_stack_known(iotca_stack stack);

#endif
