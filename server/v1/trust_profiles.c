/* Trust profiles (admin): the device trust stores in the field that rotation preflight checks, registered,
 * listed, shown, replaced and deleted. lib/ca lints, stores and audits; this file speaks HTTP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "v1.h"
#include "iotca/json_views.h"

#define MAX_ACK 8
#define PREFIX "/v1/trust-profiles/"

/* What registering and replacing take: {name?, pem, until, stack, acknowledge?}. The name is required when
 * registering (path NULL) and, when replacing, optional and equal to the path's; acknowledged codes go into ack
 * (req->acknowledge). On a bad body fills out (400) and returns false; the strings point into j. */
static bool profile_body(response *out, json_t *j, const char *path_name, iotca_trust_profile_req *req,
                         const char *ack[MAX_ACK], const char **until_s, json_t **ack_j) {
    json_error_t e;
    const char *name = NULL;
    if (json_unpack_ex(j, &e, JSON_STRICT, "{s?s, s:s, s:s, s:s, s?o}", "name", &name, "pem", &req->pem, "until",
                       until_s, "stack", &req->stack, "acknowledge", ack_j) != 0) {
        respond_error(out, 400, "bad_request", "body: %s (fields: name, pem, until, stack, acknowledge)", e.text);
        return false;
    }
    if (path_name == NULL && name == NULL) {
        respond_error(out, 400, "bad_request", "body: a trust profile needs a name");
        return false;
    }
    if (path_name && name && strcmp(name, path_name) != 0) {
        respond_error(out, 400, "bad_request", "body names '%.64s', the path '%s': a replacement keeps its name", name,
                      path_name);
        return false;
    }
    req->name = path_name ? path_name : name;
    if (*ack_j && (!json_is_array(*ack_j) || json_array_size(*ack_j) > MAX_ACK)) {
        respond_error(out, 400, "bad_request", "acknowledge must be an array of at most %d lint codes", MAX_ACK);
        return false;
    }
    for (size_t i = 0; *ack_j && i < json_array_size(*ack_j); i++) {
        if (!json_is_string(json_array_get(*ack_j, i))) {
            respond_error(out, 400, "bad_request", "acknowledge[%zu] is not a lint code (a string)", i);
            return false;
        }
        ack[req->n_acknowledge++] = json_string_value(json_array_get(*ack_j, i));
    }
    if (!v1_parse_day(*until_s, &req->until)) {
        respond_error(out, 400, "bad_request", "until must be a date like 2040-01-01");
        return false;
    }
    return true;
}

/* The 422 of a store whose lint found errors nobody acknowledged (SPEC §6's error, with the findings for a
 * script to read). */
static void lint_refused(response *out, const iotca_lint_report *rep) {
    out->error = "trust_store_lint";
    respond_json(out, 422, json_pack("{s:s, s:s, s:o}", "error", "trust_store_lint", "detail", iotca_error_detail(),
                                     "findings", v1_findings_json(rep, true, IOTCA_LINT_ERROR)));
}

/* POST /v1/trust-profiles (admin): {name, pem, until, stack, acknowledge?}. The store is linted first (lib/ca):
 * an error finding refuses it (422 trust_store_lint, naming each finding, with them in "findings") unless its
 * code is in "acknowledge" (an array of lint codes, e.g. ["store.not_root"]); what was acknowledged is in the
 * request's audit record. Warnings come back in the 201 answer. */
void api_trust_profile_add(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    json_t *j = body_json(r, out);
    if (j == NULL) return;
    iotca_lint_report *rep = NULL;
    const char *until_s = NULL, *ack[MAX_ACK];
    json_t *ack_j = NULL;
    iotca_trust_profile_req req = {.acknowledge = ack};
    if (!profile_body(out, j, NULL, &req, ack, &until_s, &ack_j)) goto done;
    rep = calloc(1, sizeof *rep);
    bool refused = false;
    int64_t id = 0;
    iotca_rc rc = rep == NULL ? iotca_error_set(IOTCA_E_INTERNAL, "out of memory")
                              : iotca_ca_trust_profile_add(r->srv->ca, &req, rep, &refused, &id);
    if (rc == IOTCA_OK) {
        if (req.n_acknowledge) { /* the acknowledgement goes into this request's audit record */
            char codes[64] = "";
            for (size_t i = 0; i < req.n_acknowledge; i++) /* known codes only (lib/ca checked): short */
                snprintf(codes + strlen(codes), sizeof codes - strlen(codes), "%s%.20s", i ? "," : "", ack[i]);
            snprintf(r->audit_subject, sizeof r->audit_subject, "trust profile %.20s ack %.56s", req.name, codes);
        }
        respond_json(out, 201, json_pack("{s:I, s:s, s:s, s:s, s:o, s:o}", "id", (json_int_t)id, "name", req.name, "stack",
                                         req.stack, "until", until_s, "acknowledged", ack_j ? json_incref(ack_j) : json_array(),
                                         "warnings", v1_findings_json(rep, true, IOTCA_LINT_WARNING)));
    } else if (rc == IOTCA_E_POLICY && refused) {
        lint_refused(out, rep);
    } else if (rc == IOTCA_E_POLICY) {
        respond_error(out, 409, "exists", "%s", iotca_error_detail());
    } else {
        respond_rc(r, out, rc);
    }
done:
    free(rep);
    json_decref(j);
}

/* GET /v1/trust-profiles (admin). */
void api_trust_profile_list(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    iotca_trust_profile_rec *list = NULL;
    size_t n = 0;
    iotca_rc rc = iotca_ca_trust_profiles(r->srv->ca, &list, &n);
    if (rc != IOTCA_OK) {
        respond_rc(r, out, rc);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:o, s:o}", "id", (json_int_t)list[i].id, "name",
                                             list[i].name, "stack", list[i].stack, "until", iotca_json_time(list[i].until),
                                             "created_at", iotca_json_time(list[i].created_at)));
        iotca_trust_profile_rec_free(&list[i]);
    }
    free(list);
    respond_json(out, 200, json_pack("{s:o}", "trust_profiles", arr));
}

/* The {name} of /v1/trust-profiles/{name} (the route's "**": the rest of the decoded path). A name with '/' (a
 * client's %2F) or of 64 characters or more names no profile that can exist: 400, and false. */
static const char *path_name(request *r, response *out) {
    const char *name = r->path + strlen(PREFIX);
    if (strchr(name, '/')) {
        respond_error(out, 400, "bad_request", "a trust profile name has no '/'");
        return NULL;
    }
    if (strlen(name) >= 64) {
        respond_error(out, 400, "bad_request", "a trust profile name is under 64 characters");
        return NULL;
    }
    return name;
}

static void not_found(response *out, const char *name) {
    respond_error(out, 404, "not_found", "no trust profile '%s' (GET /v1/trust-profiles lists them)", name);
}

/* GET /v1/trust-profiles/{name} (admin): the profile with its store (PEM). */
void api_trust_profile_get(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    const char *name = path_name(r, out);
    if (name == NULL) return;
    iotca_trust_profile_rec rec;
    bool found = false;
    iotca_rc rc = iotca_ca_trust_profile_get(r->srv->ca, name, &rec, &found);
    if (rc == IOTCA_OK && !found) not_found(out, name);
    else if (rc != IOTCA_OK) respond_rc(r, out, rc);
    else
        respond_json(out, 200, json_pack("{s:I, s:s, s:s, s:o, s:o, s:s%}", "id", (json_int_t)rec.id, "name", rec.name,
                                         "stack", rec.stack, "until", iotca_json_time(rec.until), "created_at",
                                         iotca_json_time(rec.created_at), "pem", (const char *)rec.pem.data,
                                         rec.pem.len));
    iotca_trust_profile_rec_free(&rec);
}

/* PUT /v1/trust-profiles/{name} (admin): {pem, until, stack, acknowledge?} replace an existing profile after the
 * lint registration runs (422 trust_store_lint unless acknowledged); 404 for a name not registered (PUT does
 * not create: POST does). lib/ca audits the change with what it was. */
void api_trust_profile_replace(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    const char *name = path_name(r, out);
    if (name == NULL) return;
    json_t *j = body_json(r, out);
    if (j == NULL) return;
    iotca_lint_report *rep = NULL;
    const char *until_s = NULL, *ack[MAX_ACK];
    json_t *ack_j = NULL;
    iotca_trust_profile_req req = {.acknowledge = ack};
    if (!profile_body(out, j, name, &req, ack, &until_s, &ack_j)) goto done;
    rep = calloc(1, sizeof *rep);
    bool refused = false, found = false;
    iotca_rc rc = rep == NULL ? iotca_error_set(IOTCA_E_INTERNAL, "out of memory")
                              : iotca_ca_trust_profile_replace(r->srv->ca, &req, r->actor[0] ? r->actor : "anonymous",
                                                               r->id, rep, &refused, &found);
    if (rc == IOTCA_OK && !found) {
        not_found(out, name);
    } else if (rc == IOTCA_OK) {
        r->audited = true; /* lib/ca wrote the record, with the change, in one transaction */
        respond_json(out, 200, json_pack("{s:s, s:s, s:s, s:o, s:o}", "name", name, "stack", req.stack, "until", until_s,
                                         "acknowledged", ack_j ? json_incref(ack_j) : json_array(), "warnings",
                                         v1_findings_json(rep, true, IOTCA_LINT_WARNING)));
    } else if (rc == IOTCA_E_POLICY && refused) {
        lint_refused(out, rep);
    } else {
        respond_rc(r, out, rc);
    }
done:
    free(rep);
    json_decref(j);
}

/* DELETE /v1/trust-profiles/{name} (admin): the profile stops holding rotations back; audited with what it was. */
void api_trust_profile_delete(request *r, const char *const *p, response *out) {
    (void)p;
    if (!require_role(r, out, IOTCA_ROLE_ADMIN)) return;
    const char *name = path_name(r, out);
    if (name == NULL) return;
    bool found = false;
    iotca_rc rc = iotca_ca_trust_profile_delete(r->srv->ca, name, r->actor[0] ? r->actor : "anonymous", r->id, &found);
    if (rc == IOTCA_OK && !found) {
        not_found(out, name);
    } else if (rc == IOTCA_OK) {
        r->audited = true; /* lib/ca wrote the record, with the deletion, in one transaction */
        respond_json(out, 200, json_pack("{s:s, s:b}", "name", name, "deleted", true));
    } else {
        respond_rc(r, out, rc);
    }
}
