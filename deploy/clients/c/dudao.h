/*
 * dudao.h - C client for sending feeds to dudao-ingest (SPEC sections 2 and 3).
 *
 * One dudao_client is one sender: a mutual-TLS connection (TLS 1.2+) to dudao-ingest,
 * a window of at most `window` feeds sent and not yet answered, and the feeds' outcomes
 * handed to a callback in the order they were sent. When the connection is lost the
 * client reconnects with backoff and sends every unanswered feed again, unchanged: the
 * ingest answers a feed it already stored `duplicate`, so nothing is stored twice.
 *
 * The library has no global state and uses no threads; a client must be used by one
 * thread at a time. The callback runs inside dudao_send / dudao_flush and must not call
 * back into the same client.
 *
 *     dudao_options o = {0};
 *     o.host = "127.0.0.1"; o.port = 7401; o.server_name = "dudao-ingest";
 *     o.ca_file = "ca.pem"; o.cert_file = "town-dongcheng.pem"; o.key_file = "town-dongcheng.key";
 *     o.on_outcome = print_outcome;
 *     dudao_client *c = dudao_new(&o, err, sizeof err);
 *     dudao_send(c, json, strlen(json), NULL);   (as many as needed)
 *     dudao_flush(c);                            (every feed answered, or an error)
 *     dudao_free(c);
 */
#ifndef DUDAO_H
#define DUDAO_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes: DUDAO_OK or one of the negative values. */
enum {
    DUDAO_OK = 0,
    DUDAO_ERR_ARG = -1,      /* bad option or argument; a frame that is empty or above max_frame_bytes */
    DUDAO_ERR_NOMEM = -2,    /* out of memory */
    DUDAO_ERR_IDENTITY = -3, /* the server's certificate is not signed by the CA or is not server_name:
                                nothing was sent; not retried */
    DUDAO_ERR_CONNECT = -4,  /* gave up after max_attempts connections without a reply */
    DUDAO_ERR_PROTOCOL = -5  /* the server broke the protocol (an unparsable or unexpected reply) */
};

/* What happened to one feed. */
typedef enum {
    DUDAO_ACCEPTED,  /* ack "accepted": durably stored */
    DUDAO_DUPLICATE, /* ack "duplicate": this id was stored before (e.g. a re-send after a reconnect) */
    DUDAO_STALE,     /* ack "stale": valid, but older than the stored record; changed nothing */
    DUDAO_NACK       /* nack: refused, changed nothing; see code, message, path */
} dudao_status;

typedef struct {
    const char *id;      /* the envelope's "id" (NULL if the frame had no usable id) */
    dudao_status status;
    const char *code;    /* nack only: error.code, e.g. "invalid_field"; else NULL */
    const char *message; /* nack only: error.message, a sentence for a person; else NULL */
    const char *message_zh; /* nack only: error.message_zh, the same in Chinese ("" if absent); else NULL */
    const char *path;    /* nack only, may be NULL: e.g. "body.classes[0].children" */
    void *user;          /* the pointer given to dudao_send with this feed */
    unsigned sends;      /* connections this feed was written to (1 unless re-sent) */
} dudao_outcome;

/* Called once per feed, in send order. The strings live until the callback returns. */
typedef void (*dudao_outcome_fn)(const dudao_outcome *outcome, void *ctx);
/* Connection events (connected, lost, reconnecting), as one line without newline. */
typedef void (*dudao_log_fn)(const char *message, void *ctx);

/* Zero-initialise, then set what you need; 0 / NULL means the default in brackets. */
typedef struct {
    const char *host;            /* name or address of dudao-ingest (required) */
    int port;                    /* [7401] */
    const char *server_name;     /* the identity the server's certificate must carry as subject CN
                                    or DNS SAN, also sent as SNI (required), e.g. "dudao-ingest".
                                    Not "localhost": every Dudao certificate lists localhost. */
    const char *ca_file;         /* PEM CA that signs the server (required; no system CAs used) */
    const char *cert_file;       /* PEM client certificate (chain) naming the integrator (required) */
    const char *key_file;        /* PEM private key of cert_file (required) */
    unsigned window;             /* feeds sent and not yet answered, at most [32] */
    unsigned max_frame_bytes;    /* largest feed accepted by dudao_send [1048576] */
    unsigned timeout_ms;         /* connect + handshake, and waiting for a reply [30000] */
    unsigned max_attempts;       /* consecutive connections that fail or bring no reply
                                    before dudao_send / dudao_flush give up [10] */
    unsigned backoff_initial_ms; /* first wait before reconnecting, doubled each time [100] */
    unsigned backoff_max_ms;     /* longest wait [5000] (each wait is jittered down to half) */
    dudao_outcome_fn on_outcome; /* optional */
    dudao_log_fn on_log;         /* optional */
    void *ctx;                   /* passed to both callbacks */
} dudao_options;

typedef struct {
    unsigned long connections; /* successful handshakes */
    unsigned long frames_sent; /* frames written, re-sends included */
    unsigned long resent;      /* frames written again after a reconnect */
    unsigned long answered;    /* outcomes delivered */
} dudao_stats;

typedef struct dudao_client dudao_client;

/* Checks the options and loads CA, certificate and key (unreadable, or a key that does not
 * match: NULL with the reason in err); does not connect yet. The option strings may be
 * freed afterwards. */
dudao_client *dudao_new(const dudao_options *options, char *err, size_t err_size);

/* Connects now (dudao_send connects on demand anyway); reports a wrong server early. */
int dudao_connect(dudao_client *c);

/* Queues one feed: `json` is the complete envelope, {"v":1,"kind":"feed","id":...}, UTF-8,
 * copied by the library (the id is read from it, to match the answer). Connects if need be
 * and blocks (reading replies, delivering outcomes) while the window is full.
 * DUDAO_OK: queued, its outcome will come. An error: not queued (nothing was lost; feeds
 * queued before stay queued, and a later dudao_send or dudao_flush tries again). */
int dudao_send(dudao_client *c, const char *json, size_t len, void *user);

/* Sends everything queued and waits until every feed has its outcome. */
int dudao_flush(dudao_client *c);

/* Feeds queued and not yet answered. */
size_t dudao_pending(const dudao_client *c);

/* A sentence about the last error returned by this client. */
const char *dudao_errmsg(const dudao_client *c);

void dudao_get_stats(const dudao_client *c, dudao_stats *out);

/* Closes the connection and frees everything; feeds not yet answered are dropped without
 * an outcome (send them again later with the same ids: the ingest answers `duplicate`). */
void dudao_free(dudao_client *c);

/* The name of a DUDAO_* return code, e.g. "identity". */
const char *dudao_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif /* DUDAO_H */
