/* The dashboard's session table: which session ids are live, the token and form token each holds, and when
 * each ends (UI_SESSION_TTL after it began, or UI_SESSION_IDLE after its last use, whichever comes first).
 * Times are passed in, so the rules are tested without waiting. Ids are compared in constant time against
 * every live session; an ended session's memory (its token among it) is wiped. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "ui.h"

typedef struct session {
    bool used;
    char id[UI_ID_HEX + 1];
    char csrf[UI_ID_HEX + 1];
    char token[UI_TOKEN_MAX];
    time_t expires, last;
} session;

static session table[UI_SESSIONS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

bool ui_random_hex(char out[UI_ID_HEX + 1]) {
    unsigned char b[UI_ID_HEX / 2];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) return false;
    for (size_t i = 0; i < sizeof b; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
    iotca_wipe(b, sizeof b);
    return true;
}

static void end_session(session *s) { iotca_wipe(s, sizeof *s); }

/* Ends the sessions past their time, and returns the slot of the live session whose id is id (or -1). Under mu. */
static int find(const char *id, time_t now) {
    bool well_formed = id != NULL && strlen(id) == UI_ID_HEX;
    int found = -1;
    for (int i = 0; i < UI_SESSIONS; i++) {
        if (!table[i].used) continue;
        if (table[i].expires <= now || table[i].last + UI_SESSION_IDLE <= now) {
            end_session(&table[i]);
            continue;
        }
        if (well_formed && iotca_ct_equal(table[i].id, id, UI_ID_HEX)) found = i;
    }
    return found;
}

bool ui_session_begin(const char *token, time_t now, char id[UI_ID_HEX + 1]) {
    if (token == NULL || strlen(token) >= UI_TOKEN_MAX) return false;
    session s = {.used = true, .expires = now + UI_SESSION_TTL, .last = now};
    if (!ui_random_hex(s.id) || !ui_random_hex(s.csrf)) return false;
    snprintf(s.token, sizeof s.token, "%s", token);
    pthread_mutex_lock(&mu);
    (void)find(NULL, now);
    int slot = -1;
    for (int i = 0; i < UI_SESSIONS && slot < 0; i++)
        if (!table[i].used) slot = i;
    if (slot >= 0) table[slot] = s;
    pthread_mutex_unlock(&mu);
    if (slot >= 0) memcpy(id, s.id, sizeof s.id);
    end_session(&s);
    return slot >= 0;
}

bool ui_session_use(const char *id, time_t now, char token[UI_TOKEN_MAX], char csrf[UI_ID_HEX + 1]) {
    pthread_mutex_lock(&mu);
    int i = find(id, now);
    if (i >= 0) {
        table[i].last = now;
        memcpy(token, table[i].token, UI_TOKEN_MAX);
        memcpy(csrf, table[i].csrf, UI_ID_HEX + 1);
    }
    pthread_mutex_unlock(&mu);
    return i >= 0;
}

void ui_session_end(const char *id) {
    pthread_mutex_lock(&mu);
    for (int i = 0; id != NULL && strlen(id) == UI_ID_HEX && i < UI_SESSIONS; i++)
        if (table[i].used && iotca_ct_equal(table[i].id, id, UI_ID_HEX)) end_session(&table[i]);
    pthread_mutex_unlock(&mu);
}

size_t ui_session_count(time_t now) {
    size_t n = 0;
    pthread_mutex_lock(&mu);
    (void)find(NULL, now);
    for (int i = 0; i < UI_SESSIONS; i++) n += table[i].used;
    pthread_mutex_unlock(&mu);
    return n;
}
