/* OCSP persistence: delegated signers and pre-signed responses (to be implemented). */
#include "store_int.h"
