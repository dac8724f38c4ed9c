/* GET /v1/rehearsals and POST /v1/rehearsals/{scenario}/results (issue 24, SPEC §6): the rehearsal scenarios
 * with where each is served, what it presents and what a correct device does, and what devices said. */
#include <stdlib.h>
#include <string.h>

#include "iotca/ca_rehearsal.h"
#include "iotca/json_views.h"
#include "v1.h"

static bool configured(request *r, response *out) {
    if (r->cfg->rehearsal.on && iotca_ca_rehearsal_enabled(r->srv->ca)) return true;
    respond_error(out, 404, "not_found", "rehearsals are not configured (config: rehearsal)");
    return false;
}

static json_t *result_json(const iotca_rehearsal_result_rec *x) {
    return json_pack("{s:s, s:s, s:s, s:b, s:I, s:s, s:s, s:s, s:o}", "trust_profile", x->trust_profile, "scenario",
                     x->scenario, "result", x->accepted ? "ok" : "failed", "passed", x->passed, "issuer",
                     (json_int_t)x->issuer_id, "serial", x->serial, "source", x->source, "note", x->note, "at",
                     iotca_json_time(x->at));
}

static json_t *scenario_json(const config *c, const iotca_rehearsal *s) {
    json_t *o = json_pack("{s:s, s:s, s:i, s:b, s:s, s:s, s:s}", "name", s->name, "host", c->rehearsal.address,
                          "port", (int)(c->rehearsal.base_port + s->slot), "available", s->available, "expect",
                          s->expect_accept ? "accept" : "refuse", "presents", s->presents, "device_should",
                          s->device_should);
    json_object_set_new(o, "server_name", json_string(c->rehearsal.rc.name));
    if (!s->available) json_object_set_new(o, "unavailable", json_string(s->unavailable));
    if (s->at) json_object_set_new(o, "at", iotca_json_time(s->at));
    if (s->available) {
        json_object_set_new(o, "issuer", json_integer(s->issuer_id));
        json_object_set_new(o, "issuer_name", json_string(s->issuer_name));
        json_object_set_new(o, "serial", json_string(s->serial));
        json_object_set_new(o, "not_after", iotca_json_time(s->not_after));
        json_object_set_new(o, "chain", json_stringn((const char *)s->chain_pem.data, s->chain_pem.len));
    }
    return o;
}

void api_rehearsals(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_PROVISIONER) || !configured(r, out)) return;
    iotca_ca *ca = r->srv->ca;
    iotca_rehearsal *sc = NULL;
    iotca_rehearsal_result_rec *res = NULL;
    size_t n = 0, nr = 0;
    iotca_buf lab = {0};
    /* as of now, not as of the last tick: a staged issuer imported a moment ago is rehearsed at once */
    iotca_rc rc = iotca_ca_rehearsal_refresh(ca, time(NULL), NULL);
    if (rc == IOTCA_OK) rc = iotca_ca_rehearsals(ca, false, &sc, &n);
    if (rc == IOTCA_OK) rc = iotca_ca_rehearsal_results(ca, &res, &nr);
    if (rc == IOTCA_OK) rc = iotca_ca_rehearsal_lab_root(ca, &lab);
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        goto done;
    }
    json_t *arr = json_array(), *ra = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, scenario_json(r->cfg, &sc[i]));
    for (size_t i = 0; i < nr; i++) json_array_append_new(ra, result_json(&res[i]));
    json_t *req = json_array();
    for (size_t i = 0; i < r->cfg->rehearsal.rc.n_require; i++)
        json_array_append_new(req, json_string(r->cfg->rehearsal.rc.require[i]));
    respond_json(out, 200, json_pack("{s:o, s:o, s:o, s:s#}", "scenarios", arr, "results", ra, "require_passed_next",
                                     req, "lab_root", (const char *)lab.data, lab.len));
done:
    for (size_t i = 0; i < n; i++) iotca_rehearsal_free(&sc[i]);
    free(sc);
    free(res);
    iotca_buf_free(&lab);
}

void api_rehearsal_result(request *r, const char *const *p, response *out) {
    if (!require_role(r, out, IOTCA_ROLE_PROVISIONER) || !configured(r, out)) return;
    json_t *j = body_json(r, out);
    if (j == NULL) return;
    const char *tp = NULL, *result = NULL, *note = NULL;
    json_error_t e;
    if (json_unpack_ex(j, &e, JSON_STRICT, "{s:s, s:s, s?s}", "trust_profile", &tp, "result", &result, "note", &note) !=
        0) {
        respond_error(out, 400, "bad_request", "body: %s (fields: trust_profile, result \"ok\" or \"failed\", note)",
                      e.text);
        goto done;
    }
    if (strcmp(result, "ok") != 0 && strcmp(result, "failed") != 0) {
        respond_error(out, 400, "bad_request", "result must be \"ok\" (the handshake completed) or \"failed\"");
        goto done;
    }
    iotca_rc rc = iotca_ca_rehearsal_refresh(r->srv->ca, time(NULL), NULL);
    iotca_rehearsal_result_rec res;
    if (rc == IOTCA_OK)
        rc = iotca_ca_rehearsal_report(r->srv->ca, p[0], tp, strcmp(result, "ok") == 0, "report",
                                       r->actor[0] ? r->actor : "anonymous", note, &res);
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        goto done;
    }
    json_t *o = result_json(&res);
    json_object_set_new(o, "expected", json_string(res.passed == (strcmp(result, "ok") == 0) ? "accept" : "refuse"));
    respond_json(out, 201, o);
done:
    json_decref(j);
}
