/* iotca acme eab create | list | revoke: the External Account Binding keys ACME clients (certbot --eab-kid
 * --eab-hmac-key, lego --eab --kid --hmac) need to make an account under a profile, managed over the admin API
 * (POST, GET /v1/acme/eab, DELETE /v1/acme/eab/{kid}); the HMAC key is shown once, at creation. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int create(cli *c) {
    if (c->profile == NULL)
        return cli_report(iotca_error_set(IOTCA_E_USAGE, "acme eab create needs --profile P (a profile with an ACME directory)"));
    json_t *body = json_pack("{s:s}", "profile", c->profile), *doc = NULL;
    int code = http_json(c, "POST", "/v1/acme/eab", body, &doc);
    json_decref(body);
    if (code != EXIT_OK) return code;
    if (c->json) {
        out_json(doc);
    } else {
        printf("kid: %s\nhmac_key: %s\nprofile: %s\ndirectory: %s\n", jstr(doc, "kid", "?"), jstr(doc, "hmac_key", "?"),
               jstr(doc, "profile", "?"), jstr(doc, "directory", "?"));
        printf("certbot: --server %s --eab-kid %s --eab-hmac-key=%s\n", jstr(doc, "directory", "?"), jstr(doc, "kid", "?"),
               jstr(doc, "hmac_key", "?"));
    }
    json_decref(doc);
    return EXIT_OK;
}

static int list(cli *c) {
    json_t *doc = NULL;
    int code = http_json(c, "GET", "/v1/acme/eab", NULL, &doc);
    if (code != EXIT_OK) return code;
    if (c->json) {
        out_json(doc);
    } else {
        size_t i;
        json_t *k;
        json_array_foreach(json_object_get(doc, "eab_keys"), i, k) {
            json_t *acct = json_object_get(k, "account");
            printf("%s  %s  created %s  %s  account %s\n", jstr(k, "kid", "?"), jstr(k, "profile", "?"),
                   jstr(k, "created", "?"), json_is_string(json_object_get(k, "revoked")) ? "revoked" : "active",
                   json_is_integer(acct) ? "bound" : "unused");
        }
    }
    json_decref(doc);
    return EXIT_OK;
}

int cmd_acme_eab(cli *c) {
    iotca_rc rc = http_check_target(c);
    if (rc != IOTCA_OK) return cli_report(rc);
    const char *action = c->args[0];
    if (strcmp(action, "create") == 0 && c->n_args == 1) return create(c);
    if (strcmp(action, "list") == 0 && c->n_args == 1) return list(c);
    if (strcmp(action, "revoke") == 0 && c->n_args == 2) {
        char path[128];
        if (strlen(c->args[1]) >= 64 || strspn(c->args[1], "abcdef0123456789-") != strlen(c->args[1]))
            return cli_report(iotca_error_set(IOTCA_E_USAGE, "'%.64s' is not an EAB kid (eab- and 16 hex digits)", c->args[1]));
        snprintf(path, sizeof path, "/v1/acme/eab/%s", c->args[1]);
        json_t *doc = NULL;
        int code = http_json(c, "DELETE", path, NULL, &doc);
        if (code == EXIT_OK) printf("revoked EAB key %s\n", c->args[1]);
        json_decref(doc);
        return code;
    }
    return cli_report(iotca_error_set(IOTCA_E_USAGE, "acme eab takes create --profile P, list, or revoke KID"));
}
