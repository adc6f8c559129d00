/*
 * rpcdoc.c: docs/rpc.md generated from the method table, so the reference
 * can never drift from what rpc.discover serves (a test compares them).
 */
#include "node/node.h"
#include "node/rpcdoc.h"

static const char *type_name(node_rpc_type t)
{
    switch (t) {
    case NODE_RPC_STRING: return "string";
    case NODE_RPC_INTEGER: return "integer";
    case NODE_RPC_BOOLEAN: return "boolean";
    case NODE_RPC_OBJECT: return "object";
    case NODE_RPC_ARRAY: return "array";
    case NODE_RPC_STRING_OR_INTEGER: return "string or integer";
    }
    return "?";
}

static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        size_t nc = *cap * 2 + (size_t)n;
        char *nb = realloc(*buf, nc);
        if (!nb)
            return;
        *buf = nb;
        *cap = nc;
    }
}

char *node_rpc_markdown(const node_rpc_method *table)
{
    size_t len = 0, cap = 8192;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    b[0] = '\0';
    put(&b, &len, &cap,
        "# JSON-RPC reference\n\n"
        "<!-- Generated from the method table in node/methods.c by node/rpcdoc.c;\n"
        "     a test fails when this file differs. Regenerate: make rpc-doc -->\n\n"
        "JSON-RPC 2.0 over HTTP POST to the RPC address (default `http://127.0.0.1:9933/`),\n"
        "single or batch requests (at most 1000 per batch), HTTP Basic authentication with\n"
        "the cookie in `DATADIR/.cookie` (`curl -u \"$(cat ~/.based/dev/.cookie)\"`).\n"
        "Bodies over 1 MiB get HTTP 413; a missing or wrong cookie gets 401.\n"
        "`GET /health` needs no authentication. `rpc.discover` returns this list as an\n"
        "OpenRPC document.\n\n"
        "Params may be given by position (an array) or by name (an object).\n"
        "Amounts are decimal strings with up to 9 decimals (`\"12.5\"`), with the\n"
        "base-unit integer alongside as a string (`\"12500000000\"`); never JSON numbers.\n"
        "Addresses are SS58 (network prefix 32323) or `0x` + 64 hex account ids.\n\n"
        "## Methods\n\n");
    for (const node_rpc_method *m = table; m->name; m++) {
        put(&b, &len, &cap, "### `%s`\n\n%s.\n\n", m->name, m->summary);
        if (!m->params[0].name) {
            put(&b, &len, &cap, "Params: none.\n\n");
        } else {
            put(&b, &len, &cap, "| param | type | required | meaning |\n| --- | --- | --- | --- |\n");
            for (int i = 0; i < NODE_RPC_MAX_PARAMS && m->params[i].name; i++)
                put(&b, &len, &cap, "| `%s` | %s | %s | %s |\n", m->params[i].name,
                    type_name(m->params[i].type), m->params[i].required ? "yes" : "no",
                    m->params[i].summary);
            put(&b, &len, &cap, "\n");
        }
        put(&b, &len, &cap, "Result: %s.\n\n", m->result);
        if (m->errors && m->errors[0])
            put(&b, &len, &cap, "Errors: %s.\n\n", m->errors);
    }
    put(&b, &len, &cap,
        "### `rpc.discover`\n\nThe OpenRPC document describing every method above.\n\n"
        "Params: none.\n\nResult: object (OpenRPC 1.2.6).\n\n"
        "## Errors\n\n"
        "Standard JSON-RPC codes: -32700 parse error (with line and column), -32600 invalid\n"
        "request, -32601 method not found, -32602 invalid params (`data.field` names the\n"
        "param), -32603 internal error.\n\n"
        "Application errors have code -32000 - N, the message names the problem, and\n"
        "`data` is `{\"error\": NAME, \"field\": FIELD}`:\n\n"
        "| code | name | meaning |\n| --- | --- | --- |\n");
    for (int e = 1; e < BASED_E__COUNT; e++)
        put(&b, &len, &cap, "| %d | `%s` | %s |\n", -32000 - e, based_errname((based_err)e),
            based_strerror((based_err)e));
    return b;
}
