/* Debian package versions (deb-version(7)) and what dpkg's status file says is installed: how iotcad tells that
 * Debian's wolfSSL package has moved past the source its SP build came from (SPEC §14). */
#ifndef IOTCA_DEBVERSION_H
#define IOTCA_DEBVERSION_H

#include <stdbool.h>

#include "iotca/buf.h"

#define IOTCA_DEBVERSION_MAX 128

/* Whether s is a version dpkg accepts: [epoch:]upstream[-revision], the epoch digits, the upstream part
 * starting with a digit and of [A-Za-z0-9.+~-] (':' only after an epoch), the revision of [A-Za-z0-9.+~];
 * at most IOTCA_DEBVERSION_MAX - 1 bytes. */
bool iotca_debversion_valid(const char *s);
/* Compares two valid versions as dpkg does: the epoch as a number, then the upstream part and the revision
 * alternately by their non-digit runs ('~' before everything, even the end; letters before other characters)
 * and their digit runs as numbers. <0, 0 or >0. */
int iotca_debversion_cmp(const char *a, const char *b);

/* In status, the text of dpkg's status file (/var/lib/dpkg/status: stanzas of "Field: value" lines, blank
 * lines between), the highest Version among the installed packages (Status "install ok installed") whose
 * name starts with prefix, into out; false when there is none. Lines over 4,096 bytes and invalid versions
 * are passed over. */
bool iotca_dpkg_installed(iotca_slice status, const char *prefix, char out[IOTCA_DEBVERSION_MAX]);

#endif
