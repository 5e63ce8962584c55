/*
 * Unit tests of dudao.c's internals: the JSON reader, the envelope id, the backoff.
 * dudao.c is included so its static functions can be called. Run by `make test` and,
 * under valgrind, by `make valgrind`.
 */
#include "dudao.c"

static int failures, checks;

#define CHECK(cond, what)                                                                                        \
    do {                                                                                                         \
        checks++;                                                                                                \
        if (!(cond)) {                                                                                           \
            failures++;                                                                                          \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, what);                                      \
        }                                                                                                        \
    } while (0)

static int eq(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* Parses s as a reply; 0 if it parsed. The fields are left in *r (reply_free them). */
static int reply(const char *s, struct reply *r) { return parse_reply(s, strlen(s), r); }

static void ok_reply(const char *s, const char *kind, const char *id, const char *status, const char *code,
                     const char *message, const char *path)
{
    struct reply r;
    int rc = reply(s, &r);
    CHECK(rc == 0, s);
    CHECK(eq(r.kind, kind) && eq(r.id, id) && eq(r.status, status), s);
    CHECK(eq(r.code, code) && eq(r.message, message) && eq(r.path, path), s);
    reply_free(&r);
}

static void bad_reply(const char *s, size_t n)
{
    struct reply r;
    CHECK(parse_reply(s, n, &r) != 0, s);
    reply_free(&r);
}

static void bad(const char *s) { bad_reply(s, strlen(s)); }

/* {"a":[[...[{}]...]]} with `levels` containers in all; parse_reply's result. */
static int nested(int levels)
{
    char buf[512];
    size_t n = 0;
    struct reply r;
    n += (size_t)snprintf(buf, sizeof buf, "{\"a\":");
    for (int i = 0; i < levels - 2; i++)
        buf[n++] = '[';
    buf[n++] = '{', buf[n++] = '}';
    for (int i = 0; i < levels - 2; i++)
        buf[n++] = ']';
    buf[n++] = '}';
    int rc = parse_reply(buf, n, &r);
    reply_free(&r);
    return rc;
}

int main(void)
{
    /* Replies as dudao-ingest sends them. */
    ok_reply("{\"v\":1,\"kind\":\"ack\",\"id\":\"kg-1\",\"status\":\"accepted\"}", "ack", "kg-1", "accepted", NULL,
             NULL, NULL);
    ok_reply("{\"v\":1,\"kind\":\"nack\",\"id\":\"x2\",\"error\":{\"code\":\"invalid_field\",\"message\":"
             "\"body.classes[0].children must be an integer from 0 to 200, got 500\","
             "\"path\":\"body.classes[0].children\"}}",
             "nack", "x2", NULL, "invalid_field", "body.classes[0].children must be an integer from 0 to 200, got 500",
             "body.classes[0].children");
    ok_reply("{\"v\":1,\"kind\":\"nack\",\"id\":null,\"error\":{\"code\":\"malformed_json\",\"message\":\"m\"}}",
             "nack", NULL, NULL, "malformed_json", "m", NULL);
    ok_reply("{\"v\":1,\"kind\":\"error\",\"error\":{\"code\":\"frame_too_large\",\"message\":\"...\"}}", "error",
             NULL, NULL, "frame_too_large", "...", NULL);
    /* Whitespace, member order, unknown members of every JSON type, nested look-alikes. */
    ok_reply(" \r\n\t{ \"status\" : \"stale\" , \"x\" : [1, -2.5e+3, 0.0, true, false, null, {\"a\":[]}, \"s\"],"
             " \"body\": {\"error\": {\"code\": \"nested\"}, \"kind\": \"nested\"}, \"id\" : \"a\","
             " \"kind\" : \"ack\" } \n",
             "ack", "a", "stale", NULL, NULL, NULL);
    /* Escapes, raw UTF-8 and surrogate pairs. */
    ok_reply("{\"kind\":\"nack\",\"error\":{\"message\":\"\\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9 \\u6d4b "
             "\\ud83d\\ude00 \xe6\xb5\x8b\"}}",
             "nack", NULL, NULL, NULL, "\"q\" \\ / \b\f\n\r\t \xc3\xa9 \xe6\xb5\x8b \xf0\x9f\x98\x80 \xe6\xb5\x8b",
             NULL);
    /* A member twice: the last one counts; a wanted member that is not a string is NULL. */
    ok_reply("{\"kind\":\"nack\",\"kind\":\"ack\",\"id\":\"a\",\"id\":7,\"status\":{\"x\":1}}", "ack", NULL, NULL,
             NULL, NULL, NULL);
    ok_reply("{\"error\":\"not an object\",\"kind\":\"nack\"}", "nack", NULL, NULL, NULL, NULL, NULL);
    ok_reply("{}", NULL, NULL, NULL, NULL, NULL, NULL);
    /* \u0000 is fine where nothing is kept, refused where a C string would be made. */
    ok_reply("{\"kind\":\"ack\",\"other\":\"a\\u0000b\"}", "ack", NULL, NULL, NULL, NULL, NULL);
    bad("{\"kind\":\"a\\u0000b\"}");

    /* Not one JSON object. */
    bad("");
    bad("   ");
    bad("[]");
    bad("\"s\"");
    bad("null");
    bad("{");
    bad("{\"kind\":\"ack\"");
    bad("{\"kind\":\"ack\",}");
    bad("{\"kind\" \"ack\"}");
    bad("{kind:\"ack\"}");
    bad("{\"kind\":\"ack\"} x");
    bad("{\"kind\":\"ack\"}{}");
    bad("{\"a\":[1,]}");
    bad("{\"a\":[1 2]}");
    bad("{\"a\":tru}");
    bad("{\"a\":nul}");
    bad("{\"a\":True}");
    /* Numbers. */
    bad("{\"a\":01}");
    bad("{\"a\":1.}");
    bad("{\"a\":.5}");
    bad("{\"a\":-}");
    bad("{\"a\":1e}");
    bad("{\"a\":1e+}");
    bad("{\"a\":+1}");
    bad("{\"a\":0x10}");
    bad("{\"a\":NaN}");
    ok_reply("{\"a\":-0.5E-7,\"b\":0,\"c\":123456789012345678901234567890}", NULL, NULL, NULL, NULL, NULL, NULL);
    /* Strings. */
    bad("{\"a\":\"unterminated}");
    bad("{\"a\":\"tab\there\"}");
    bad("{\"a\":\"\\x\"}");
    bad("{\"a\":\"\\u12\"}");
    bad("{\"a\":\"\\u12g4\"}");
    bad("{\"a\":\"\\ud83d\"}");         /* lone high surrogate */
    bad("{\"a\":\"\\ude00\"}");         /* lone low surrogate */
    bad("{\"a\":\"\\ud83d\\u0041\"}");  /* high surrogate, then not a low one */
    bad("{\"a\":\"\\\"}");
    bad("{\"a\":\"\xc0\x80\"}");        /* overlong NUL */
    bad("{\"a\":\"\xe0\x80\xaf\"}");    /* overlong '/' */
    bad("{\"a\":\"\xed\xa0\x80\"}");    /* UTF-8 encoded surrogate */
    bad("{\"a\":\"\xf4\x90\x80\x80\"}"); /* above U+10FFFF */
    bad("{\"a\":\"\xf5\x80\x80\x80\"}");
    bad("{\"a\":\"\xe6\xb5\"}");        /* truncated sequence */
    bad("{\"a\":\"\x80\"}");            /* stray continuation byte */
    bad_reply("{\"a\":\"x\0y\"}", 11);  /* a raw NUL byte */
    bad_reply("{\"a\":1}\0", 8);

    /* Nesting: 64 levels are read, 65 are not. */
    CHECK(nested(64) == 0, "64 levels of nesting are read");
    CHECK(nested(65) != 0, "65 levels of nesting are refused");

    /* The id of an envelope, as dudao_send reads it. */
    {
        const char *env = "{\"v\":1,\"kind\":\"feed\",\"id\":\"kg-census-2025-0001\",\"type\":\"preschool.census\","
                          "\"body\":{\"id\":\"inner\",\"classes\":[{\"id\":\"c\"}]}}";
        char *id = envelope_id(env, strlen(env));
        CHECK(eq(id, "kg-census-2025-0001"), "envelope id is the top-level one");
        free(id);
        id = envelope_id("{\"id\":\"a\"", 9);
        CHECK(id == NULL, "no id from broken JSON");
        free(id);
        id = envelope_id("{\"id\":12}", 9);
        CHECK(id == NULL, "no id when it is not a string");
        id = envelope_id("{\"v\":1}", 7);
        CHECK(id == NULL, "no id when there is none");
    }

    /* Backoff: doubles from the initial wait, capped, jittered down to half at most. */
    {
        dudao_client c;
        memset(&c, 0, sizeof c);
        c.o.backoff_initial_ms = 100;
        c.o.backoff_max_ms = 5000;
        int ok = 1;
        for (unsigned f = 1; f <= 40; f++) {
            c.failures = f;
            unsigned full = f >= 7 ? 5000 : 100u << (f - 1);
            for (int k = 0; k < 50; k++) {
                unsigned d = backoff_ms(&c);
                if (d < full / 2 || d > full)
                    ok = 0;
            }
        }
        CHECK(ok, "backoff within [d/2, d], d = 100 ms doubling up to 5000 ms");
    }

    /* Options checked before anything is loaded. */
    {
        char err[256] = "";
        dudao_options o;
        memset(&o, 0, sizeof o);
        CHECK(dudao_new(&o, err, sizeof err) == NULL && strstr(err, "required"), "required options");
        o.host = "127.0.0.1", o.server_name = "dudao-ingest";
        o.ca_file = "/nonexistent/ca.pem", o.cert_file = "/nonexistent/c.pem", o.key_file = "/nonexistent/c.key";
        CHECK(dudao_new(&o, err, sizeof err) == NULL && strstr(err, "CA file"), "a missing CA file is reported");
        o.port = 70000;
        CHECK(dudao_new(&o, err, sizeof err) == NULL && strstr(err, "port"), "a port out of range");
        CHECK(strcmp(dudao_strerror(DUDAO_ERR_IDENTITY), "server identity") == 0, "dudao_strerror");
    }

    printf("test_json: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
