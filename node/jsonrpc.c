/*
 * jsonrpc.c: the JSON-RPC 2.0 dispatcher and the OpenRPC document (see
 * rpc.h for the contract).
 *
 * One HTTP body is parsed with jansson (which caps nesting at
 * JSON_PARSER_MAX_DEPTH, so deep input is a parse error, not a stack
 * overflow). A single request gives one response object, a batch (1 to
 * 1000 elements) an array with one element per request that is not a
 * notification. Structural checks (object, "jsonrpc":"2.0", string method,
 * structured params, id a string, an integer or null) always get a response,
 * with id null when the id itself is unusable; a well-formed notification
 * (no "id") never does, whatever its outcome. Params are mapped onto the
 * method row and type-checked before the handler runs. Every response holds
 * exactly one of "result" and "error".
 *
 * Strings put into responses must be valid UTF-8 for jansson; messages that
 * may carry input bytes go through safe_string().
 */
#include <jansson.h>

#include "node/rpc.h"
#include "chain/base.h"

#define BATCH_MAX 1000
#define RPC_PARSE_ERROR (-32700)
#define RPC_INVALID_REQUEST (-32600)
#define RPC_METHOD_NOT_FOUND (-32601)
#define RPC_INVALID_PARAMS (-32602)
#define RPC_INTERNAL (-32603)
#define RPC_APP_BASE (-32000)
#define DISCOVER "rpc.discover"

json_t *node_rpc_fail(node_rpc_error *e, based_err err, const char *field,
                      const char *fmt, ...)
{
    va_list ap;
    if (!e)
        return NULL;
    e->err = err;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return NULL;
}

/* A JSON string of s; invalid UTF-8 (a cut sequence, raw input bytes) is
 * replaced byte by byte with '?'. Never NULL unless out of memory. */
static json_t *safe_string(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char buf[512];
    size_t n = 0;
    for (; s[n] && n < sizeof buf - 1; n++)
        buf[n] = (unsigned char)s[n] < 0x80 ? s[n] : '?';
    buf[n] = '\0';
    return json_string(buf);
}

static json_t *error_object(int code, const char *msg, json_t *data)
{
    json_t *e = json_object();
    json_object_set_new(e, "code", json_integer(code));
    json_object_set_new(e, "message", safe_string(msg));
    if (data)
        json_object_set_new(e, "data", data);
    return e;
}

static json_t *response_new(json_t *id)
{
    json_t *r = json_object();
    json_object_set_new(r, "jsonrpc", json_string("2.0"));
    json_object_set(r, "id", id ? id : json_null());
    return r;
}

static json_t *response_error(json_t *id, int code, const char *msg, json_t *data)
{
    json_t *r = response_new(id);
    json_object_set_new(r, "error", error_object(code, msg, data));
    return r;
}

static json_t *field_data(const char *field)
{
    return field && field[0] ? json_pack("{s:o}", "field", safe_string(field)) : NULL;
}

/* The response for a handler or mapping failure described by e. */
static json_t *response_from_error(json_t *id, node_rpc_error *e)
{
    e->field[sizeof e->field - 1] = '\0';
    e->message[sizeof e->message - 1] = '\0';
    if (e->code != 0)
        return response_error(id, e->code, e->message[0] ? e->message : "error",
                              field_data(e->field));
    if (e->err > BASED_E_OK && e->err < BASED_E__COUNT && e->err < 100) {
        json_t *data = json_pack("{s:s}", "error", based_errname(e->err));
        if (e->field[0])
            json_object_set_new(data, "field", safe_string(e->field));
        return response_error(id, RPC_APP_BASE - (int)e->err,
                              e->message[0] ? e->message : based_strerror(e->err), data);
    }
    return response_error(id, RPC_INTERNAL, "internal error: the method returned no result", NULL);
}

static json_t *invalid_params(json_t *id, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_t *invalid_params(json_t *id, const char *field, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return response_error(id, RPC_INVALID_PARAMS, msg, field_data(field));
}

/* ---- params ------------------------------------------------------------ */

static const struct {
    const char *phrase;       /* for messages: must be ... */
    const char *schema;       /* JSON Schema type; NULL: string or integer */
} type_info[] = {
    [NODE_RPC_STRING] = { "a string", "string" },
    [NODE_RPC_INTEGER] = { "an integer", "integer" },
    [NODE_RPC_BOOLEAN] = { "a boolean", "boolean" },
    [NODE_RPC_OBJECT] = { "an object", "object" },
    [NODE_RPC_ARRAY] = { "an array", "array" },
    [NODE_RPC_STRING_OR_INTEGER] = { "a string or an integer", NULL },
};

static bool type_valid(node_rpc_type t)
{
    return (size_t)t < BASED_ARRAY_LEN(type_info) && type_info[t].phrase;
}

static bool type_matches(node_rpc_type t, const json_t *v)
{
    switch (t) {
    case NODE_RPC_STRING: return json_is_string(v);
    case NODE_RPC_INTEGER: return json_is_integer(v);
    case NODE_RPC_BOOLEAN: return json_is_boolean(v);
    case NODE_RPC_OBJECT: return json_is_object(v);
    case NODE_RPC_ARRAY: return json_is_array(v);
    case NODE_RPC_STRING_OR_INTEGER: return json_is_string(v) || json_is_integer(v);
    }
    return false;
}

static size_t param_count(const node_rpc_method *m)
{
    size_t n = 0;
    while (n < NODE_RPC_MAX_PARAMS && m->params[n].name)
        n++;
    return n;
}

/* Checks args[] (NULL = absent; JSON null counts as absent) against the
 * row; returns an error response or NULL when every argument is fine. */
static json_t *check_args(const node_rpc_method *m, size_t n, json_t **args, json_t *id)
{
    for (size_t i = 0; i < n; i++) {
        const node_rpc_param *p = &m->params[i];
        if (json_is_null(args[i]))
            args[i] = NULL;
        if (!args[i]) {
            if (p->required)
                return invalid_params(id, p->name, "param \"%s\" is required", p->name);
            continue;
        }
        if (!type_valid(p->type))
            return response_error(id, RPC_INTERNAL, "internal error: bad param type in method table", NULL);
        if (!type_matches(p->type, args[i]))
            return invalid_params(id, p->name, "param \"%s\" must be %s", p->name,
                                  type_info[p->type].phrase);
    }
    return NULL;
}

static json_t *map_positional(const node_rpc_method *m, size_t n, json_t *arr,
                              json_t **args, json_t *id)
{
    size_t given = json_array_size(arr);
    if (given > n)
        return invalid_params(id, NULL, "too many params: %s takes at most %zu, got %zu",
                              m->name, n, given);
    for (size_t i = 0; i < given; i++)
        args[i] = json_array_get(arr, i);
    return NULL;
}

static json_t *map_named(const node_rpc_method *m, size_t n, json_t *obj,
                         json_t **args, json_t *id)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        size_t i = 0;
        while (i < n && strcmp(m->params[i].name, key) != 0)
            i++;
        if (i == n)
            return invalid_params(id, key, "unknown param \"%.64s\" for %s", key, m->name);
        args[i] = v;
    }
    return NULL;
}

static json_t *map_params(const node_rpc_method *m, json_t *params, json_t **args, json_t *id)
{
    size_t n = param_count(m);
    json_t *err = NULL;
    if (json_is_array(params))
        err = map_positional(m, n, params, args, id);
    else if (json_is_object(params))
        err = map_named(m, n, params, args, id);
    return err ? err : check_args(m, n, args, id);
}

/* ---- dispatch ---------------------------------------------------------- */

static json_t *discover_fn(void *ctx, json_t *const *args, node_rpc_error *err);

/* The built-in rpc.discover row; its handler needs the table, so it is run
 * by call_method rather than through fn. */
static const node_rpc_method discover_row = {
    .name = DISCOVER,
    .summary = "Returns the OpenRPC document describing every method of this node",
    .fn = discover_fn,
    .params = { { NULL, 0, false, NULL } },
    .result = "the OpenRPC 1.2.6 document",
    .errors = "",
};

static json_t *discover_fn(void *ctx, json_t *const *args, node_rpc_error *err)
{
    (void)ctx;
    (void)args;
    return node_rpc_fail(err, BASED_E_INTERNAL, NULL, "rpc.discover needs the method table");
}

static const node_rpc_method *find_method(const node_rpc_method *table,
                                          const char *name, size_t len)
{
    for (size_t i = 0; table && table[i].name; i++)
        if (strlen(table[i].name) == len && memcmp(table[i].name, name, len) == 0)
            return &table[i];
    if (len == strlen(DISCOVER) && memcmp(name, DISCOVER, len) == 0)
        return &discover_row;
    return NULL;
}

static json_t *call_method(const node_rpc_method *table, void *ctx, json_t *id,
                           json_t *method, json_t *params)
{
    const char *name = json_string_value(method);
    const node_rpc_method *m = find_method(table, name, json_string_length(method));
    if (!m || !m->fn) {
        char msg[160];
        snprintf(msg, sizeof msg, "method not found: \"%.100s\"", name);
        return response_error(id, RPC_METHOD_NOT_FOUND, msg, NULL);
    }
    json_t *args[NODE_RPC_MAX_PARAMS] = { NULL };
    json_t *bad = map_params(m, params, args, id);
    if (bad)
        return bad;
    node_rpc_error e;
    memset(&e, 0, sizeof e);
    json_t *res = m == &discover_row ? node_rpc_openrpc(table, "based", BASED_VERSION)
                                     : m->fn(ctx, args, &e);
    if (!res)
        return response_from_error(id, &e);
    json_t *r = response_new(id);
    json_object_set_new(r, "result", res);
    return r;
}

static bool id_valid(const json_t *id)
{
    return json_is_string(id) || json_is_integer(id) || json_is_null(id);
}

static json_t *invalid_request(json_t *id, const char *field, const char *msg)
{
    return response_error(id, RPC_INVALID_REQUEST, msg, field_data(field));
}

/* One request object (or anything in its place). NULL: a notification. */
static json_t *handle_one(const node_rpc_method *table, void *ctx, json_t *req)
{
    if (!json_is_object(req))
        return invalid_request(NULL, NULL, "invalid request: expected an object");
    json_t *id = json_object_get(req, "id");
    if (id && !id_valid(id))
        return invalid_request(NULL, "id", "invalid request: \"id\" must be a string, an integer or null");
    json_t *ver = json_object_get(req, "jsonrpc");
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0)
        return invalid_request(id, "jsonrpc", "invalid request: \"jsonrpc\" must be \"2.0\"");
    json_t *method = json_object_get(req, "method");
    if (!json_is_string(method))
        return invalid_request(id, "method", "invalid request: \"method\" must be a string");
    json_t *params = json_object_get(req, "params");
    if (params && !json_is_array(params) && !json_is_object(params))
        return invalid_request(id, "params", "invalid request: \"params\" must be an array or an object");
    json_t *resp = call_method(table, ctx, id, method, params);
    if (!id) {
        json_decref(resp);
        return NULL;
    }
    return resp;
}

static json_t *handle_batch(const node_rpc_method *table, void *ctx, json_t *batch)
{
    size_t n = json_array_size(batch);
    if (n == 0)
        return invalid_request(NULL, NULL, "invalid request: empty batch");
    if (n > BATCH_MAX) {
        char msg[96];
        snprintf(msg, sizeof msg, "invalid request: batch of %zu exceeds the limit of %d", n, BATCH_MAX);
        return invalid_request(NULL, NULL, msg);
    }
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *r = handle_one(table, ctx, json_array_get(batch, i));
        if (r)
            json_array_append_new(out, r);
    }
    if (json_array_size(out) == 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static json_t *parse_error(const json_error_t *je)
{
    char msg[300];
    snprintf(msg, sizeof msg, "parse error at line %d, column %d: %s",
             je->line, je->column, je->text);
    return response_error(NULL, RPC_PARSE_ERROR, msg, NULL);
}

static char *fallback_response(size_t *len)
{
    static const char txt[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
                              "{\"code\":-32603,\"message\":\"internal error: out of memory\"}}";
    char *p = malloc(sizeof txt);
    if (p) {
        memcpy(p, txt, sizeof txt);
        *len = sizeof txt - 1;
    }
    return p;
}

char *node_jsonrpc_handle(const node_rpc_method *table, void *ctx,
                          const char *body, size_t body_len, size_t *len)
{
    json_error_t je;
    size_t dummy;
    if (!len)
        len = &dummy;
    *len = 0;
    json_t *root = json_loadb(body ? body : "", body ? body_len : 0, JSON_DECODE_ANY, &je);
    json_t *resp;
    if (!root)
        resp = parse_error(&je);
    else if (json_is_array(root))
        resp = handle_batch(table, ctx, root);
    else
        resp = handle_one(table, ctx, root);
    json_decref(root);
    if (!resp)
        return NULL;
    char *out = json_dumps(resp, JSON_COMPACT);
    json_decref(resp);
    if (!out)
        return fallback_response(len);
    *len = strlen(out);
    return out;
}

/* ---- OpenRPC ----------------------------------------------------------- */

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static json_t *param_schema(node_rpc_type t)
{
    if (type_valid(t) && type_info[t].schema)
        return json_pack("{s:s}", "type", type_info[t].schema);
    return json_pack("{s:[s,s]}", "type", "string", "integer");
}

static json_t *params_doc(const node_rpc_method *m)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < param_count(m); i++) {
        const node_rpc_param *p = &m->params[i];
        json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:o}", "name", p->name,
                                             "summary", or_empty(p->summary),
                                             "required", (int)p->required,
                                             "schema", param_schema(p->type)));
    }
    return arr;
}

static int errcode_by_name(const char *name, size_t len)
{
    for (int i = 1; i < BASED_E__COUNT; i++) {
        const char *n = based_errname((based_err)i);
        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return i;
    }
    return -1;
}

/* The row's comma-separated error names as OpenRPC error objects. */
static json_t *errors_doc(const node_rpc_method *m)
{
    json_t *arr = json_array();
    const char *s = or_empty(m->errors);
    while (*s) {
        while (*s == ',' || *s == ' ')
            s++;
        size_t n = strcspn(s, ", ");
        int code = n ? errcode_by_name(s, n) : -1;
        if (code > 0)
            json_array_append_new(arr, json_pack("{s:i, s:s, s:{s:s}}",
                "code", RPC_APP_BASE - code, "message", based_strerror((based_err)code),
                "data", "error", based_errname((based_err)code)));
        s += n;
    }
    return arr;
}

static json_t *method_doc(const node_rpc_method *m)
{
    json_t *result = m == &discover_row
        ? json_pack("{s:s, s:s, s:{s:s}}", "name", "OpenRPC Schema", "description",
                    or_empty(m->result), "schema", "$ref",
                    "https://raw.githubusercontent.com/open-rpc/meta-schema/master/schema.json")
        : json_pack("{s:s, s:s, s:{}}", "name", "result", "description",
                    or_empty(m->result), "schema");
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "name", m->name,
                     "summary", or_empty(m->summary), "paramStructure", "either",
                     "params", params_doc(m), "result", result, "errors", errors_doc(m));
}

json_t *node_rpc_openrpc(const node_rpc_method *table, const char *title,
                         const char *version)
{
    json_t *methods = json_array();
    bool has_discover = false;
    for (size_t i = 0; table && table[i].name; i++) {
        json_array_append_new(methods, method_doc(&table[i]));
        has_discover = has_discover || strcmp(table[i].name, DISCOVER) == 0;
    }
    if (!has_discover)
        json_array_append_new(methods, method_doc(&discover_row));
    return json_pack("{s:s, s:{s:s, s:s}, s:o}", "openrpc", "1.2.6", "info",
                     "title", title ? title : "based", "version",
                     version ? version : BASED_VERSION, "methods", methods);
}
