/* The answers libmicrohttpd gives by itself, made the JSON errors of SPEC §6 like every other answer.
 *
 * libmicrohttpd answers some requests before any handler sees them: a request line or header block larger
 * than the connection's memory (414, 431), a malformed request line, header or chunk (400), an HTTP version
 * it does not speak (505), a Content-Length it cannot read or hold (400, 413). In 0.9.75 (Debian 12) those
 * answers are fixed HTML strings without a Content-Type, and no option or callback changes them. The library
 * sends every one of them from one internal function (transmit_error_response_len in connection.c), whose
 * call to MHD_queue_response goes through the library's PLT, as calls to exported functions do. iotcad
 * defines MHD_queue_response itself: the dynamic linker binds that call to this definition, which queues a
 * JSON body with the same status instead, and hands every call made from outside the library (iotcad's own
 * answers) to the library's function unchanged. tests/integration/test_http_errors.sh sends each kind of
 * request the library refuses and requires JSON, so a libmicrohttpd built otherwise (calls bound inside the
 * library) fails the suite instead of passing HTML to clients. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

typedef enum MHD_Result (*queue_fn)(struct MHD_Connection *c, unsigned int status, struct MHD_Response *resp);

static queue_fn real_queue;
static void *library_base;
static pthread_once_t resolved = PTHREAD_ONCE_INIT;

static void resolve(void) {
    real_queue = (queue_fn)dlsym(RTLD_NEXT, "MHD_queue_response");
    Dl_info info;
    if (real_queue && dladdr((void *)real_queue, &info)) library_base = info.dli_fbase;
}

/* What the library's own refusals mean to a client, by status. */
static void describe(unsigned status, const char **code, const char **detail) {
    switch (status) {
    case MHD_HTTP_BAD_REQUEST:
        *code = "bad_request";
        *detail = "the request is malformed (request line, header or chunked body)";
        break;
    case MHD_HTTP_CONTENT_TOO_LARGE:
        *code = "too_large";
        *detail = "the request body is larger than this server accepts";
        break;
    case MHD_HTTP_URI_TOO_LONG:
        *code = "uri_too_long";
        *detail = "the request line is longer than this server accepts";
        break;
    case MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE:
        *code = "headers_too_large";
        *detail = "the request line and headers are larger than this server accepts";
        break;
    case MHD_HTTP_HTTP_VERSION_NOT_SUPPORTED:
        *code = "http_version";
        *detail = "this server speaks HTTP/1.0 and HTTP/1.1";
        break;
    default:
        *code = status >= 500 ? "internal" : "bad_request";
        *detail = "the request could not be processed";
    }
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *c, unsigned int status, struct MHD_Response *resp) {
    pthread_once(&resolved, resolve);
    if (real_queue == NULL) return MHD_NO; /* no libmicrohttpd behind this one: nothing can be sent */
    Dl_info caller;
    bool from_library = library_base && dladdr(__builtin_return_address(0), &caller) && caller.dli_fbase == library_base;
    if (!from_library) return real_queue(c, status, resp);
    const char *code, *detail;
    describe(status, &code, &detail);
    char body[256];
    int n = snprintf(body, sizeof body, "{\"error\":\"%s\",\"detail\":\"%s\"}", code, detail);
    struct MHD_Response *json = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (json == NULL) return real_queue(c, status, resp); /* out of memory: the library's own answer */
    MHD_add_response_header(json, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(json, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = real_queue(c, status, json);
    MHD_destroy_response(json); /* the queue holds its own reference; the caller destroys resp */
    return ret;
}
