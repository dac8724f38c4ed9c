/* JSON views shared by iotcad's API and the iotca CLI, so both print the same documents (Jansson). */
#ifndef IOTCA_JSON_VIEWS_H
#define IOTCA_JSON_VIEWS_H

#include <jansson.h>
#include <time.h>

#include "iotca/bundle.h"

/* RFC 3339 UTC ("2026-11-23T17:19:07Z"); JSON null for 0 (not set). New reference, NULL only on OOM. */
json_t *iotca_json_time(time_t t);
/* Lowercase hex of n bytes; JSON null if it cannot be encoded. */
json_t *iotca_json_hex(const uint8_t *h, size_t n);
/* A bundle's manifest as GET /v1/ca/bundle?format=manifest answers it: format, version, generation time,
 * url of the bundle, its SHA-256 and size, each root (subject, fingerprints, pin, key type, validity), and a
 * warning while only one root is configured. */
json_t *iotca_bundle_manifest_json(const iotca_bundle_manifest *m);
/* The pins as JSON: one entry per key (a root re-issued with the same key is pinned until the later
 * notAfter), like the "pins" text format. */
json_t *iotca_bundle_pins_json(const iotca_bundle *b);

#endif
