/* External Account Binding (RFC 8555 §7.3.4): the MAC'd JWS inside newAccount that ties an account key to a CA key id. */
#include <string.h>

#include "acme_int.h"
#include "iotca/key.h"

#define WHAT "externalAccountBinding"

static const struct {
    const char *name;
    int bits;
} macs[] = {{"HS256", 256}, {"HS384", 384}, {"HS512", 512}}; /* RFC 7518 §3.2 */

static iotca_rc eab_alg(const json_t *hdr, int *bits) {
    const json_t *v = json_object_get(hdr, "alg");
    IOTCA_ENSURE(v != NULL, IOTCA_E_PARSE, WHAT ": protected header has no \"alg\"");
    IOTCA_ENSURE(json_is_string(v), IOTCA_E_PARSE, WHAT ": protected \"alg\" is not a string");
    for (size_t i = 0; i < sizeof macs / sizeof macs[0]; i++)
        if (strcmp(json_string_value(v), macs[i].name) == 0) {
            *bits = macs[i].bits;
            return IOTCA_OK;
        }
    IOTCA_BAIL(IOTCA_E_POLICY, "badSignatureAlgorithm: " WHAT " alg \"%.32s\" is not accepted (HS256, HS384, HS512)",
               json_string_value(v));
}

static iotca_rc eab_header(const json_t *hdr, const char *url, iotca_eab *out) {
    char got[1024];
    IOTCA_GUARD(eab_alg(hdr, &out->hash_bits));
    IOTCA_ENSURE(json_object_get(hdr, "crit") == NULL, IOTCA_E_PARSE,
                 WHAT ": protected \"crit\" names extensions this server does not support (RFC 7515 §4.1.11)");
    IOTCA_ENSURE(json_object_get(hdr, "nonce") == NULL, IOTCA_E_PARSE,
                 WHAT ": protected header must not carry a nonce (RFC 8555 §7.3.4)");
    IOTCA_ENSURE(json_object_get(hdr, "jwk") == NULL, IOTCA_E_PARSE,
                 WHAT ": protected header must name its MAC key by kid, not carry a jwk (RFC 8555 §7.3.4)");
    IOTCA_GUARD(acme_header_string(hdr, "kid", true, out->kid, sizeof out->kid, WHAT));
    IOTCA_GUARD(acme_header_string(hdr, "url", true, got, sizeof got, WHAT));
    /* RFC 8555 §7.3.4: the url is the newAccount URL, so a binding cannot be replayed at another endpoint */
    IOTCA_ENSURE(strcmp(got, url) == 0, IOTCA_E_POLICY, "unauthorized: " WHAT " url \"%.200s\" is not \"%.200s\"", got,
                 url);
    return IOTCA_OK;
}

/* RFC 8555 §7.3.4: the payload is the account key's JWK, the one the outer JWS carries. Read as a JWK and
 * compared in canonical form, so member order and members outside RFC 7638's set do not matter. */
static iotca_rc eab_payload(const acme_flat *f, iotca_slice account_jwk_json) {
    iotca_buf bytes = {0}, canon = {0};
    json_t *payload = NULL, *mine = NULL, *account = NULL;
    acme_pubkey k = {0};
    iotca_rc rc = iotca_b64url_decode(f->payload_b64, f->payload_b64_len, &bytes);
    IOTCA_CHECK(rc == IOTCA_OK, rc, WHAT ": payload: %s", iotca_error_detail());
    IOTCA_TRY(acme_json_object(iotca_buf_slice(&bytes), WHAT " payload", &payload));
    rc = acme_pubkey_from_jwk(payload, &k);
    IOTCA_CHECK(rc == IOTCA_OK, rc, WHAT " payload: %s", iotca_error_detail());
    IOTCA_TRY(acme_pubkey_jwk_json(&k, &canon));
    IOTCA_TRY(acme_json_object(iotca_buf_slice(&canon), "canonical jwk", &mine));
    rc = acme_json_object(account_jwk_json, "account jwk", &account);
    IOTCA_CHECK(rc == IOTCA_OK, IOTCA_E_USAGE, WHAT ": the account jwk given is not a JSON object");
    IOTCA_CHECK(json_equal(mine, account), IOTCA_E_POLICY,
                "malformed: " WHAT " payload is not the account's key (RFC 8555 §7.3.4)");
out:
    iotca_buf_free(&bytes);
    iotca_buf_free(&canon);
    acme_pubkey_free(&k);
    json_decref(payload);
    json_decref(mine);
    json_decref(account);
    return rc;
}

void iotca_eab_free(iotca_eab *e) {
    iotca_buf_free(&e->signing_input);
    iotca_buf_free(&e->mac);
    memset(e, 0, sizeof *e);
}

iotca_rc iotca_eab_parse(iotca_slice eab_json, const char *url, iotca_slice account_jwk_json, iotca_eab *out) {
    memset(out, 0, sizeof *out);
    IOTCA_ENSURE(url != NULL && eab_json.p != NULL, IOTCA_E_USAGE, WHAT ": no binding or url");
    acme_flat f;
    IOTCA_GUARD(acme_flat_parse(eab_json, WHAT, &f));
    iotca_rc rc = IOTCA_OK;
    IOTCA_TRY(eab_header(f.header, url, out));
    IOTCA_TRY(eab_payload(&f, account_jwk_json));
    out->signing_input = f.signing_input;
    out->mac = f.signature;
    memset(&f.signing_input, 0, sizeof f.signing_input);
    memset(&f.signature, 0, sizeof f.signature);
out:
    acme_flat_free(&f);
    if (rc != IOTCA_OK) iotca_eab_free(out);
    return rc;
}

iotca_rc iotca_eab_verify(const iotca_eab *e, iotca_slice hmac_key) {
    uint8_t mac[64];
    size_t n = (size_t)e->hash_bits / 8;
    iotca_slice msg = iotca_buf_slice(&e->signing_input);
    if (e->hash_bits == 256) IOTCA_GUARD(iotca_hmac_sha256(hmac_key, msg, mac));
    else if (e->hash_bits == 384) IOTCA_GUARD(iotca_hmac_sha384(hmac_key, msg, mac));
    else if (e->hash_bits == 512) IOTCA_GUARD(iotca_hmac_sha512(hmac_key, msg, mac));
    else IOTCA_BAIL(IOTCA_E_USAGE, WHAT ": not a parsed binding");
    /* the MAC's length is public (it follows alg); its bytes are compared in constant time */
    bool ok = e->mac.len == n && iotca_ct_equal(mac, e->mac.data, n);
    iotca_wipe(mac, sizeof mac);
    IOTCA_ENSURE(ok, IOTCA_E_CRYPTO, WHAT ": the MAC does not verify");
    return IOTCA_OK;
}
