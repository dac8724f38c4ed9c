/* stack-verify-wolfssl: validates a served chain against a trust store with a real wolfSSL TLS client handshake. */
/*
 * Usage: stack-verify-wolfssl STORE.pem CHAIN.pem LEAF_KEY.pem
 *   STORE.pem     the device trust store, loaded with wolfSSL_CTX_load_verify_locations as firmware does
 *   CHAIN.pem     the chain a TLS server sends: leaf first, then the CA certificates
 *   LEAF_KEY.pem  the leaf's private key (so that an in-process wolfSSL server can send CHAIN.pem)
 * Why a handshake and not a CertManager call per certificate: how a wolfSSL client judges a peer chain
 * (every presented CA verified top-down and added as a temporary signer, WOLFSSL_ALT_CERT_CHAINS when the
 * library was built with it, whether an out-of-date anchor loads and counts) lives in the TLS code
 * (ProcessPeerCerts), not in one verify call. A client and a server in one process, joined by two memory
 * queues, run that very code. The client verifies the peer (WOLFSSL_VERIFY_PEER) with no host name check,
 * so only the chain is judged. The time is the system clock: run it under faketime for another date.
 * Prints "ok" or "fail: REASON" (wolfSSL's error and, from the verify callback, the depth and subject of the
 * certificate it refused); exit 0 ok, 1 fail, 2 usage or set-up error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfio.h>

enum { EXIT_ACCEPTED = 0, EXIT_REJECTED = 1, EXIT_USAGE = 2 };

#define QUEUE_MAX (256 * 1024)

/* One direction of the in-memory connection. */
typedef struct queue {
    unsigned char data[QUEUE_MAX];
    size_t len;
} queue;

typedef struct pipe_end {
    queue *in, *out;
} pipe_end;

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx) {
    (void)ssl;
    queue *q = ((pipe_end *)ctx)->in;
    if (q->len == 0) return WOLFSSL_CBIO_ERR_WANT_READ;
    size_t n = (size_t)sz < q->len ? (size_t)sz : q->len;
    memcpy(buf, q->data, n);
    memmove(q->data, q->data + n, q->len - n);
    q->len -= n;
    return (int)n;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx) {
    (void)ssl;
    queue *q = ((pipe_end *)ctx)->out;
    if (q->len + (size_t)sz > QUEUE_MAX) return WOLFSSL_CBIO_ERR_GENERAL;
    memcpy(q->data + q->len, buf, (size_t)sz);
    q->len += (size_t)sz;
    return sz;
}

/* The first certificate the client refused, as the verify callback saw it. */
static char refused[512];

static int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store) {
    if (!preverify && refused[0] == 0) {
        char subject[256] = "?";
        WOLFSSL_X509 *cur = wolfSSL_X509_STORE_CTX_get_current_cert(store);
        if (cur) wolfSSL_X509_NAME_oneline(wolfSSL_X509_get_subject_name(cur), subject, sizeof subject);
        int err = wolfSSL_X509_STORE_CTX_get_error(store);
        const char *text = wolfSSL_X509_verify_cert_error_string(err);
        if (text == NULL || strstr(text, "unknown error")) text = "verify error"; /* wolfSSL names few codes */
        snprintf(refused, sizeof refused, "depth %d %s: %s (%d)", wolfSSL_X509_STORE_CTX_get_error_depth(store),
                 subject, text, err);
    }
    return preverify; /* wolfSSL's own verdict, unchanged */
}

static void error_text(int err, char *out, size_t n) {
    char text[96];
    wolfSSL_ERR_error_string_n((unsigned long)err, text, sizeof text);
    snprintf(out, n, "%.95s (%d)", text, err);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: stack-verify-wolfssl STORE.pem CHAIN.pem LEAF_KEY.pem\n"
                        "  CHAIN.pem: leaf first, then its CA certificates. exit 0 ok, 1 fail, 2 usage\n");
        return EXIT_USAGE;
    }
    static queue c2s, s2c;
    pipe_end client_end = {&s2c, &c2s}, server_end = {&c2s, &s2c};
    int code = EXIT_USAGE;
    wolfSSL_Init();
    WOLFSSL_CTX *cctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
    WOLFSSL_CTX *sctx = wolfSSL_CTX_new(wolfSSLv23_server_method());
    WOLFSSL *cl = NULL, *sv = NULL;
    if (cctx == NULL || sctx == NULL) goto out;

    /* the server only sends what it is given */
    if (wolfSSL_CTX_use_certificate_chain_file(sctx, argv[2]) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_PrivateKey_file(sctx, argv[3], WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS) {
        fprintf(stderr, "cannot load %s with the key %s into the wolfSSL server\n", argv[2], argv[3]);
        goto out;
    }
    /* the device: its trust store; a refusal here (an expired anchor) is part of the verdict */
    char load[200] = "";
    int lr = wolfSSL_CTX_load_verify_locations(cctx, argv[1], NULL);
    if (lr != WOLFSSL_SUCCESS) {
        char e[160];
        error_text(lr, e, sizeof e);
        snprintf(load, sizeof load, "; loading the trust store failed: %s", e);
    }
    wolfSSL_CTX_set_verify(cctx, WOLFSSL_VERIFY_PEER, verify_cb);
    wolfSSL_CTX_SetIORecv(cctx, io_recv);
    wolfSSL_CTX_SetIOSend(cctx, io_send);
    wolfSSL_CTX_SetIORecv(sctx, io_recv);
    wolfSSL_CTX_SetIOSend(sctx, io_send);
    cl = wolfSSL_new(cctx);
    sv = wolfSSL_new(sctx);
    if (cl == NULL || sv == NULL) goto out;
    wolfSSL_SetIOReadCtx(cl, &client_end);
    wolfSSL_SetIOWriteCtx(cl, &client_end);
    wolfSSL_SetIOReadCtx(sv, &server_end);
    wolfSSL_SetIOWriteCtx(sv, &server_end);

    int cret = WOLFSSL_FATAL_ERROR, cerr = 0, serr = 0;
    for (int round = 0; round < 64; round++) {
        cret = wolfSSL_connect(cl);
        if (cret == WOLFSSL_SUCCESS) break;
        cerr = wolfSSL_get_error(cl, cret);
        if (cerr != WOLFSSL_ERROR_WANT_READ && cerr != WOLFSSL_ERROR_WANT_WRITE) break;
        int sret = wolfSSL_accept(sv);
        if (sret != WOLFSSL_SUCCESS) {
            serr = wolfSSL_get_error(sv, sret);
            if (serr != WOLFSSL_ERROR_WANT_READ && serr != WOLFSSL_ERROR_WANT_WRITE) {
                char e[160];
                error_text(serr, e, sizeof e);
                /* the client never saw the chain: a set-up problem, not a verdict */
                fprintf(stderr, "the in-process server failed: %s\n", e);
                goto out;
            }
        }
    }
    if (cret == WOLFSSL_SUCCESS) {
        printf("ok%s\n", load[0] ? " (the trust store did not load completely)" : "");
        code = EXIT_ACCEPTED;
    } else {
        char e[160];
        error_text(cerr, e, sizeof e);
        printf("fail: %s%s%s%s\n", e, refused[0] ? "; " : "", refused, load);
        code = EXIT_REJECTED;
    }
out:
    wolfSSL_free(cl);
    wolfSSL_free(sv);
    wolfSSL_CTX_free(cctx);
    wolfSSL_CTX_free(sctx);
    wolfSSL_Cleanup();
    return code;
}
