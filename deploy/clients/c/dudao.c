/*
 * dudao.c - C client for dudao-ingest: mutual TLS, length-prefixed JSON frames, a window of
 * pipelined feeds, replies matched in order, reconnect and re-send. See dudao.h.
 *
 * Layout: small helpers; a minimal JSON reader (replies only need kind, id, status and
 * error.code/message/path); the TLS connection (a socket BIO that never raises SIGPIPE,
 * certificate and identity checks); the send loop; the public functions.
 */
#define _GNU_SOURCE /* MSG_NOSIGNAL, SOCK_NONBLOCK, SOCK_CLOEXEC */
#include "dudao.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#define SSL_get1_peer_certificate SSL_get_peer_certificate /* OpenSSL 1.1.1 */
#endif

#define DEFAULT_PORT 7401
#define DEFAULT_WINDOW 32
#define DEFAULT_MAX_FRAME 1048576u
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_ATTEMPTS 10
#define DEFAULT_BACKOFF_INITIAL_MS 100
#define DEFAULT_BACKOFF_MAX_MS 5000
#define MAX_REPLY_BYTES (1u << 20) /* a reply is a few hundred bytes; this is a sanity bound */

/* step() results besides DUDAO_OK and the negative DUDAO_ERR_* codes */
#define LOST 1 /* the connection is unusable (reason in c->err); reconnect and re-send */

/* ------------------------------------------------------------------ client state */

struct feed {
    unsigned char *frame; /* 4-byte big-endian length + the JSON */
    size_t len;           /* of frame */
    char *id;             /* the envelope's id, or NULL */
    void *user;
    unsigned sends;
};

struct dudao_client {
    dudao_options o; /* defaults filled in; host and server_name point at the copies below */
    char *host, *server_name;
    SSL_CTX *ctx;
    BIO_METHOD *bio_method;
    SSL *ssl; /* NULL when not connected */
    int fd;
    struct feed *queue; /* ring of o.window feeds, oldest (next answer due) at head */
    size_t head, count;
    size_t sent; /* queued feeds (from head) completely written on this connection */
    size_t woff; /* bytes of the next feed already written */
    unsigned char *rbuf;
    size_t rcap, rlen, rpos;
    unsigned failures; /* consecutive connections that failed or brought no reply */
    int in_callback;
    long long last_io_ms;
    dudao_stats stats;
    char err[512];
};

static struct feed *feed_at(dudao_client *c, size_t i) { return &c->queue[(c->head + i) % c->o.window]; }

static void feed_clear(struct feed *f)
{
    free(f->frame);
    free(f->id);
    memset(f, 0, sizeof *f);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int set_err(dudao_client *c, int code, const char *fmt, ...)
{
    char msg[sizeof c->err];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap); /* may quote c->err itself, hence the copy */
    va_end(ap);
    memcpy(c->err, msg, sizeof msg);
    return code;
}

static void say(dudao_client *c, const char *fmt, ...)
{
    char msg[640];
    va_list ap;
    if (!c->o.on_log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->o.on_log(msg, c->o.ctx);
}

/* The oldest queued OpenSSL error as text (the queue is cleared), or `fallback`. */
static const char *ssl_reason(char *buf, size_t size, const char *fallback)
{
    unsigned long e = ERR_get_error();
    if (e == 0) {
        snprintf(buf, size, "%s", fallback);
    } else {
        const char *r = ERR_reason_error_string(e);
        if (r)
            snprintf(buf, size, "%s", r);
        else
            ERR_error_string_n(e, buf, size);
    }
    ERR_clear_error();
    return buf;
}

/* ------------------------------------------------------------------ JSON reader
 *
 * A strict RFC 8259 reader for one object. It validates everything it reads (strings
 * including escapes, surrogate pairs and UTF-8, numbers, literals, nesting up to
 * J_MAX_DEPTH) and keeps only the string members named in a jfield table, decoded to
 * NUL-terminated UTF-8. A member that occurs twice keeps its last value; a wanted member
 * whose value is not a string is NULL.
 */

#define J_MAX_DEPTH 64

typedef struct jfield {
    const char *key;
    char **str;                /* where to keep a string value, or NULL */
    const struct jfield *obj;  /* fields to keep if the value is an object, or NULL */
} jfield;

typedef struct {
    const char *p, *end;
    int depth;
} jreader;

static int j_value(jreader *r, const jfield *fields, char **str);

static void j_ws(jreader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int j_digit(const jreader *r) { return r->p < r->end && *r->p >= '0' && *r->p <= '9'; }

static int j_hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        v <<= 4;
        if (ch >= '0' && ch <= '9')
            v |= (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            v |= (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            v |= (unsigned)(ch - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Length of the well-formed UTF-8 sequence starting at p (a byte >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned cp, min;
    size_t n;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        n = 2, cp = p[0] & 0x1Fu, min = 0x80;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        n = 3, cp = p[0] & 0x0Fu, min = 0x800;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        n = 4, cp = p[0] & 0x07u, min = 0x10000;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static size_t utf8_put(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The string at r->p (a '"'). With out: a malloc'd decoded copy (a \u0000 is refused, as
 * it cannot be a C string). The decoded form is never longer than the escaped one. */
static int j_string(jreader *r, char **out)
{
    const char *s = r->p + 1, *q = s;
    char *buf = NULL, *o = NULL;

    while (q < r->end && *q != '"') /* find the closing quote */
        q += (*q == '\\') ? 2 : 1;
    if (q >= r->end)
        return -1;
    if (out) {
        if (!(buf = malloc((size_t)(q - s) + 1)))
            return -1;
        o = buf;
    }
    for (const char *p = s; p < q;) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20)
            goto bad;
        if (ch >= 0x80) {
            size_t n = utf8_len((const unsigned char *)p, (const unsigned char *)q);
            if (n == 0)
                goto bad;
            if (o)
                memcpy(o, p, n), o += n;
            p += n;
            continue;
        }
        if (ch != '\\') {
            if (o)
                *o++ = (char)ch;
            p++;
            continue;
        }
        p++; /* the escape letter; before q, by the scan above */
        unsigned cp;
        switch (*p++) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (q - p < 4 || j_hex4(p, &cp) != 0)
                goto bad;
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) { /* a high surrogate needs its low half */
                unsigned lo;
                if (q - p < 6 || p[0] != '\\' || p[1] != 'u' || j_hex4(p + 2, &lo) != 0 || lo < 0xDC00 ||
                    lo > 0xDFFF)
                    goto bad;
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                goto bad;
            }
            if (cp == 0 && o)
                goto bad;
            break;
        default:
            goto bad;
        }
        if (o)
            o += utf8_put(o, cp);
    }
    if (out) {
        *o = '\0';
        *out = buf;
    }
    r->p = q + 1;
    return 0;
bad:
    free(buf);
    return -1;
}

static int j_number(jreader *r)
{
    if (r->p < r->end && *r->p == '-')
        r->p++;
    if (r->p < r->end && *r->p == '0')
        r->p++;
    else if (j_digit(r))
        while (j_digit(r))
            r->p++;
    else
        return -1;
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (!j_digit(r))
            return -1;
        while (j_digit(r))
            r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (!j_digit(r))
            return -1;
        while (j_digit(r))
            r->p++;
    }
    return 0;
}

static int j_literal(jreader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return -1;
    r->p += n;
    return 0;
}

/* An object or array at r->p; members named in `fields` are kept. */
static int j_container(jreader *r, const jfield *fields)
{
    char close = (*r->p == '{') ? '}' : ']';
    if (++r->depth > J_MAX_DEPTH)
        return -1;
    r->p++;
    j_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        r->depth--;
        return 0;
    }
    for (;;) {
        const jfield *f = NULL;
        if (close == '}') {
            char *key = NULL;
            j_ws(r);
            if (r->p >= r->end || *r->p != '"' || j_string(r, fields ? &key : NULL) != 0)
                return -1;
            for (const jfield *t = fields; key && t->key; t++)
                if (strcmp(t->key, key) == 0)
                    f = t;
            free(key);
            j_ws(r);
            if (r->p >= r->end || *r->p != ':')
                return -1;
            r->p++;
        }
        if (j_value(r, f ? f->obj : NULL, f ? f->str : NULL) != 0)
            return -1;
        j_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == close) {
            r->p++;
            r->depth--;
            return 0;
        }
        return -1;
    }
}

static int j_value(jreader *r, const jfield *fields, char **str)
{
    if (str) { /* whatever this value is, it replaces an earlier one */
        free(*str);
        *str = NULL;
    }
    j_ws(r);
    if (r->p >= r->end)
        return -1;
    switch (*r->p) {
    case '{': return j_container(r, fields);
    case '[': return j_container(r, NULL);
    case '"': return j_string(r, str);
    case 't': return j_literal(r, "true");
    case 'f': return j_literal(r, "false");
    case 'n': return j_literal(r, "null");
    default: return j_number(r);
    }
}

/* 0 if s[0..n) is exactly one JSON object (whitespace around it allowed). */
static int json_object(const char *s, size_t n, const jfield *fields)
{
    jreader r = {s, s + n, 0};
    j_ws(&r);
    if (r.p >= r.end || *r.p != '{' || j_value(&r, fields, NULL) != 0)
        return -1;
    j_ws(&r);
    return r.p == r.end ? 0 : -1;
}

struct reply {
    char *kind, *id, *status, *code, *message, *message_zh, *path;
};

static void reply_free(struct reply *r)
{
    free(r->kind), free(r->id), free(r->status), free(r->code), free(r->message), free(r->message_zh), free(r->path);
    memset(r, 0, sizeof *r);
}

/* Reads kind, id, status and error.{code,message,message_zh,path}; free with reply_free even on failure. */
static int parse_reply(const char *s, size_t n, struct reply *r)
{
    const jfield error[] = {{"code", &r->code, NULL}, {"message", &r->message, NULL},
                            {"message_zh", &r->message_zh, NULL}, {"path", &r->path, NULL},
                            {NULL, NULL, NULL}};
    const jfield top[] = {{"kind", &r->kind, NULL}, {"id", &r->id, NULL}, {"status", &r->status, NULL},
                          {"error", NULL, error}, {NULL, NULL, NULL}};
    memset(r, 0, sizeof *r);
    return json_object(s, n, top);
}

/* The envelope's top-level "id" string, or NULL (not JSON, no id, not a string). */
static char *envelope_id(const char *s, size_t n)
{
    char *id = NULL;
    const jfield top[] = {{"id", &id, NULL}, {NULL, NULL, NULL}};
    if (json_object(s, n, top) != 0) {
        free(id);
        return NULL;
    }
    return id;
}

/* ------------------------------------------------------------------ TLS connection */

/* A socket BIO that writes with MSG_NOSIGNAL: a peer that goes away yields EPIPE, never a
 * SIGPIPE that would kill the integrator's process. The fd lives in the BIO's data. */
static int bio_write(BIO *b, const char *buf, int len)
{
    ssize_t n = send((int)(intptr_t)BIO_get_data(b), buf, (size_t)len, MSG_NOSIGNAL);
    BIO_clear_retry_flags(b);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)n;
}

static int bio_read(BIO *b, char *buf, int len)
{
    ssize_t n = recv((int)(intptr_t)BIO_get_data(b), buf, (size_t)len, 0);
    BIO_clear_retry_flags(b);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_read(b);
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* >0 ready, 0 deadline passed, <0 error */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        struct pollfd p = {fd, events, 0};
        if (left <= 0)
            return 0;
        int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        return r;
    }
}

static int tcp_connect(dudao_client *c, long long deadline)
{
    struct addrinfo hints, *res = NULL;
    char port[16], why[256] = "no address";
    int fd = -1;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof port, "%d", c->o.port);
    int rc = getaddrinfo(c->host, port, &hints, &res);
    if (rc != 0)
        return set_err(c, LOST, "cannot resolve %s: %s", c->host, gai_strerror(rc));
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            snprintf(why, sizeof why, "%s", strerror(errno));
            continue;
        }
        int err = 0;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
            if (err == EINPROGRESS) {
                socklen_t len = sizeof err;
                int w = wait_fd(fd, POLLOUT, deadline);
                if (w == 0)
                    err = ETIMEDOUT;
                else if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                    err = errno;
            }
        }
        if (err != 0) {
            snprintf(why, sizeof why, "%s", strerror(err));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return set_err(c, LOST, "cannot connect to %s:%d: %s", c->host, c->o.port, why);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* frames are small: no Nagle delay */
    c->fd = fd;
    return DUDAO_OK;
}

/* The subject CN of a certificate as UTF-8 (OPENSSL_free it), or NULL if none or several. */
static char *cert_cn(X509 *cert)
{
    X509_NAME *subject = X509_get_subject_name(cert);
    int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    unsigned char *utf8 = NULL;
    if (i < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, i) >= 0)
        return NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
    if (n < 0)
        return NULL;
    if (memchr(utf8, '\0', (size_t)n)) { /* an embedded NUL: not a name */
        OPENSSL_free(utf8);
        return NULL;
    }
    return (char *)utf8;
}

/* The explicit identity check after the handshake (OpenSSL checked it during the handshake
 * too, via SSL_set1_host): a DNS SAN matches `name`, or the subject CN - the identity Dudao
 * itself goes by - is exactly `name`. */
static int cert_is(X509 *cert, const char *name)
{
    if (X509_check_host(cert, name, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
                        NULL) == 1)
        return 1;
    char *cn = cert_cn(cert);
    int ok = cn && strcmp(cn, name) == 0;
    OPENSSL_free(cn);
    return ok;
}

static void close_connection(dudao_client *c, int polite)
{
    if (c->ssl) {
        if (polite) {
            ERR_clear_error();
            SSL_shutdown(c->ssl); /* one non-blocking close_notify; the answer is not awaited */
        }
        SSL_free(c->ssl); /* frees the BIO */
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    ERR_clear_error();
}

/* Connects and handshakes. DUDAO_OK, LOST (worth retrying) or DUDAO_ERR_IDENTITY. */
static int open_connection(dudao_client *c)
{
    long long deadline = now_ms() + c->o.timeout_ms;
    char why[256];
    unsigned char addr[sizeof(struct in6_addr)];
    int rc = tcp_connect(c, deadline);
    if (rc != DUDAO_OK)
        return rc;

    SSL *ssl = SSL_new(c->ctx);
    BIO *bio = BIO_new(c->bio_method);
    if (!ssl || !bio) {
        SSL_free(ssl);
        BIO_free(bio);
        close_connection(c, 0);
        return set_err(c, DUDAO_ERR_NOMEM, "out of memory");
    }
    BIO_set_data(bio, (void *)(intptr_t)c->fd);
    SSL_set_bio(ssl, bio, bio);
    c->ssl = ssl;
    /* SNI (a host name, never an address: RFC 6066) and the name the certificate must carry,
     * checked by OpenSSL during the handshake: a DNS SAN or the subject CN. */
    if (inet_pton(AF_INET, c->server_name, addr) != 1 && inet_pton(AF_INET6, c->server_name, addr) != 1)
        SSL_set_tlsext_host_name(ssl, c->server_name);
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT);
    if (SSL_set1_host(ssl, c->server_name) != 1) {
        close_connection(c, 0);
        return set_err(c, DUDAO_ERR_NOMEM, "cannot set the expected server name");
    }

    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(ssl);
        if (r == 1)
            break;
        int e = SSL_get_error(ssl, r), w = 0;
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            w = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            if (w > 0)
                continue;
        }
        int poll_errno = errno;
        long v = SSL_get_verify_result(ssl);
        if (v != X509_V_OK) {
            STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
            char *cn = (chain && sk_X509_num(chain) > 0) ? cert_cn(sk_X509_value(chain, 0)) : NULL;
            set_err(c, DUDAO_ERR_IDENTITY,
                    "refused the server at %s:%d before sending anything: its certificate%s%s%s failed "
                    "verification (%s; expected identity \"%s\")",
                    c->host, c->o.port, cn ? " (CN \"" : "", cn ? cn : "", cn ? "\")" : "",
                    X509_verify_cert_error_string(v), c->server_name);
            OPENSSL_free(cn);
            close_connection(c, 0);
            return DUDAO_ERR_IDENTITY;
        }
        if (w == 0 && (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE))
            snprintf(why, sizeof why, "no answer within %u ms", c->o.timeout_ms);
        else if (w < 0)
            snprintf(why, sizeof why, "poll: %s", strerror(poll_errno));
        else if (e == SSL_ERROR_SYSCALL && errno != 0)
            snprintf(why, sizeof why, "%s", strerror(errno));
        else
            ssl_reason(why, sizeof why, "the server closed the connection");
        close_connection(c, 0);
        return set_err(c, LOST, "TLS handshake with %s:%d failed: %s", c->host, c->o.port, why);
    }

    X509 *peer = SSL_get1_peer_certificate(ssl);
    int ok = peer && SSL_get_verify_result(ssl) == X509_V_OK && cert_is(peer, c->server_name) &&
             SSL_version(ssl) >= TLS1_2_VERSION;
    X509_free(peer);
    if (!ok) {
        close_connection(c, 0);
        return set_err(c, DUDAO_ERR_IDENTITY,
                       "refused the server at %s:%d before sending anything: its certificate is not "
                       "\"%s\" (neither subject CN nor DNS SAN)",
                       c->host, c->o.port, c->server_name);
    }
    c->sent = c->woff = c->rlen = c->rpos = 0;
    c->last_io_ms = now_ms();
    c->stats.connections++;
    say(c, "connected to %s:%d (%s, server \"%s\")%s", c->host, c->o.port, SSL_get_version(ssl), c->server_name,
          c->count ? "; sending the unanswered feeds again" : "");
    return DUDAO_OK;
}

/* ------------------------------------------------------------------ sending and replies */

static int lost(dudao_client *c, const char *doing, int e, int n)
{
    char why[256];
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && n == 0 && errno == 0))
        snprintf(why, sizeof why, "the server closed the connection");
    else if (e == SSL_ERROR_SYSCALL && errno != 0)
        snprintf(why, sizeof why, "%s", strerror(errno));
    else
        ssl_reason(why, sizeof why, "the server closed the connection");
    return set_err(c, LOST, "connection to %s:%d lost while %s: %s", c->host, c->o.port, doing, why);
}

static void drop_connection(dudao_client *c)
{
    close_connection(c, 0);
    c->failures++;
    say(c, "%s (%zu feeds unanswered)", c->err, c->count);
}

/* One reply frame: the answer to the feed at the head of the queue. */
static int handle_reply(dudao_client *c, const char *s, size_t n)
{
    struct reply r;
    dudao_outcome out;
    int rc = DUDAO_OK;

    memset(&out, 0, sizeof out);
    if (parse_reply(s, n, &r) != 0 || !r.kind) {
        rc = set_err(c, DUDAO_ERR_PROTOCOL, "the server sent a frame that is not a JSON object with a kind");
        goto done;
    }
    if (strcmp(r.kind, "error") == 0) { /* the server closes the connection after an error frame */
        rc = set_err(c, LOST, "the server refused the connection: %s: %s", r.code ? r.code : "?",
                     r.message ? r.message : "");
        goto done;
    }
    if (strcmp(r.kind, "ack") != 0 && strcmp(r.kind, "nack") != 0) {
        rc = set_err(c, DUDAO_ERR_PROTOCOL, "the server sent a \"%.40s\" frame where an ack or nack was due", r.kind);
        goto done;
    }
    if (c->sent == 0) {
        rc = set_err(c, DUDAO_ERR_PROTOCOL, "the server answered a feed that was not sent");
        goto done;
    }
    struct feed *f = feed_at(c, 0);
    /* A nack for a frame without a usable id carries "id": null; any other id must be ours
     * (unless this reader found no id in the envelope: then the server's word is taken). */
    if (r.id && f->id && strcmp(r.id, f->id) != 0) {
        rc = set_err(c, DUDAO_ERR_PROTOCOL, "the server answered \"%.128s\" where the answer to \"%.128s\" was due",
                     r.id, f->id ? f->id : "(no id)");
        goto done;
    }
    if (strcmp(r.kind, "ack") == 0) {
        if (r.status && strcmp(r.status, "accepted") == 0)
            out.status = DUDAO_ACCEPTED;
        else if (r.status && strcmp(r.status, "duplicate") == 0)
            out.status = DUDAO_DUPLICATE;
        else if (r.status && strcmp(r.status, "stale") == 0)
            out.status = DUDAO_STALE;
        else {
            rc = set_err(c, DUDAO_ERR_PROTOCOL, "the server sent an ack with status \"%.40s\"",
                         r.status ? r.status : "(none)");
            goto done;
        }
    } else {
        if (r.code && strcmp(r.code, "overloaded") == 0) { /* "retry later": back off, send again */
            rc = set_err(c, LOST, "the server is overloaded: %s", r.message ? r.message : "retry later");
            goto done;
        }
        out.status = DUDAO_NACK;
        out.code = r.code ? r.code : "unknown";
        out.message = r.message ? r.message : "";
        out.message_zh = r.message_zh ? r.message_zh : "";
        out.path = r.path;
    }
    out.id = f->id ? f->id : r.id;
    out.user = f->user;
    out.sends = f->sends;
    if (c->o.on_outcome) {
        c->in_callback = 1;
        c->o.on_outcome(&out, c->o.ctx);
        c->in_callback = 0;
    }
    feed_clear(f);
    c->head = (c->head + 1) % c->o.window;
    c->count--;
    c->sent--;
    c->failures = 0;
    c->stats.answered++;
done:
    reply_free(&r);
    return rc;
}

/* Handles every complete frame in the read buffer and makes room for the next read. */
static int handle_replies(dudao_client *c)
{
    size_t need = 0;
    while (c->rlen - c->rpos >= 4) {
        const unsigned char *h = c->rbuf + c->rpos;
        uint32_t n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
        if (n == 0 || n > MAX_REPLY_BYTES)
            return set_err(c, DUDAO_ERR_PROTOCOL, "the server sent a frame of %u bytes", n);
        if (c->rlen - c->rpos - 4 < n) {
            need = 4 + (size_t)n;
            break;
        }
        int rc = handle_reply(c, (const char *)h + 4, n);
        c->rpos += 4 + n;
        if (rc != DUDAO_OK)
            return rc;
    }
    memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
    c->rlen -= c->rpos;
    c->rpos = 0;
    if (need < c->rlen + 4096)
        need = c->rlen + 4096;
    if (need > c->rcap) {
        unsigned char *b = realloc(c->rbuf, need);
        if (!b)
            return set_err(c, DUDAO_ERR_NOMEM, "out of memory");
        c->rbuf = b;
        c->rcap = need;
    }
    return DUDAO_OK;
}

/* One round of I/O: writes what the window holds, reads and handles what has arrived and,
 * if neither moved and `may_wait`, waits for the socket (at most until timeout_ms after the
 * last progress). DUDAO_OK, LOST, or a fatal DUDAO_ERR_*. */
static int step(dudao_client *c, int may_wait)
{
    int want_write = 0, progress = 0;

    while (c->sent < c->count) {
        struct feed *f = feed_at(c, c->sent);
        ERR_clear_error();
        errno = 0;
        int n = SSL_write(c->ssl, f->frame + c->woff, (int)(f->len - c->woff));
        if (n > 0) {
            progress = 1;
            c->woff += (size_t)n;
            if (c->woff == f->len) {
                c->woff = 0;
                c->sent++;
                c->stats.frames_sent++;
                if (++f->sends > 1)
                    c->stats.resent++;
            }
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_WRITE) {
            want_write = 1;
            break;
        }
        if (e == SSL_ERROR_WANT_READ)
            break;
        return lost(c, "sending", e, n);
    }
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int n = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(c->rcap - c->rlen));
        if (n > 0) {
            progress = 1;
            c->rlen += (size_t)n;
            int rc = handle_replies(c);
            if (rc != DUDAO_OK)
                return rc;
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ)
            break;
        if (e == SSL_ERROR_WANT_WRITE) {
            want_write = 1;
            break;
        }
        return lost(c, "receiving", e, n);
    }
    if (progress) {
        c->last_io_ms = now_ms();
        return DUDAO_OK;
    }
    if (!may_wait)
        return DUDAO_OK;
    int w = wait_fd(c->fd, (short)(POLLIN | (want_write ? POLLOUT : 0)), c->last_io_ms + c->o.timeout_ms);
    if (w == 0)
        return set_err(c, LOST, "no answer from %s:%d within %u ms", c->host, c->o.port, c->o.timeout_ms);
    if (w < 0)
        return set_err(c, LOST, "poll: %s", strerror(errno));
    return DUDAO_OK;
}

static unsigned backoff_ms(const dudao_client *c)
{
    unsigned d = c->o.backoff_initial_ms, r = 0;
    for (unsigned i = 1; i < c->failures && d < c->o.backoff_max_ms; i++)
        d = d > UINT_MAX / 2 ? UINT_MAX : d * 2;
    if (d > c->o.backoff_max_ms)
        d = c->o.backoff_max_ms;
    if (RAND_bytes((unsigned char *)&r, sizeof r) != 1) /* jitter: somewhere in [d/2, d] */
        r = 0;
    ERR_clear_error();
    return d / 2 + r % (d - d / 2 + 1);
}

static int ensure_connected(dudao_client *c)
{
    while (!c->ssl) {
        if (c->failures >= c->o.max_attempts) {
            unsigned n = c->failures;
            c->failures = 0; /* a later call starts a fresh round of attempts */
            return set_err(c, DUDAO_ERR_CONNECT, "gave up after %u attempts without an answer; last: %s", n, c->err);
        }
        if (c->failures > 0) {
            unsigned d = backoff_ms(c);
            say(c, "reconnecting to %s:%d in %u ms (attempt %u of %u)", c->host, c->o.port, d, c->failures + 1,
                  c->o.max_attempts);
            sleep_ms(d);
        }
        int rc = open_connection(c);
        if (rc == LOST) {
            c->failures++;
            say(c, "%s", c->err);
        } else if (rc != DUDAO_OK) {
            return rc;
        }
    }
    return DUDAO_OK;
}

/* Runs the connection until at most `target` feeds are unanswered. */
static int drive(dudao_client *c, size_t target)
{
    while (c->count > target) {
        int rc = ensure_connected(c);
        if (rc == DUDAO_OK)
            rc = step(c, 1);
        if (rc == LOST) {
            drop_connection(c);
            continue;
        }
        if (rc != DUDAO_OK) {
            close_connection(c, 0); /* the queue is kept: a later flush sends it again */
            return rc;
        }
    }
    return DUDAO_OK;
}

/* ------------------------------------------------------------------ public functions */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

static dudao_client *new_fail(dudao_client *c, char *err, size_t err_size, const char *fmt, ...)
{
    if (err && err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    dudao_free(c);
    return NULL;
}

dudao_client *dudao_new(const dudao_options *options, char *err, size_t err_size)
{
    char why[256];
    dudao_client *c;

    if (!options || !options->host || !*options->host || !options->server_name || !*options->server_name ||
        !options->ca_file || !options->cert_file || !options->key_file)
        return new_fail(NULL, err, err_size, "host, server_name, ca_file, cert_file and key_file are required");
    if (options->port < 0 || options->port > 65535)
        return new_fail(NULL, err, err_size, "port %d is out of range", options->port);
    if (strlen(options->server_name) > 253)
        return new_fail(NULL, err, err_size, "server_name is too long");
    if (!(c = calloc(1, sizeof *c)))
        return new_fail(NULL, err, err_size, "out of memory");
    c->fd = -1;
    c->o = *options;
    if (!c->o.port) c->o.port = DEFAULT_PORT;
    if (!c->o.window) c->o.window = DEFAULT_WINDOW;
    if (!c->o.max_frame_bytes) c->o.max_frame_bytes = DEFAULT_MAX_FRAME;
    if (!c->o.timeout_ms) c->o.timeout_ms = DEFAULT_TIMEOUT_MS;
    if (!c->o.max_attempts) c->o.max_attempts = DEFAULT_MAX_ATTEMPTS;
    if (!c->o.backoff_initial_ms) c->o.backoff_initial_ms = DEFAULT_BACKOFF_INITIAL_MS;
    if (!c->o.backoff_max_ms) c->o.backoff_max_ms = DEFAULT_BACKOFF_MAX_MS;
    if (c->o.max_frame_bytes > 0xFFFFFFFFu - 4 || c->o.window > 1000000)
        return new_fail(c, err, err_size, "window or max_frame_bytes is out of range");
    c->host = dup_str(options->host);
    c->server_name = dup_str(options->server_name);
    c->o.host = c->host;
    c->o.server_name = c->server_name;
    c->queue = calloc(c->o.window, sizeof *c->queue);
    c->rcap = 16384;
    c->rbuf = malloc(c->rcap);
    c->ctx = SSL_CTX_new(TLS_client_method());
    c->bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "dudao socket");
    if (!c->host || !c->server_name || !c->queue || !c->rbuf || !c->ctx || !c->bio_method)
        return new_fail(c, err, err_size, "out of memory");
    BIO_meth_set_write(c->bio_method, bio_write);
    BIO_meth_set_read(c->bio_method, bio_read);
    BIO_meth_set_ctrl(c->bio_method, bio_ctrl);
    BIO_meth_set_create(c->bio_method, bio_create);

    ERR_clear_error();
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(c->ctx, c->o.ca_file, NULL) != 1)
        return new_fail(c, err, err_size, "cannot load the CA file %s: %s", c->o.ca_file,
                        ssl_reason(why, sizeof why, "unreadable"));
    if (SSL_CTX_use_certificate_chain_file(c->ctx, c->o.cert_file) != 1)
        return new_fail(c, err, err_size, "cannot load the certificate %s: %s", c->o.cert_file,
                        ssl_reason(why, sizeof why, "unreadable"));
    if (SSL_CTX_use_PrivateKey_file(c->ctx, c->o.key_file, SSL_FILETYPE_PEM) != 1)
        return new_fail(c, err, err_size, "cannot load the key %s: %s", c->o.key_file,
                        ssl_reason(why, sizeof why, "unreadable"));
    if (SSL_CTX_check_private_key(c->ctx) != 1)
        return new_fail(c, err, err_size, "the key %s does not belong to the certificate %s", c->o.key_file,
                        c->o.cert_file);
    ERR_clear_error();
    c->o.ca_file = c->o.cert_file = c->o.key_file = NULL; /* loaded; the caller's strings may go */
    return c;
}

int dudao_connect(dudao_client *c)
{
    if (!c || c->in_callback)
        return DUDAO_ERR_ARG;
    int rc = ensure_connected(c);
    if (rc != DUDAO_OK)
        close_connection(c, 0);
    return rc;
}

int dudao_send(dudao_client *c, const char *json, size_t len, void *user)
{
    if (!c)
        return DUDAO_ERR_ARG;
    if (c->in_callback)
        return set_err(c, DUDAO_ERR_ARG, "dudao_send was called from an outcome callback");
    if (!json || len == 0 || len > c->o.max_frame_bytes)
        return set_err(c, DUDAO_ERR_ARG, "a feed is 1 to %u bytes; this one is %zu", c->o.max_frame_bytes,
                       json ? len : 0);
    int rc = drive(c, c->o.window - 1); /* room in the window */
    if (rc == DUDAO_OK)
        rc = ensure_connected(c);
    if (rc != DUDAO_OK)
        return rc; /* not queued */

    struct feed *f = feed_at(c, c->count);
    if (!(f->frame = malloc(len + 4)))
        return set_err(c, DUDAO_ERR_NOMEM, "out of memory");
    f->frame[0] = (unsigned char)(len >> 24);
    f->frame[1] = (unsigned char)(len >> 16);
    f->frame[2] = (unsigned char)(len >> 8);
    f->frame[3] = (unsigned char)len;
    memcpy(f->frame + 4, json, len);
    f->len = len + 4;
    f->id = envelope_id(json, len);
    f->user = user;
    f->sends = 0;
    c->count++;

    /* Put it on the wire now if that does not block; answers are read on the way. Whatever
     * goes wrong here is dealt with by the next call, which reconnects and sends it again. */
    if (step(c, 0) != DUDAO_OK)
        drop_connection(c);
    return DUDAO_OK;
}

int dudao_flush(dudao_client *c)
{
    if (!c)
        return DUDAO_ERR_ARG;
    if (c->in_callback)
        return set_err(c, DUDAO_ERR_ARG, "dudao_flush was called from an outcome callback");
    return drive(c, 0);
}

size_t dudao_pending(const dudao_client *c) { return c ? c->count : 0; }

const char *dudao_errmsg(const dudao_client *c) { return c ? c->err : "no client"; }

void dudao_get_stats(const dudao_client *c, dudao_stats *out)
{
    if (c && out)
        *out = c->stats;
}

void dudao_free(dudao_client *c)
{
    if (!c)
        return;
    close_connection(c, 1);
    if (c->queue)
        for (size_t i = 0; i < c->count; i++)
            feed_clear(feed_at(c, i));
    free(c->queue);
    free(c->rbuf);
    SSL_CTX_free(c->ctx);
    BIO_meth_free(c->bio_method);
    free(c->host);
    free(c->server_name);
    free(c);
}

const char *dudao_strerror(int code)
{
    switch (code) {
    case DUDAO_OK: return "ok";
    case DUDAO_ERR_ARG: return "argument";
    case DUDAO_ERR_NOMEM: return "out of memory";
    case DUDAO_ERR_IDENTITY: return "server identity";
    case DUDAO_ERR_CONNECT: return "connection";
    case DUDAO_ERR_PROTOCOL: return "protocol";
    default: return "unknown";
    }
}
