/* ACME accounts (RFC 8555 §7.3): newAccount with its external account binding, the account resource (read,
 * contact update, deactivation) and its orders list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme.h"

/* The payload as a JSON object (an empty object for POST-as-GET only where allowed). NULL: out holds the problem. */
static json_t *payload(request *r, response *out, acme_post *q) {
    json_error_t e;
    json_t *j = json_loadb((const char *)q->jws.payload.data, q->jws.payload.len, JSON_REJECT_DUPLICATES, &e);
    if (json_is_object(j)) return j;
    json_decref(j);
    acme_problem(r, out, q->profile, "malformed", "the JWS payload must be a JSON object%s%s", j ? "" : ": ",
                 j ? "" : e.text);
    return NULL;
}

/* contact (§7.3): an array of at most 4 mailto: URLs, as JSON text into out (NULL if absent). */
static bool contact_json(request *r, response *out, const char *profile, json_t *pl, char *buf, size_t n,
                         const char **res) {
    json_t *c = json_object_get(pl, "contact"), *v;
    *res = NULL;
    if (c == NULL) return true;
    size_t i;
    bool ok = json_is_array(c) && json_array_size(c) <= 4;
    json_array_foreach(c, i, v) ok = ok && json_is_string(v) && strncmp(json_string_value(v), "mailto:", 7) == 0 &&
                                     json_string_length(v) < 200;
    char *s = ok ? json_dumps(c, JSON_COMPACT) : NULL;
    if (s == NULL || strlen(s) >= n) {
        free(s);
        acme_problem(r, out, profile, "invalidContact", "contact must be an array of at most 4 mailto: URLs");
        return false;
    }
    snprintf(buf, n, "%s", s);
    free(s);
    *res = buf;
    return true;
}

void acme_new_account(request *r, const char *const *p, response *out) {
    acme_post q;
    if (!acme_post_begin(r, p, out, ACME_JWK, &q)) return;
    snprintf(r->actor, sizeof r->actor, "acme:new-account");
    json_t *pl = payload(r, out, &q);
    char contact[1024], *eab = NULL;
    const char *ct = NULL;
    if (pl && contact_json(r, out, q.profile, pl, contact, sizeof contact, &ct)) {
        json_t *binding = json_object_get(pl, "externalAccountBinding");
        eab = binding ? json_dumps(binding, JSON_COMPACT) : NULL;
        iotca_acme_account_req req = {.profile = q.profile, .contact_json = ct, .url = q.url,
                                      .only_existing = json_is_true(json_object_get(pl, "onlyReturnExisting")),
                                      .eab_required = q.eab_required,
                                      .eab_json = eab ? iotca_slice_of(eab, strlen(eab)) : iotca_slice_of(NULL, 0)};
        iotca_acme_account_rec a;
        bool created = false;
        iotca_rc rc = iotca_ca_acme_account_new(r->srv->ca, &q.jws, &req, &a, &created);
        if (rc == IOTCA_OK) {
            char url[512];
            acme_url(r, q.profile, url, sizeof url, "account/%lld", (long long)a.id);
            snprintf(r->actor, sizeof r->actor, "acme:account:%lld", (long long)a.id);
            snprintf(r->audit_subject, sizeof r->audit_subject, "acme account %lld%s%s", (long long)a.id,
                     a.eab_kid[0] ? " eab " : "", a.eab_kid);
            acme_respond(r, out, q.profile, created ? 201 : 200, acme_account_json(r, q.profile, &a), url);
            iotca_acme_account_rec_free(&a);
        } else {
            acme_problem_rc(r, out, q.profile, rc);
        }
    }
    free(eab);
    json_decref(pl);
    acme_post_end(&q);
}

/* The id of the path's account/{id} (0 when malformed). */
static int64_t path_id(const char *s) {
    char *end;
    long long v = strtoll(s, &end, 10);
    return *s >= '1' && *s <= '9' && *end == 0 && strlen(s) <= 18 ? (int64_t)v : 0;
}

void acme_account(request *r, const char *const *p, response *out) {
    acme_post q;
    if (!acme_post_begin(r, p, out, ACME_KID, &q)) return;
    if (path_id(p[1]) != q.account.id) {
        acme_problem(r, out, q.profile, "unauthorized", "the kid is not the account of this URL");
        acme_post_end(&q);
        return;
    }
    json_t *pl = q.jws.post_as_get ? json_object() : payload(r, out, &q);
    char contact[1024];
    const char *ct = NULL;
    if (pl && contact_json(r, out, q.profile, pl, contact, sizeof contact, &ct)) {
        const char *status = json_string_value(json_object_get(pl, "status"));
        iotca_rc rc = IOTCA_OK;
        if (status && strcmp(status, "deactivated") != 0)
            rc = iotca_error_set(IOTCA_E_PARSE, "malformed: an account's status can only be set to deactivated");
        else if (status || ct)
            rc = iotca_ca_acme_account_update(r->srv->ca, q.account.id, ct, status != NULL);
        if (rc == IOTCA_OK && (status || ct)) {
            /* the answer is the account as written (a deactivated one can no longer be read through the API) */
            iotca_acme_account_rec now = q.account;
            if (status) now.status = IOTCA_ACME_DEACTIVATED;
            if (ct) snprintf(now.contact, sizeof now.contact, "%s", ct);
            acme_respond(r, out, q.profile, 200, acme_account_json(r, q.profile, &now), NULL);
        } else if (rc == IOTCA_OK) {
            acme_respond(r, out, q.profile, 200, acme_account_json(r, q.profile, &q.account), NULL);
        } else {
            acme_problem_rc(r, out, q.profile, rc);
        }
    }
    json_decref(pl);
    acme_post_end(&q);
}

void acme_account_orders(request *r, const char *const *p, response *out) {
    acme_post q;
    if (!acme_post_begin(r, p, out, ACME_KID, &q)) return;
    int64_t *ids = NULL;
    size_t n = 0;
    iotca_rc rc = path_id(p[1]) == q.account.id
                      ? iotca_ca_acme_order_list(r->srv->ca, q.account.id, &ids, &n)
                      : iotca_error_set(IOTCA_E_POLICY, "unauthorized: the kid is not the account of this URL");
    if (rc == IOTCA_OK) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++) {
            char url[512];
            acme_url(r, q.profile, url, sizeof url, "order/%lld", (long long)ids[i]);
            json_array_append_new(list, json_string(url));
        }
        acme_respond(r, out, q.profile, 200, json_pack("{s:o}", "orders", list), NULL);
    } else {
        acme_problem_rc(r, out, q.profile, rc);
    }
    free(ids);
    acme_post_end(&q);
}

void acme_key_change(request *r, const char *const *p, response *out) {
    acme_post q;
    if (!acme_post_begin(r, p, out, ACME_KID, &q)) return;
    char kid[512];
    acme_url(r, q.profile, kid, sizeof kid, "account/%lld", (long long)q.account.id);
    int64_t other = 0;
    iotca_rc rc = iotca_ca_acme_key_change(r->srv->ca, &q.account, kid, q.url, iotca_buf_slice(&q.jws.payload), &other);
    if (rc == IOTCA_OK) {
        iotca_acme_account_rec now = q.account;
        acme_respond(r, out, q.profile, 200, acme_account_json(r, q.profile, &now), NULL);
    } else if (other) { /* §7.3.5: 409 with the Location of the account that has the key */
        char url[512];
        acme_url(r, q.profile, url, sizeof url, "account/%lld", (long long)other);
        acme_problem_status(r, out, q.profile, 409, "malformed", "another account has the new key (its URL in Location)");
        respond_header(out, "Location", "%s", url);
    } else {
        acme_problem_rc(r, out, q.profile, rc);
    }
    acme_post_end(&q);
}
