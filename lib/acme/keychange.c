/* The payload of ACME's keyChange inner JWS (RFC 8555 §7.3.5): the account it is for and the key it replaces. */
#include <string.h>

#include "acme_int.h"

iotca_rc iotca_acme_key_change_payload_check(iotca_slice payload, const char *account_url, const char *old_jwk_json) {
    IOTCA_ENSURE(account_url && old_jwk_json, IOTCA_E_USAGE, "iotca_acme_key_change_payload_check: NULL");
    json_t *o = NULL;
    iotca_rc rc = acme_json_object(payload, "keyChange payload", &o);
    if (rc != IOTCA_OK) return iotca_error_set(IOTCA_E_PARSE, "malformed: %s", iotca_error_detail());
    const char *acct = json_string_value(json_object_get(o, "account"));
    const json_t *old = json_object_get(o, "oldKey");
    acme_pubkey k = {0};
    iotca_buf canon = {0};
    if (acct == NULL || !json_is_object(old))
        rc = iotca_error_set(IOTCA_E_PARSE, "malformed: the keyChange payload needs account and oldKey");
    else if (strcmp(acct, account_url) != 0)
        rc = iotca_error_set(IOTCA_E_POLICY, "unauthorized: the keyChange payload names another account");
    else if (acme_pubkey_from_jwk(old, &k) != IOTCA_OK || acme_pubkey_jwk_json(&k, &canon) != IOTCA_OK)
        rc = iotca_error_set(IOTCA_E_PARSE, "malformed: oldKey is not a key");
    else if (strcmp((const char *)canon.data, old_jwk_json) != 0)
        rc = iotca_error_set(IOTCA_E_POLICY, "unauthorized: oldKey is not the account's key");
    acme_pubkey_free(&k);
    iotca_buf_free(&canon);
    json_decref(o);
    return rc;
}
