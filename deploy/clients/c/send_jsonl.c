/*
 * dudao-send-c - send a JSON Lines file of feed envelopes to dudao-ingest with libdudao.
 *
 *   dudao-send-c --host H --port P --ca ca.pem --cert x.pem --key x.key \
 *                --server-name dudao-ingest [--window 32] [--retries 10] [--timeout-ms 30000] \
 *                [--quiet] FILE.jsonl        (FILE "-": standard input)
 *
 * One line per outcome on standard output, in file order:
 *   FILE:LINE <TAB> ID <TAB> accepted|duplicate|stale
 *   FILE:LINE <TAB> ID <TAB> rejected <TAB> CODE <TAB> PATH|- <TAB> MESSAGE
 * then "summary: N lines: A accepted, D duplicate, S stale, R rejected". Connection events go
 * to standard error. Exit 0: every line stored (or already stored); 1: a line was rejected;
 * 2: usage, files, or the connection failed (the server refused, or no answer after --retries).
 */
#define _POSIX_C_SOURCE 200809L /* getline */
#include "dudao.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

struct run {
    const char *file;
    int quiet;
    unsigned long lines, accepted, duplicate, stale, rejected;
};

static void on_outcome(const dudao_outcome *o, void *ctx)
{
    struct run *r = ctx;
    unsigned long line = (unsigned long)(uintptr_t)o->user;
    const char *id = o->id ? o->id : "-";
    switch (o->status) {
    case DUDAO_ACCEPTED: r->accepted++; break;
    case DUDAO_DUPLICATE: r->duplicate++; break;
    case DUDAO_STALE: r->stale++; break;
    case DUDAO_NACK:
        r->rejected++;
        printf("%s:%lu\t%s\trejected\t%s\t%s\t%s\t%s\n", r->file, line, id, o->code, o->path ? o->path : "-",
               o->message, o->message_zh);
        return;
    }
    if (!r->quiet)
        printf("%s:%lu\t%s\t%s\n", r->file, line, id,
               o->status == DUDAO_ACCEPTED ? "accepted" : o->status == DUDAO_DUPLICATE ? "duplicate" : "stale");
}

static void on_log(const char *message, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "dudao-send-c: %s\n", message);
}

static int usage(void)
{
    fputs("usage: dudao-send-c --host H --port P --ca ca.pem --cert NAME.pem --key NAME.key\n"
          "                    --server-name dudao-ingest [--window 32] [--retries 10]\n"
          "                    [--timeout-ms 30000] [--quiet] FILE.jsonl\n",
          stderr);
    return 2;
}

static int number(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v > max || *s == '-')
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    dudao_options o;
    struct run run;
    const char *path = NULL;
    unsigned long port = 7401, window = 32, retries = 10, timeout = 30000;
    char err[512];

    memset(&o, 0, sizeof o);
    memset(&run, 0, sizeof run);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--quiet") == 0) {
            run.quiet = 1;
            continue;
        }
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (path)
                return usage();
            path = a;
            continue;
        }
        if (!v)
            return usage();
        if (strcmp(a, "--host") == 0) o.host = v;
        else if (strcmp(a, "--ca") == 0) o.ca_file = v;
        else if (strcmp(a, "--cert") == 0) o.cert_file = v;
        else if (strcmp(a, "--key") == 0) o.key_file = v;
        else if (strcmp(a, "--server-name") == 0) o.server_name = v;
        else if (strcmp(a, "--port") == 0) bad = number(v, 65535, &port) || port == 0;
        else if (strcmp(a, "--window") == 0) bad = number(v, 100000, &window) || window == 0;
        else if (strcmp(a, "--retries") == 0) bad = number(v, 1000000, &retries) || retries == 0;
        else if (strcmp(a, "--timeout-ms") == 0) bad = number(v, 86400000, &timeout) || timeout == 0;
        else return usage();
        if (bad) {
            fprintf(stderr, "dudao-send-c: bad value for %s: %s\n", a, v);
            return 2;
        }
        i++;
    }
    if (!path || !o.host || !o.ca_file || !o.cert_file || !o.key_file || !o.server_name)
        return usage();
    o.port = (int)port;
    o.window = (unsigned)window;
    o.max_attempts = (unsigned)retries;
    o.timeout_ms = (unsigned)timeout;
    o.on_outcome = on_outcome;
    o.on_log = on_log;
    o.ctx = &run;
    run.file = path;

    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!in) {
        perror(path);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* one outcome a line, as it happens */
    dudao_client *c = dudao_new(&o, err, sizeof err);
    if (!c) {
        fprintf(stderr, "dudao-send-c: %s\n", err);
        if (in != stdin)
            fclose(in);
        return 2;
    }

    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    int rc = DUDAO_OK;
    while (rc == DUDAO_OK && (n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (strspn(line, " \t") == (size_t)n)
            continue; /* blank */
        run.lines++;
        rc = dudao_send(c, line, (size_t)n, (void *)(uintptr_t)lineno);
        if (rc == DUDAO_ERR_ARG) { /* this line only: too large to be a frame */
            run.rejected++;
            printf("%s:%lu\t-\trejected\tframe_too_large\t-\t%s\n", path, lineno, dudao_errmsg(c));
            rc = DUDAO_OK;
        }
    }
    if (rc == DUDAO_OK)
        rc = dudao_flush(c);
    if (rc == DUDAO_OK && ferror(in)) {
        perror(path);
        rc = DUDAO_ERR_ARG;
    } else if (rc != DUDAO_OK) {
        fprintf(stderr, "dudao-send-c: %s error: %s; %lu lines unanswered\n", dudao_strerror(rc), dudao_errmsg(c),
                run.lines - run.accepted - run.duplicate - run.stale - run.rejected);
    }
    free(line);
    if (in != stdin)
        fclose(in);

    dudao_stats st;
    dudao_get_stats(c, &st);
    dudao_free(c);
    printf("summary: %lu lines: %lu accepted, %lu duplicate, %lu stale, %lu rejected\n", run.lines, run.accepted,
           run.duplicate, run.stale, run.rejected);
    fprintf(stderr, "dudao-send-c: %lu connections, %lu frames sent, %lu sent again after a reconnect\n",
            st.connections, st.frames_sent, st.resent);
    if (rc != DUDAO_OK)
        return 2;
    return run.rejected ? 1 : 0;
}
