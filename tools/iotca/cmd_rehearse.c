/* iotca rehearse list | status | report (issue 24): the rehearsal endpoints that present tomorrow's chains and
 * the failures a device must refuse, and what each fleet's bench device said about them. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int fetch(cli *c, json_t **doc) {
    iotca_rc rc = http_check_target(c);
    if (rc != IOTCA_OK) return cli_report(rc);
    return http_json(c, "GET", "/v1/rehearsals", NULL, doc);
}

int cmd_rehearse_list(cli *c) {
    json_t *doc = NULL;
    int code = fetch(c, &doc);
    if (code != EXIT_OK) return code;
    if (c->json) {
        out_json(doc);
        json_decref(doc);
        return EXIT_OK;
    }
    size_t i;
    json_t *s;
    char port[16];
    json_array_foreach(json_object_get(doc, "scenarios"), i, s) {
        out_safe(stdout, jstr(s, "name", "?"));
        fputs("  ", stdout);
        out_safe(stdout, jstr(s, "host", "?"));
        printf(":%s  server name ", jscalar(s, "port", port, sizeof port, "?"));
        out_safe(stdout, jstr(s, "server_name", "?"));
        printf("  a correct device: %s\n", strcmp(jstr(s, "expect", ""), "accept") == 0 ? "accepts" : "refuses");
        if (!json_is_true(json_object_get(s, "available"))) {
            fputs("    unavailable: ", stdout);
            out_safe(stdout, jstr(s, "unavailable", "nothing to present now"));
            fputc('\n', stdout);
        }
        fputs("    presents: ", stdout);
        out_safe(stdout, jstr(s, "presents", ""));
        fputs("\n    device: ", stdout);
        out_safe(stdout, jstr(s, "device_should", ""));
        fputc('\n', stdout);
    }
    puts("A device reports what it did with GET https://HOST:PORT/?trust_profile=NAME (recorded when the handshake "
         "completes),\nor: iotca rehearse report SCENARIO --trust-profile NAME --result ok|failed");
    json_decref(doc);
    return EXIT_OK;
}

int cmd_rehearse_status(cli *c) {
    json_t *doc = NULL;
    int code = fetch(c, &doc);
    if (code != EXIT_OK) return code;
    if (c->json) {
        out_json(json_object_get(doc, "results"));
        json_decref(doc);
        return EXIT_OK;
    }
    size_t i;
    json_t *r;
    char issuer[24];
    json_array_foreach(json_object_get(doc, "results"), i, r) {
        out_safe(stdout, jstr(r, "trust_profile", "?"));
        fputs("  ", stdout);
        out_safe(stdout, jstr(r, "scenario", "?"));
        printf("  %s  %s  issuer %s  %s (", jstr(r, "result", "?"),
               json_is_true(json_object_get(r, "passed")) ? "passed" : "FAILED",
               jscalar(r, "issuer", issuer, sizeof issuer, "?"), jstr(r, "at", "?"));
        out_safe(stdout, jstr(r, "source", "?"));
        fputs(")\n", stdout);
    }
    if (json_array_size(json_object_get(doc, "results")) == 0) puts("no rehearsal results yet");
    json_t *req = json_object_get(doc, "require_passed_next"), *p;
    json_array_foreach(req, i, p) {
        fputs("activation of the next issuer requires a passed `next` rehearsal for trust profile ", stdout);
        out_safe(stdout, json_string_value(p) ? json_string_value(p) : "?");
        fputc('\n', stdout);
    }
    json_decref(doc);
    return EXIT_OK;
}

int cmd_rehearse_report(cli *c) {
    if (!c->trust_profile || !c->result)
        return cli_report(iotca_error_set(IOTCA_E_USAGE, "rehearse report needs --trust-profile NAME and --result ok|failed"));
    if (strcmp(c->result, "ok") != 0 && strcmp(c->result, "failed") != 0)
        return cli_report(iotca_error_set(IOTCA_E_USAGE, "--result is ok (the device completed the handshake) or failed"));
    const char *sc = c->args[0];
    for (const char *p = sc; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return cli_report(iotca_error_set(IOTCA_E_USAGE, "SCENARIO is a name iotca rehearse list prints"));
    iotca_rc rc = http_check_target(c);
    if (rc != IOTCA_OK) return cli_report(rc);
    char path[128];
    snprintf(path, sizeof path, "/v1/rehearsals/%.60s/results", sc);
    json_t *body = json_pack("{s:s, s:s}", "trust_profile", c->trust_profile, "result", c->result), *doc = NULL;
    if (c->note) json_object_set_new(body, "note", json_string(c->note));
    int code = http_json(c, "POST", path, body, &doc);
    json_decref(body);
    if (code != EXIT_OK) return code;
    if (c->json) out_json(doc);
    else {
        fputs("recorded: ", stdout);
        out_safe(stdout, jstr(doc, "trust_profile", "?"));
        printf(" %s scenario %s: %s\n", strcmp(c->result, "ok") == 0 ? "accepted" : "refused", jstr(doc, "scenario", "?"),
               json_is_true(json_object_get(doc, "passed")) ? "passed (what a correct device does)"
                                                            : "FAILED (a correct device does the opposite)");
    }
    json_decref(doc);
    return EXIT_OK;
}
