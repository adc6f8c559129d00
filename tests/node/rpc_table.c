/* The method table used by the node tests (see rpc_table.h). */
#include "tests/node/rpc_table.h"
#include "chain/base.h"

static json_t *m_echo(void *ctx, json_t *const *args, node_rpc_error *err)
{
    (void)ctx;
    (void)err;
    return json_pack("{s:O, s:O?}", "value", args[0], "n", args[1]);
}

static json_t *m_add(void *ctx, json_t *const *args, node_rpc_error *err)
{
    (void)ctx;
    (void)err;
    return json_integer(json_integer_value(args[0]) + json_integer_value(args[1]));
}

static json_t *m_kinds(void *ctx, json_t *const *args, node_rpc_error *err)
{
    (void)ctx;
    (void)err;
    int n = 0;
    for (int i = 0; i < 6; i++)
        n += args[i] != NULL;
    return json_integer(n);
}

static json_t *m_fail(void *ctx, json_t *const *args, node_rpc_error *err)
{
    (void)ctx;
    return node_rpc_fail(err, BASED_E_NOT_FOUND, "address", "account %s not found",
                         json_string_value(args[0]));
}

static json_t *m_raw(void *ctx, json_t *const *args, node_rpc_error *err)
{
    (void)ctx;
    (void)args;
    err->code = -32602;
    snprintf(err->field, sizeof err->field, "height");
    snprintf(err->message, sizeof err->message, "height is beyond the head");
    return NULL;
}

static json_t *m_nothing(void *ctx, json_t *const *args, node_rpc_error *err)
{
    (void)ctx;
    (void)args;
    (void)err;
    return NULL;
}

static json_t *m_count(void *ctx, json_t *const *args, node_rpc_error *err)
{
    (void)args;
    (void)err;
    if (ctx)
        (*(int *)ctx)++;
    return json_true();
}

const node_rpc_method test_rpc_table[] = {
    { "echo", "Echoes its params", m_echo,
      { { "value", NODE_RPC_STRING, true, "any string" },
        { "n", NODE_RPC_INTEGER, false, "an optional integer" } },
      "{value, n}", "" },
    { "add", "Adds two integers", m_add,
      { { "a", NODE_RPC_INTEGER, true, "first" }, { "b", NODE_RPC_INTEGER, true, "second" } },
      "a + b", "" },
    { "kinds", "One optional param of each type", m_kinds,
      { { "s", NODE_RPC_STRING, false, NULL }, { "i", NODE_RPC_INTEGER, false, NULL },
        { "b", NODE_RPC_BOOLEAN, false, NULL }, { "o", NODE_RPC_OBJECT, false, NULL },
        { "a", NODE_RPC_ARRAY, false, NULL }, { "height", NODE_RPC_STRING_OR_INTEGER, false, NULL } },
      "how many were given", "" },
    { "fail", "Always fails with NOT_FOUND", m_fail,
      { { "address", NODE_RPC_STRING, true, "an address" } }, "never", "NOT_FOUND, BAD_ADDRESS" },
    { "raw", "Fails with a raw -32602", m_raw, { { NULL, 0, false, NULL } }, "never", "" },
    { "nothing", "Returns nothing", m_nothing, { { NULL, 0, false, NULL } }, "never", "" },
    { "count", "Counts calls", m_count, { { NULL, 0, false, NULL } }, "true", "" },
    { NULL, NULL, NULL, { { NULL, 0, false, NULL } }, NULL, NULL },
};

json_t *test_rpc_call(const char *body, void *ctx)
{
    size_t len = 12345;
    char *out = node_jsonrpc_handle(test_rpc_table, ctx, body, strlen(body), &len);
    if (!out)
        return len == 0 ? NULL : json_string("len not zero");
    json_error_t je;
    json_t *j = json_loadb(out, len, 0, &je);
    if (!j || strlen(out) != len)
        j = json_string("unparseable response");
    free(out);
    return j;
}
