/*
 * fuzz/jsonrpc.c: libFuzzer harness for JSON-RPC request handling. Each
 * input is one HTTP body given to node_jsonrpc_handle() with a small table
 * that covers every param type, an application error, a raw error, a
 * handler returning nothing, and rpc.discover. The response, when there is
 * one, must be valid JSON holding exactly one of result/error per element.
 */
#include <jansson.h>

#include "node/rpc.h"
#include "chain/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *f_echo(void *ctx, json_t *const *args, node_rpc_error *err)
{
    (void)ctx;
    (void)err;
    return json_pack("[O?,O?,O?]", args[0], args[1], args[2]);
}

static json_t *f_fail(void *ctx, json_t *const *args, node_rpc_error *err)
{
    (void)ctx;
    const char *s = json_string_value(args[0]);
    return node_rpc_fail(err, BASED_E_BAD_ADDRESS, "address", "bad address %s", s ? s : "");
}

static json_t *f_raw(void *ctx, json_t *const *args, node_rpc_error *err)
{
    (void)ctx;
    (void)args;
    err->code = -32602;
    memset(err->field, 'f', sizeof err->field);       /* unterminated on purpose */
    memset(err->message, 0xff, sizeof err->message);  /* invalid UTF-8 on purpose */
    return NULL;
}

static json_t *f_nothing(void *ctx, json_t *const *args, node_rpc_error *err)
{
    (void)ctx;
    (void)args;
    (void)err;
    return NULL;
}

static const node_rpc_method table[] = {
    { "echo", "echo", f_echo,
      { { "s", NODE_RPC_STRING, true, "" }, { "i", NODE_RPC_INTEGER, false, "" },
        { "x", NODE_RPC_STRING_OR_INTEGER, false, "" } }, "", "" },
    { "types", "types", f_echo,
      { { "b", NODE_RPC_BOOLEAN, false, "" }, { "o", NODE_RPC_OBJECT, false, "" },
        { "a", NODE_RPC_ARRAY, false, "" } }, "", "" },
    { "fail", "fail", f_fail, { { "address", NODE_RPC_STRING, false, "" } }, "", "BAD_ADDRESS" },
    { "raw", "raw", f_raw, { { NULL, 0, false, NULL } }, "", "" },
    { "nothing", "nothing", f_nothing, { { NULL, 0, false, NULL } }, "", "" },
    { NULL, NULL, NULL, { { NULL, 0, false, NULL } }, NULL, NULL },
};

static void check_one(const json_t *r)
{
    if (!json_is_object(r))
        __builtin_trap();
    bool res = json_object_get(r, "result") != NULL, err = json_object_get(r, "error") != NULL;
    if (res == err || !json_object_get(r, "id"))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = 0;
    char *out = node_jsonrpc_handle(table, NULL, (const char *)data, size, &len);
    if (!out) {
        if (len != 0)
            __builtin_trap();
        return 0;
    }
    json_error_t je;
    json_t *j = json_loadb(out, len, 0, &je);
    if (!j)
        __builtin_trap();
    if (json_is_array(j)) {
        if (json_array_size(j) == 0)
            __builtin_trap();
        for (size_t i = 0; i < json_array_size(j); i++)
            check_one(json_array_get(j, i));
    } else {
        check_one(j);
    }
    json_decref(j);
    free(out);
    return 0;
}
