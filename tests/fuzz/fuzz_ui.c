/* Fuzz target: what the dashboard reads from a browser besides its path (server/ui/form.c): a form body
 * (application/x-www-form-urlencoded), a Cookie header, and what lib/ui makes of a value from outside (the
 * escaping every page relies on). Checks what they promise: fields within their bounds and free of control
 * bytes, a cookie value that fits, escaped text with no markup character left. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"

static void check_form(const uint8_t *data, size_t size) {
    ui_form f;
    const char *why = NULL;
    if (!ui_form_parse(data, size, &f, &why)) {
        if (why == NULL || *why == 0) abort(); /* a refusal always says why */
        return;
    }
    if (f.n > UI_FORM_MAX_FIELDS) abort();
    for (size_t i = 0; i < f.n; i++) {
        if (strlen(f.name[i]) >= sizeof f.name[i] || strlen(f.value[i]) >= sizeof f.value[i]) abort();
        for (const char *p = f.value[i]; *p; p++)
            if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') abort();
    }
    if (f.n && ui_form_get(&f, f.name[0]) != f.value[0]) abort();
}

static void check_text(const char *text) {
    char value[65];
    if (ui_cookie_get(text, "iotca_session", value, sizeof value) && strlen(value) >= sizeof value) abort();
    iotca_buf b = {0};
    if (iotca_html(&b, "%s", text) == IOTCA_OK)
        for (size_t i = 0; i < b.len; i++)
            if (memchr("<>\"'", b.data[i], 4) || (b.data[i] < 0x20 && b.data[i] != '\t' && b.data[i] != '\n')) abort();
    iotca_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_form(data, size);
    char *text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    check_text(text);
    free(text);
    return 0;
}
