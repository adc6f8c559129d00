/* Tests of node/jsonrpc.c: single and batch calls, notifications, every
 * standard error code, param mapping and type checks, application errors,
 * limits, deep nesting, and the OpenRPC document. */
#include "tests/runner.h"
#include "tests/node/rpc_table.h"
#include "chain/base.h"

/* error.code of a response, 0 when it has a result; -1 when malformed
 * (both or neither of result/error, or jsonrpc missing). */
static int code_of(const json_t *r)
{
    json_t *res = json_object_get(r, "result"), *err = json_object_get(r, "error");
    if (!json_is_object(r) || (res != NULL) == (err != NULL))
        return -1;
    if (!json_is_string(json_object_get(r, "jsonrpc")) || !json_object_get(r, "id"))
        return -1;
    return err ? (int)json_integer_value(json_object_get(err, "code")) : 0;
}

static const char *msg_of(const json_t *r)
{
    return json_string_value(json_object_get(json_object_get(r, "error"), "message"));
}

static const char *data_str(const json_t *r, const char *key)
{
    json_t *d = json_object_get(json_object_get(r, "error"), "data");
    return json_string_value(json_object_get(d, key));
}

/* Calls body and checks the error code; returns the response (caller frees). */
static json_t *expect(const char *body, int code)
{
    json_t *r = test_rpc_call(body, NULL);
    if (code_of(r) != code) {
        char *s = r ? json_dumps(r, JSON_COMPACT) : NULL;
        test_fail_(__FILE__, __LINE__, "%s -> %s (wanted code %d)", body, s ? s : "(none)", code);
        free(s);
        json_decref(r);
        return NULL;
    }
    return r;
}

TEST(node_rpc_call_roundtrip)
{
    json_t *r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":[2,40]}", 0);
    CHECK(r);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "result")), 42);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "id")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(r, "jsonrpc")), "2.0");
    json_decref(r);
    r = expect("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"echo\",\"params\":[\"hi\"]}", 0);
    CHECK(r);
    CHECK_EQ_STR(json_string_value(json_object_get(r, "id")), "abc");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r, "result"), "value")), "hi");
    CHECK(json_is_null(json_object_get(json_object_get(r, "result"), "n")));
    json_decref(r);
    r = expect("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"count\"}", 0);
    CHECK(r);
    CHECK(json_is_null(json_object_get(r, "id")));
    CHECK(json_is_true(json_object_get(r, "result")));
    json_decref(r);
    /* positional null for an optional param counts as absent */
    r = expect("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"echo\",\"params\":[\"x\",null]}", 0);
    CHECK(r);
    json_decref(r);
}

TEST(node_rpc_named_params)
{
    json_t *r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":{\"n\":5,\"value\":\"v\"}}", 0);
    CHECK(r);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r, "result"), "n")), 5);
    json_decref(r);
    r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"kinds\",\"params\":"
               "{\"s\":\"a\",\"i\":1,\"b\":true,\"o\":{},\"a\":[],\"height\":\"0xab\"}}", 0);
    CHECK(r);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "result")), 6);
    json_decref(r);
    r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"kinds\",\"params\":{\"height\":7}}", 0);
    CHECK(r);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "result")), 1);
    json_decref(r);
    r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":{\"value\":\"v\",\"bogus\":1}}", -32602);
    CHECK(r);
    CHECK_EQ_STR(data_str(r, "field"), "bogus");
    CHECK_EQ_STR(msg_of(r), "unknown param \"bogus\" for echo");
    json_decref(r);
}

TEST(node_rpc_batch)
{
    json_t *r = test_rpc_call("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":[1,2]},"
                              "{\"jsonrpc\":\"2.0\",\"method\":\"count\"},"
                              "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nope\"},"
                              "7,"
                              "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"add\",\"params\":[1,\"2\"]}]", NULL);
    CHECK(json_is_array(r));
    CHECK_EQ_INT(json_array_size(r), 4);
    CHECK_EQ_INT(code_of(json_array_get(r, 0)), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(r, 0), "result")), 3);
    CHECK_EQ_INT(code_of(json_array_get(r, 1)), -32601);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(r, 1), "id")), 3);
    CHECK_EQ_INT(code_of(json_array_get(r, 2)), -32600);
    CHECK(json_is_null(json_object_get(json_array_get(r, 2), "id")));
    CHECK_EQ_INT(code_of(json_array_get(r, 3)), -32602);
    json_decref(r);
}

TEST(node_rpc_notifications)
{
    int calls = 0;
    size_t len = 99;
    const char *one = "{\"jsonrpc\":\"2.0\",\"method\":\"count\"}";
    char *out = node_jsonrpc_handle(test_rpc_table, &calls, one, strlen(one), &len);
    CHECK(out == NULL);
    CHECK_EQ_INT(len, 0);
    CHECK_EQ_INT(calls, 1);
    const char *batch = "[{\"jsonrpc\":\"2.0\",\"method\":\"count\"},{\"jsonrpc\":\"2.0\",\"method\":\"count\"},"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"missing\"},"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[\"bad\"]}]";
    out = node_jsonrpc_handle(test_rpc_table, &calls, batch, strlen(batch), &len);
    CHECK(out == NULL);
    CHECK_EQ_INT(len, 0);
    CHECK_EQ_INT(calls, 3);
    /* a notification-shaped but invalid request still gets an answer */
    json_t *r = expect("{\"jsonrpc\":\"1.0\",\"method\":\"count\"}", -32600);
    CHECK(r);
    json_decref(r);
}

TEST(node_rpc_parse_error)
{
    json_t *r = expect("{\"jsonrpc\":\"2.0\",\n \"id\":1,,}", -32700);
    CHECK(r);
    CHECK(json_is_null(json_object_get(r, "id")));
    CHECK(strncmp(msg_of(r), "parse error at line 2, column ", 30) == 0);
    json_decref(r);
    CHECK((r = expect("", -32700)) != NULL);
    json_decref(r);
    CHECK((r = expect("{\"a\":1} x", -32700)) != NULL);
    json_decref(r);
    CHECK((r = expect("\"\xff\xfe\"", -32700)) != NULL);   /* invalid UTF-8 */
    json_decref(r);
    size_t len;
    char *out = node_jsonrpc_handle(test_rpc_table, NULL, "{\"x\0\":1}", 8, &len);
    CHECK(out != NULL);
    CHECK(strstr(out, "-32700") != NULL);
    free(out);
}

TEST(node_rpc_invalid_request)
{
    static const char *const bad[] = {
        "1", "\"x\"", "null", "[]",
        "{\"id\":1,\"method\":\"add\",\"params\":[1,2]}",
        "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"add\"}",
        "{\"jsonrpc\":2.0,\"id\":1,\"method\":\"add\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":\"1,2\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":3}",
    };
    for (size_t i = 0; i < BASED_ARRAY_LEN(bad); i++) {
        json_t *r = expect(bad[i], -32600);
        CHECK(r);
        json_decref(r);
    }
    json_t *r = expect("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":5}", -32600);
    CHECK(r);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "id")), 9);
    CHECK_EQ_STR(data_str(r, "field"), "method");
    json_decref(r);
}

TEST(node_rpc_bad_ids)
{
    static const char *const ids[] = { "{}", "[1]", "1.5", "true", "1e3" };
    for (size_t i = 0; i < BASED_ARRAY_LEN(ids); i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"count\"}", ids[i]);
        json_t *r = expect(body, -32600);
        CHECK(r);
        CHECK(json_is_null(json_object_get(r, "id")));
        CHECK_EQ_STR(data_str(r, "field"), "id");
        json_decref(r);
    }
    json_t *r = expect("{\"jsonrpc\":\"2.0\",\"id\":-9007199254740993,\"method\":\"count\"}", 0);
    CHECK(r);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "id")), -9007199254740993LL);
    json_decref(r);
}

TEST(node_rpc_method_not_found)
{
    json_t *r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"chain_nope\"}", -32601);
    CHECK(r);
    CHECK_EQ_STR(msg_of(r), "method not found: \"chain_nope\"");
    json_decref(r);
    /* jansson refuses \u0000 in strings: a parse error, never a match on "add" */
    CHECK((r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\\u0000x\",\"params\":[1,2]}", -32700)) != NULL);
    json_decref(r);
}

TEST(node_rpc_invalid_params)
{
    json_t *r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":[1]}", -32602);
    CHECK(r);
    CHECK_EQ_STR(msg_of(r), "param \"b\" is required");
    CHECK_EQ_STR(data_str(r, "field"), "b");
    json_decref(r);
    r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":[1,2.5]}", -32602);
    CHECK(r);
    CHECK_EQ_STR(msg_of(r), "param \"b\" must be an integer");
    json_decref(r);
    r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":[1,2,3]}", -32602);
    CHECK(r);
    CHECK_EQ_STR(msg_of(r), "too many params: add takes at most 2, got 3");
    json_decref(r);
    r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\"}", -32602);
    CHECK(r);
    CHECK_EQ_STR(data_str(r, "field"), "a");
    json_decref(r);
    static const char *const wrong[][2] = {
        { "\"s\":1", "param \"s\" must be a string" },
        { "\"i\":\"1\"", "param \"i\" must be an integer" },
        { "\"b\":0", "param \"b\" must be a boolean" },
        { "\"o\":[]", "param \"o\" must be an object" },
        { "\"a\":{}", "param \"a\" must be an array" },
        { "\"height\":1.0", "param \"height\" must be a string or an integer" },
    };
    for (size_t i = 0; i < BASED_ARRAY_LEN(wrong); i++) {
        char body[160];
        snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"kinds\",\"params\":{%s}}", wrong[i][0]);
        r = expect(body, -32602);
        CHECK(r);
        CHECK_EQ_STR(msg_of(r), wrong[i][1]);
        json_decref(r);
    }
    r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"raw\"}", -32602);
    CHECK(r);
    CHECK_EQ_STR(msg_of(r), "height is beyond the head");
    CHECK_EQ_STR(data_str(r, "field"), "height");
    json_decref(r);
}

TEST(node_rpc_app_error)
{
    json_t *r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"fail\",\"params\":[\"bob\"]}",
                       -32000 - BASED_E_NOT_FOUND);
    CHECK(r);
    CHECK_EQ_STR(msg_of(r), "account bob not found");
    CHECK_EQ_STR(data_str(r, "error"), "NOT_FOUND");
    CHECK_EQ_STR(data_str(r, "field"), "address");
    json_decref(r);
}

TEST(node_rpc_internal_error)
{
    json_t *r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nothing\"}", -32603);
    CHECK(r);
    json_decref(r);
}

TEST(node_rpc_batch_limits)
{
    size_t n = 1001, cap = n * 48 + 16, len = 0;
    char *body = malloc(cap);
    CHECK(body);
    body[len++] = '[';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(body + len, cap - len, "%s{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"count\"}",
                                i ? "," : "", i);
    body[len++] = ']';
    body[len] = '\0';
    json_t *r = test_rpc_call(body, NULL);
    CHECK_EQ_INT(code_of(r), -32600);
    json_decref(r);
    /* exactly 1000 is fine: cut the last element */
    char *last = strrchr(body, '{');
    last[-1] = ']';
    last[0] = '\0';
    r = test_rpc_call(body, NULL);
    free(body);
    CHECK(json_is_array(r));
    CHECK_EQ_INT(json_array_size(r), 1000);
    CHECK_EQ_INT(code_of(json_array_get(r, 999)), 0);
    json_decref(r);
}

TEST(node_rpc_deep_nesting)
{
    size_t depth = 200000;
    char *body = malloc(2 * depth + 1);
    CHECK(body);
    memset(body, '[', depth);
    memset(body + depth, ']', depth);
    body[2 * depth] = '\0';
    json_t *r = test_rpc_call(body, NULL);
    CHECK_EQ_INT(code_of(r), -32700);
    json_decref(r);
    memcpy(body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":", 50);
    for (size_t i = 50; i < depth; i++)
        body[i] = '{';
    body[2 * depth - 1] = '}';
    r = test_rpc_call(body, NULL);
    CHECK_EQ_INT(code_of(r), -32700);
    json_decref(r);
    free(body);
}

static json_t *find_by_name(json_t *arr, const char *name)
{
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(arr, i), "name")), name))
            return json_array_get(arr, i);
    return NULL;
}

TEST(node_rpc_openrpc_doc)
{
    json_t *doc = node_rpc_openrpc(test_rpc_table, "based", "9.9");
    CHECK(doc);
    CHECK_EQ_STR(json_string_value(json_object_get(doc, "openrpc")), "1.2.6");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(doc, "info"), "title")), "based");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(doc, "info"), "version")), "9.9");
    json_t *methods = json_object_get(doc, "methods");
    size_t rows = 0;
    for (; test_rpc_table[rows].name; rows++) {
        const node_rpc_method *m = &test_rpc_table[rows];
        json_t *d = find_by_name(methods, m->name);
        CHECK(d);
        CHECK_EQ_STR(json_string_value(json_object_get(d, "summary")), m->summary);
        json_t *ps = json_object_get(d, "params");
        size_t np = 0;
        while (np < NODE_RPC_MAX_PARAMS && m->params[np].name)
            np++;
        CHECK_EQ_INT(json_array_size(ps), np);
        for (size_t i = 0; i < np; i++) {
            json_t *p = json_array_get(ps, i);
            CHECK_EQ_STR(json_string_value(json_object_get(p, "name")), m->params[i].name);
            CHECK_EQ_INT(json_is_true(json_object_get(p, "required")), m->params[i].required);
            CHECK(json_object_get(json_object_get(p, "schema"), "type") != NULL);
        }
        CHECK(json_is_object(json_object_get(json_object_get(d, "result"), "schema")));
    }
    CHECK_EQ_INT(json_array_size(methods), rows + 1);
    CHECK(find_by_name(methods, "rpc.discover"));
    json_t *add = find_by_name(methods, "add");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(
        json_array_get(json_object_get(add, "params"), 0), "schema"), "type")), "integer");
    json_t *errs = json_object_get(find_by_name(methods, "fail"), "errors");
    CHECK_EQ_INT(json_array_size(errs), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(errs, 0), "code")), -32000 - BASED_E_NOT_FOUND);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(errs, 1), "code")), -32000 - BASED_E_BAD_ADDRESS);
    json_decref(doc);
}

TEST(node_rpc_discover_call)
{
    json_t *r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"rpc.discover\"}", 0);
    CHECK(r);
    json_t *res = json_object_get(r, "result");
    CHECK_EQ_STR(json_string_value(json_object_get(res, "openrpc")), "1.2.6");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(res, "info"), "version")), BASED_VERSION);
    CHECK(find_by_name(json_object_get(res, "methods"), "echo"));
    json_decref(r);
    CHECK((r = expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"rpc.discover\",\"params\":[1]}", -32602)) != NULL);
    json_decref(r);
}
