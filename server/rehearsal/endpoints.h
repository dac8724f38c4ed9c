/* The rehearsal endpoints (issue 24): one TLS listener a scenario, each presenting what the CA's rehearsal
 * scenario in that slot holds now (lib/ca/rehearsal.c). */
#ifndef IOTCAD_REHEARSAL_ENDPOINTS_H
#define IOTCAD_REHEARSAL_ENDPOINTS_H

#include "iotca/ca_rehearsal.h"

typedef struct rehearsal_endpoints rehearsal_endpoints;

/* Listens on address:base_port+slot for every slot (IOTCA_REHEARSAL_MAX). A handshake on a slot is served the
 * scenario's chain, key and OCSP staple as they are at that moment; a slot whose scenario presents nothing
 * ends the handshake with an alert. A request that completes after the handshake is answered with what was
 * presented, and with ?trust_profile=NAME records that the device accepted it (source "handshake").
 * IOTCA_E_USAGE a bad address or a port that cannot be bound (named); nothing is left listening then. One set
 * per process. */
iotca_rc rehearsal_start(iotca_ca *ca, const char *address, unsigned base_port, rehearsal_endpoints **out);
/* Stops every listener and frees e (NULL is ignored). */
void rehearsal_stop(rehearsal_endpoints *e);

#endif
