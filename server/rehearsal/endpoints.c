/* The rehearsal endpoints (issue 24): TLS listeners that present each rehearsal scenario's chain so a bench
 * device can try it. libmicrohttpd's GnuTLS asks for the certificate at every handshake (the certificate
 * callback), so a leaf the tick made again is served from the next handshake on, without a restart, and the
 * `revoked` scenario staples its OCSP response. Why in iotcad and not a process of its own: only iotcad holds
 * the staged issuer's key that signs the `next` leaf, and the leaves change with the CA's schedule. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "endpoints.h"
#include "log.h"

#define MAX_CHAIN 8
#define ANSWER_MAX 1024
#define STALE_S 120 /* a leaf presented (but the expired one) has at least this long to live */

/* Handshake results are written by whoever reaches the port, without a token: one a trust profile and scenario
 * every RECORD_EVERY_S seconds is enough evidence, and keeps a flood of requests from writing a row (and an
 * audit record) each. */
#define RECORD_EVERY_S 10
#define RECENT 8

typedef struct slot_ctx {
    struct rehearsal_endpoints *e;
    unsigned slot;
    pthread_mutex_t mu; /* recent */
    struct {
        char profile[64];
        time_t at;
    } recent[RECENT];
} slot_ctx;

struct rehearsal_endpoints {
    iotca_ca *ca;
    unsigned base_port;
    struct MHD_Daemon *d[IOTCA_REHEARSAL_MAX];
    slot_ctx ctx[IOTCA_REHEARSAL_MAX];
};

/* GnuTLS's certificate callback carries no context: the one set of endpoints of this process. */
static rehearsal_endpoints *the_endpoints;

/* The slot a session belongs to: the local port its socket is bound to. */
static int slot_of(gnutls_session_t session, const rehearsal_endpoints *e) {
    int fd = gnutls_transport_get_int(session);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
    unsigned port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                             : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return port >= e->base_port && port < e->base_port + IOTCA_REHEARSAL_MAX ? (int)(port - e->base_port) : -1;
}

/* gnutls_certificate_retrieve_function3: this handshake's chain, key and staple, each allocated for GnuTLS to
 * free (GNUTLS_CERT_RETR_DEINIT_ALL). A slot presenting nothing fails the handshake. */
static int retrieve_chain(rehearsal_endpoints *e, gnutls_session_t session, gnutls_pcert_st **certs,
                          unsigned int *n_certs, gnutls_ocsp_data_st **ocsp, unsigned int *n_ocsp,
                          gnutls_privkey_t *pkey, unsigned int *flags) {
    int slot = e ? slot_of(session, e) : -1;
    iotca_rehearsal r;
    bool found = false;
    if (slot < 0 || iotca_ca_rehearsal_slot(e->ca, (unsigned)slot, &r, &found) != IOTCA_OK || !found) return -1;
    /* the tick keeps leaves fresh; with a tick interval longer than a leaf's life, the handshake does it */
    time_t now = time(NULL);
    if (strcmp(r.name, "expired") != 0 && r.not_after < now + STALE_S) {
        iotca_rehearsal_free(&r);
        if (iotca_ca_rehearsal_refresh(e->ca, now, NULL) != IOTCA_OK ||
            iotca_ca_rehearsal_slot(e->ca, (unsigned)slot, &r, &found) != IOTCA_OK || !found)
            return -1;
    }
    int ret = -1;
    unsigned n = MAX_CHAIN;
    gnutls_pcert_st *pc = gnutls_calloc(MAX_CHAIN, sizeof *pc);
    gnutls_privkey_t key = NULL;
    gnutls_ocsp_data_st *od = NULL;
    gnutls_datum_t chain = {r.chain_pem.data, (unsigned)r.chain_pem.len};
    gnutls_datum_t kd = {r.key_pem.data, (unsigned)r.key_pem.len};
    if (pc == NULL || gnutls_pcert_list_import_x509_raw(pc, &n, &chain, GNUTLS_X509_FMT_PEM, 0) < 0) {
        gnutls_free(pc);
        pc = NULL;
        goto out;
    }
    if (gnutls_privkey_init(&key) < 0 || gnutls_privkey_import_x509_raw(key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0) < 0)
        goto out;
    if (r.ocsp_der.len) {
        od = gnutls_calloc(1, sizeof *od);
        if (od == NULL || (od->response.data = gnutls_malloc(r.ocsp_der.len)) == NULL) goto out;
        memcpy(od->response.data, r.ocsp_der.data, r.ocsp_der.len);
        od->response.size = (unsigned)r.ocsp_der.len;
        od->exptime = time(NULL) + 3600;
    }
    *certs = pc;
    *n_certs = n;
    *pkey = key;
    *ocsp = od;
    *n_ocsp = od ? 1 : 0;
    *flags = GNUTLS_CERT_RETR_DEINIT_ALL;
    pc = NULL;
    key = NULL;
    od = NULL;
    ret = 0;
out:
    if (pc) {
        for (unsigned i = 0; i < n; i++) gnutls_pcert_deinit(&pc[i]);
        gnutls_free(pc);
    }
    if (key) gnutls_privkey_deinit(key);
    if (od) {
        gnutls_free(od->response.data);
        gnutls_free(od);
    }
    iotca_rehearsal_free(&r);
    return ret;
}

static int retrieve(gnutls_session_t session, const struct gnutls_cert_retr_st *info, gnutls_pcert_st **certs,
                    unsigned int *n_certs, gnutls_ocsp_data_st **ocsp, unsigned int *n_ocsp,
                    gnutls_privkey_t *pkey, unsigned int *flags) {
    (void)info;
    rehearsal_endpoints *e = the_endpoints;
    int ret = retrieve_chain(e, session, certs, n_certs, ocsp, n_ocsp, pkey, flags);
    if (e) iotca_ca_store_return(e->ca); /* the database connection a refresh used goes back to the pool */
    return ret;
}

/* Whether a handshake result for profile on this slot is due (none recorded in the last RECORD_EVERY_S
 * seconds); if so, remembers it as recorded at now (now 0: forgets it, so the next is due at once). */
static bool record_due(slot_ctx *sc, const char *profile, time_t now) {
    pthread_mutex_lock(&sc->mu);
    size_t oldest = 0, i;
    for (i = 0; i < RECENT && strcmp(sc->recent[i].profile, profile) != 0; i++)
        if (sc->recent[i].at < sc->recent[oldest].at) oldest = i;
    bool due = i == RECENT || now == 0 || now - sc->recent[i].at >= RECORD_EVERY_S;
    if (due) {
        size_t k = i == RECENT ? oldest : i;
        snprintf(sc->recent[k].profile, sizeof sc->recent[k].profile, "%s", profile);
        sc->recent[k].at = now;
    }
    pthread_mutex_unlock(&sc->mu);
    return due;
}

/* "from ADDRESS" for the result's note: who completed the handshake. */
static void client_note(struct MHD_Connection *conn, char *out, size_t cap) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char host[INET6_ADDRSTRLEN] = "?";
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
    if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof host);
    snprintf(out, cap, "handshake completed from %s", host);
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *text) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Every request on a rehearsal endpoint (its handshake completed: the device accepted the chain): says what was
 * presented, and with ?trust_profile=NAME records the acceptance for that registered trust profile. */
static enum MHD_Result serve_request(slot_ctx *sc, struct MHD_Connection *conn, const char *method,
                                     size_t *upload_len, void **state) {
    if (*state == NULL) { /* the headers: come back for the body */
        *state = (void *)sc;
        return MHD_YES;
    }
    if (*upload_len) { /* a body is not asked for; read and ignore at most what MHD buffers */
        *upload_len = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return answer(conn, 405, "iotca rehearsal endpoint: GET only\n");
    iotca_rehearsal r;
    bool found = false;
    char text[ANSWER_MAX];
    if (iotca_ca_rehearsal_slot(sc->e->ca, sc->slot, &r, &found) != IOTCA_OK || !found)
        return answer(conn, 503, "iotca rehearsal endpoint: this scenario presents nothing now\n");
    int len = snprintf(text, sizeof text, "iotca rehearsal: scenario %s; leaf %s from %s\n", r.name, r.serial,
                       r.issuer_name);
    const char *tp = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "trust_profile");
    unsigned status = 200;
    if (tp && !record_due(sc, tp, time(NULL))) {
        snprintf(text + len, sizeof text - (size_t)len, "already recorded for trust profile %.63s in the last %d s\n",
                 tp, RECORD_EVERY_S);
    } else if (tp) {
        iotca_rehearsal_result_rec res;
        char note[96];
        client_note(conn, note, sizeof note);
        iotca_rc rc = iotca_ca_rehearsal_report(sc->e->ca, r.name, tp, true, "handshake", "handshake", note, &res);
        if (rc == IOTCA_OK)
            snprintf(text + len, sizeof text - (size_t)len, "recorded: trust profile %s accepted this chain (%s)\n",
                     res.trust_profile, res.passed ? "passed: as a correct device does" : "failed: a correct device "
                     "refuses it");
        else {
            record_due(sc, tp, 0); /* nothing was recorded: the next try is due at once */
            status = rc == IOTCA_E_STORAGE ? 503 : 400;
            snprintf(text + len, sizeof text - (size_t)len, "not recorded: %s\n", iotca_error_detail());
        }
    }
    iotca_rehearsal_free(&r);
    return answer(conn, status, text);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_len, void **state) {
    (void)url, (void)version, (void)upload;
    slot_ctx *sc = cls;
    enum MHD_Result ret = serve_request(sc, conn, method, upload_len, state);
    iotca_ca_store_return(sc->e->ca); /* the database connection a report used goes back to the pool */
    return ret;
}

void rehearsal_stop(rehearsal_endpoints *e) {
    if (e == NULL) return;
    for (size_t i = 0; i < IOTCA_REHEARSAL_MAX; i++) {
        if (e->d[i]) MHD_stop_daemon(e->d[i]);
        pthread_mutex_destroy(&e->ctx[i].mu);
    }
    if (the_endpoints == e) the_endpoints = NULL;
    free(e);
}

/* libmicrohttpd's messages on these listeners are the handshakes devices refuse, which is what the failure
 * scenarios are for: not worth a log line each. */
static void quiet(void *cls, const char *fmt, va_list ap) { (void)cls, (void)fmt, (void)ap; }

static struct MHD_Daemon *listen_slot(rehearsal_endpoints *e, const char *address, unsigned slot) {
    struct sockaddr_storage ss = {0};
    unsigned port = e->base_port + slot;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        flags |= MHD_USE_IPv6;
    } else {
        return NULL;
    }
    e->ctx[slot].e = e;
    e->ctx[slot].slot = slot;
    return MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, &e->ctx[slot], MHD_OPTION_SOCK_ADDR, &ss,
                            MHD_OPTION_HTTPS_CERT_CALLBACK2, retrieve, MHD_OPTION_CONNECTION_LIMIT, 64,
                            MHD_OPTION_CONNECTION_TIMEOUT, 10, MHD_OPTION_CONNECTION_MEMORY_LIMIT, 16384,
                            MHD_OPTION_EXTERNAL_LOGGER, quiet, NULL,
                            MHD_OPTION_END);
}

iotca_rc rehearsal_start(iotca_ca *ca, const char *address, unsigned base_port, rehearsal_endpoints **out) {
    *out = NULL;
    IOTCA_ENSURE(the_endpoints == NULL, IOTCA_E_USAGE, "rehearsal endpoints are running already");
    IOTCA_ENSURE(base_port >= 1 && base_port + IOTCA_REHEARSAL_MAX <= 65536, IOTCA_E_USAGE,
                 "rehearsal.base_port %u: the scenarios' ports must fit below 65536", base_port);
    rehearsal_endpoints *e = calloc(1, sizeof *e);
    IOTCA_ENSURE(e != NULL, IOTCA_E_INTERNAL, "out of memory");
    e->ca = ca;
    e->base_port = base_port;
    for (unsigned i = 0; i < IOTCA_REHEARSAL_MAX; i++) pthread_mutex_init(&e->ctx[i].mu, NULL);
    the_endpoints = e;
    for (unsigned i = 0; i < IOTCA_REHEARSAL_MAX; i++) {
        e->d[i] = listen_slot(e, address, i);
        if (e->d[i] == NULL) {
            rehearsal_stop(e);
            IOTCA_BAIL(IOTCA_E_USAGE, "rehearsal: cannot listen on %s port %u (in use?)", address, base_port + i);
        }
    }
    log_event("info", "rehearsal endpoints listening",
              json_pack("{s:s, s:i, s:i}", "address", address, "first_port", (int)base_port, "last_port",
                        (int)(base_port + IOTCA_REHEARSAL_MAX - 1)));
    *out = e;
    return IOTCA_OK;
}
