/*
 * rpcclient.c: libcurl JSON-RPC client (contract in rpcclient.h).
 *
 * curl's own error texts never reach the user alone: each transport failure
 * is mapped to a sentence that says what happened at which URL and what to
 * do. The response body is collected into a buffer that refuses to grow
 * past CLI_RPC_RESPONSE_MAX.
 */
#include <curl/curl.h>
#include <sodium.h>
#include <unistd.h>

#include "cli/rpcclient.h"
#include "chain/base.h"

struct cli_rpc {
    CURL *curl;
    char url[1024];
    char cookie_path[4096];   /* "" if none was found */
    char looked[1024];        /* where we looked, when none was found */
    char *userpwd;            /* secure memory, NULL without a cookie */
    long next_id;
    long timeout_ms;          /* whole call; connect at most 5 s of it */
};

typedef struct {
    char *p;
    size_t len, cap;
    bool overflow;
} body_buf;

based_err cli_rpc_find_cookie(const char *flag, char *path, size_t n, char *err)
{
    if (flag && *flag) {
        if (access(flag, R_OK) != 0)
            return cli_fail(err, BASED_E_IO,
                            "cannot read the cookie file %s given with --rpc-cookie", flag);
        snprintf(path, n, "%s", flag);
        return BASED_E_OK;
    }
    char cand[3][4096];
    size_t nc = 0;
    const char *dd = getenv("BASED_DATADIR");
    if (dd && *dd)
        snprintf(cand[nc++], sizeof cand[0], "%s/.cookie", dd);
    if (cli_home_path(".based/dev/.cookie", cand[nc], sizeof cand[0], NULL) == BASED_E_OK)
        nc++;
    if (cli_home_path(".based/.cookie", cand[nc], sizeof cand[0], NULL) == BASED_E_OK)
        nc++;
    for (size_t i = 0; i < nc; i++) {
        if (access(cand[i], R_OK) == 0) {
            snprintf(path, n, "%s", cand[i]);
            return BASED_E_OK;
        }
    }
    char list[1024] = "";
    size_t off = 0;
    for (size_t i = 0; i < nc && off < sizeof list; i++) {
        int w = snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", cand[i]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
    return cli_fail(err, BASED_E_NOT_FOUND, "%s", nc ? list : "(HOME and BASED_DATADIR unset)");
}

static based_err load_cookie(cli_rpc *c, const char *path, char *err)
{
    char *text;
    size_t len;
    based_err rc = cli_read_file(path, CLI_COOKIE_MAX, true, &text, &len, err);
    if (rc != BASED_E_OK)
        return rc;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    if (len == 0 || !memchr(text, ':', len)) {
        sodium_free(text);
        return cli_fail(err, BASED_E_CONFIG,
                        "cookie file %s is malformed (expected \"__cookie__:<hex>\")", path);
    }
    c->userpwd = text;
    snprintf(c->cookie_path, sizeof c->cookie_path, "%s", path);
    return BASED_E_OK;
}

based_err cli_rpc_new(const char *url, const char *cookie_flag, cli_rpc **out, char *err)
{
    *out = NULL;
    static bool curl_ready;
    if (sodium_init() < 0)
        return cli_fail(err, BASED_E_INTERNAL, "cannot initialise libsodium");
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
            return cli_fail(err, BASED_E_INTERNAL, "cannot initialise libcurl");
        curl_ready = true;
    }
    cli_rpc *c = calloc(1, sizeof *c);
    if (!c)
        return cli_fail(err, BASED_E_NOMEM, "out of memory");
    snprintf(c->url, sizeof c->url, "%s", url && *url ? url : CLI_RPC_DEFAULT_URL);
    c->next_id = 1;
    c->timeout_ms = 60000;
    char path[4096];
    based_err rc = cli_rpc_find_cookie(cookie_flag, path, sizeof path, c->looked);
    if (rc == BASED_E_OK)
        rc = load_cookie(c, path, err);
    else if (rc == BASED_E_NOT_FOUND)
        rc = BASED_E_OK;   /* reported only if the node wants one */
    else
        cli_fail(err, rc, "%s", c->looked);
    if (rc == BASED_E_OK && !(c->curl = curl_easy_init()))
        rc = cli_fail(err, BASED_E_INTERNAL, "cannot initialise libcurl");
    if (rc != BASED_E_OK) {
        cli_rpc_free(c);
        return rc;
    }
    *out = c;
    return BASED_E_OK;
}

void cli_rpc_set_timeout(cli_rpc *c, unsigned ms)
{
    c->timeout_ms = ms ? (long)ms : 60000;
}

void cli_rpc_free(cli_rpc *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    if (c->userpwd)
        sodium_free(c->userpwd);
    free(c);
}

const char *cli_rpc_url(const cli_rpc *c)
{
    return c->url;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user)
{
    body_buf *b = user;
    size_t n = size * nmemb;
    if (n > CLI_RPC_RESPONSE_MAX - b->len) {
        b->overflow = true;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->len + n + 1)
            nc *= 2;
        if (nc > CLI_RPC_RESPONSE_MAX + 1)
            nc = CLI_RPC_RESPONSE_MAX + 1;
        char *np = realloc(b->p, nc);
        if (!np)
            return 0;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, ptr, n);
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

void cli_rpc_format_error(const char *message, int code, const char *name,
                          const char *field, char *out, size_t n)
{
    if (name && *name && field && *field)
        snprintf(out, n, "%s (%s, field %s)", message, name, field);
    else if (name && *name)
        snprintf(out, n, "%s (%s)", message, name);
    else if (field && *field)
        snprintf(out, n, "%s (JSON-RPC error %d, field %s)", message, code, field);
    else
        snprintf(out, n, "%s (JSON-RPC error %d)", message, code);
}

static based_err transport_error(cli_rpc *c, CURLcode cc, const body_buf *b,
                                 cli_rpc_error *e)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
        return cli_fail(e->line, BASED_E_UNAVAILABLE,
                        "no node answering at %s (start one with \"make devnet\" or "
                        "\"bin/basedd --dev\")",
                        c->url);
    case CURLE_COULDNT_RESOLVE_HOST:
        return cli_fail(e->line, BASED_E_UNAVAILABLE,
                        "cannot resolve the host of %s; check the --rpc URL", c->url);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return cli_fail(e->line, BASED_E_CONFIG,
                        "bad RPC URL \"%s\"; use e.g. --rpc http://127.0.0.1:9933/", c->url);
    case CURLE_WRITE_ERROR:
        if (b->overflow)
            return cli_fail(e->line, BASED_E_TOO_LARGE,
                            "the node at %s sent a response over %u MiB; refused", c->url,
                            CLI_RPC_RESPONSE_MAX >> 20);
        return cli_fail(e->line, BASED_E_NOMEM, "out of memory reading the node's response");
    default:
        return cli_fail(e->line, BASED_E_NET,
                        "the request to %s failed (%s); check that a based node is "
                        "listening there",
                        c->url, curl_easy_strerror(cc));
    }
}

static based_err http_status_error(cli_rpc *c, long status, cli_rpc_error *e)
{
    if (status == 401 && c->userpwd)
        return cli_fail(e->line, BASED_E_UNAUTHORIZED,
                        "the node at %s rejected the cookie from %s (wrong or stale: is it "
                        "that node's DATADIR/.cookie? pass the right one with --rpc-cookie)",
                        c->url, c->cookie_path);
    if (status == 401)
        return cli_fail(e->line, BASED_E_UNAUTHORIZED,
                        "the node at %s needs its cookie and none was found (looked in %s); "
                        "pass --rpc-cookie DATADIR/.cookie",
                        c->url, c->looked);
    if (status == 413)
        return cli_fail(e->line, BASED_E_TOO_LARGE,
                        "the node at %s refused the request as too large (HTTP 413)", c->url);
    return cli_fail(e->line, BASED_E_NET,
                    "the node at %s answered HTTP %ld; is --rpc the URL of a based node?",
                    c->url, status);
}

/* Interprets a 200 response body. */
static based_err parse_response(cli_rpc *c, const body_buf *b, json_t **result,
                                cli_rpc_error *e)
{
    json_error_t je;
    json_t *doc = b->len ? json_loadb(b->p, b->len, 0, &je) : NULL;
    if (!json_is_object(doc)) {
        json_decref(doc);
        return cli_fail(e->line, BASED_E_DECODE,
                        "the node at %s sent a response that is not a JSON-RPC object", c->url);
    }
    json_t *err = json_object_get(doc, "error");
    json_t *res = json_object_get(doc, "result");
    based_err rc = BASED_E_OK;
    if (json_is_object(err)) {
        json_t *code = json_object_get(err, "code"), *msg = json_object_get(err, "message");
        json_t *data = json_object_get(err, "data");
        const char *name = json_string_value(json_object_get(data, "error"));
        const char *field = json_string_value(json_object_get(data, "field"));
        e->code = json_is_integer(code) ? (int)json_integer_value(code) : 0;
        snprintf(e->name, sizeof e->name, "%s", name ? name : "");
        snprintf(e->field, sizeof e->field, "%s", field ? field : "");
        cli_rpc_format_error(json_is_string(msg) ? json_string_value(msg) : "error",
                             e->code, e->name, e->field, e->line, sizeof e->line);
        rc = BASED_E_INTERNAL;
        for (int i = 1; i < BASED_E__COUNT; i++)
            if (name && strcmp(based_errname((based_err)i), name) == 0)
                rc = (based_err)i;
    } else if (!res) {
        rc = cli_fail(e->line, BASED_E_DECODE,
                      "the node at %s sent a JSON-RPC response with neither result nor error",
                      c->url);
    } else {
        *result = json_incref(res);
    }
    json_decref(doc);
    return rc;
}

based_err cli_rpc_call(cli_rpc *c, const char *method, json_t *params, json_t **result,
                       cli_rpc_error *e)
{
    memset(e, 0, sizeof *e);
    *result = NULL;
    json_t *req = json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id",
                            (json_int_t)c->next_id++, "method", method);
    if (req && params)
        json_object_set(req, "params", params);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body)
        return cli_fail(e->line, BASED_E_NOMEM, "out of memory building the request");

    body_buf b = { 0 };
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    CURL *h = c->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms < 5000 ? c->timeout_ms : 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (c->userpwd) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERPWD, c->userpwd);
    }
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    free(body);

    based_err rc;
    if (cc != CURLE_OK)
        rc = transport_error(c, cc, &b, e);
    else if (status != 200)
        rc = http_status_error(c, status, e);
    else
        rc = parse_response(c, &b, result, e);
    free(b.p);
    return rc;
}
