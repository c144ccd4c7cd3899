/*
 * dashboard.h - the web dashboard, one self-contained HTML page
 * (src/dashboard.html, embedded at build time; no build step, no
 * external assets).  api.c serves it at GET /.
 */
#ifndef HAPAIR_DASHBOARD_H
#define HAPAIR_DASHBOARD_H

#include <stddef.h>

/* The page (UTF-8 HTML) and its length in bytes; static storage. */
const char *dashboard_html(size_t *len);

#endif
