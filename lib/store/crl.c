/* CRL persistence: per-issuer CRL state and streaming over revoked certificates (to be implemented). */
#include "store_int.h"
