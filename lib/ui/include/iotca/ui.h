/* The dashboard's rendering (SPEC §13): HTML text with every value escaped, and the SVG pictures iotcad's /ui/
 * pages draw on the server (the expiry timeline, the counts over time). Plain data in, text out: no CA, no
 * store, no HTTP, so each picture is unit-tested on its own. */
#ifndef IOTCA_UI_H
#define IOTCA_UI_H

#include <stdarg.h>
#include <time.h>

#include "iotca/buf.h"

/* ---- HTML text ---- */

/* Appends s as HTML text, safe in element content and in a double- or single-quoted attribute value: & < > " '
 * become character references, a control byte (but tab, line feed) and every byte of an invalid UTF-8 sequence
 * become U+FFFD. s NULL appends nothing. Errors: those of iotca_buf_append. */
iotca_rc iotca_html_escape(iotca_buf *out, const char *s);
/* Appends s as one URL query value or path segment (RFC 3986 §2.1): every byte but ALPHA, DIGIT, '-', '.', '_',
 * '~' percent-encoded. The result still goes through iotca_html_escape's rules when put in an attribute (it
 * needs none: it holds no character they change). */
iotca_rc iotca_url_escape(iotca_buf *out, const char *s);
/* printf into out where every value is escaped unless the conversion says it is markup:
 *   %s   a C string, escaped as iotca_html_escape does (NULL: nothing)
 *   %u   a C string, escaped as iotca_url_escape does (NULL: nothing)
 *   %H   a C string of trusted markup, appended as is (a fragment this program built, never a value from outside)
 *   %d %ld %lld %zu %%   numbers, and a '%'
 *   %T   a time_t, as a UTC date "YYYY-MM-DD" (0: "never")
 *   %D   a time_t, as a UTC time "YYYY-MM-DD HH:MM UTC" (0: "never")
 * Nothing else (no width, no precision, no other letter): an unknown conversion is IOTCA_E_USAGE, with nothing
 * appended. Errors: IOTCA_E_USAGE as said, those of iotca_buf_append. */
iotca_rc iotca_html(iotca_buf *out, const char *fmt, ...);
iotca_rc iotca_html_v(iotca_buf *out, const char *fmt, va_list ap);

/* ---- the expiry timeline (SPEC §13, issue 27) ---- */

typedef enum iotca_tl_kind {
    IOTCA_TL_ROOT,   /* a root's validity */
    IOTCA_TL_CROSS,  /* a cross-certificate's validity: its end is a "cross-sign end" */
    IOTCA_TL_ISSUER, /* an issuer's validity; state says where it is in its lifecycle */
} iotca_tl_kind;

/* One row of the timeline: something valid from `from` to `to`. */
typedef struct iotca_tl_bar {
    iotca_tl_kind kind;
    const char *label; /* the certificate's name (escaped when drawn) */
    const char *state; /* issuers: "pending", "staged", "active", "retiring", "retired"; NULL otherwise */
    const char *group; /* issuers: the issuer group; NULL otherwise */
    time_t from, to;
    time_t active_at; /* issuers: when it starts (or started) issuing, drawn as a marker; 0: none */
} iotca_tl_bar;

/* Leaves of one profile expiring in the week starting at week (UTC). */
typedef struct iotca_tl_week {
    const char *profile;
    time_t week;
    unsigned long count;
} iotca_tl_week;

typedef struct iotca_timeline {
    time_t now;        /* drawn as "today", with the lines now + 30, 60 and 180 days */
    time_t start, end; /* the window drawn (start < end); a bar reaching past it is cut at its edge, marked so */
    const iotca_tl_bar *bars;
    size_t n_bars;
    const iotca_tl_week *weeks; /* in any order; a profile's colour comes from its first appearance */
    size_t n_weeks;
} iotca_timeline;

/* Appends the timeline as one <svg> element (UTF-8, no script, no style attribute and no <style>: it is shown
 * under a Content-Security-Policy without 'unsafe-inline'; colours are presentation attributes). Rows in the
 * order given; each bar and marker carries a <title> with its name and dates, and a class naming its kind
 * ("root", "cross", "issuer" and the issuer's state), so a page's stylesheet and a test can find it. The lines
 * are <line class="today">, <line class="due-30">, "due-60", "due-180", each with its label. Leaf expiries are
 * a band of weekly stacked columns under the rows, with a legend naming each profile. Errors: IOTCA_E_USAGE
 * start >= end, a bar with to < from, more than 10,000 bars or 100,000 weeks, bars or weeks NULL with a count,
 * those of iotca_buf_append; on an error nothing is appended. */
iotca_rc iotca_timeline_svg(const iotca_timeline *t, iotca_buf *out);

/* ---- counts over time ---- */

/* One week's counts, from the store. */
typedef struct iotca_count_week {
    time_t week; /* its first second (UTC) */
    unsigned long issued, refused, revoked;
} iotca_count_week;

/* Appends weekly grouped columns (issued, refused, revoked) as one <svg>, under the same rules as the timeline,
 * with a y axis scaled to the largest count, a <title> on every column saying the week and the count, and a
 * legend. n may be 0 (an empty chart saying "nothing yet"). Errors: IOTCA_E_USAGE weeks NULL with n > 0 or
 * n > 100,000, those of iotca_buf_append; on an error nothing is appended. */
iotca_rc iotca_counts_svg(const iotca_count_week *weeks, size_t n, iotca_buf *out);

#endif
