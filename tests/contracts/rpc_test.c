/* The RPC views of contracts/ and staking/ through the node's real method
 * table and JSON-RPC dispatcher (in process). */
#include "tests/runner.h"
#include "tests/contracts/env.h"
#include "node/node.h"

static json_t *rpc(node_ctx *c, const char *method, const char *params)
{
    char body[2048];
    size_t len = 0;
    snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
             method, params);
    char *out = node_jsonrpc_handle(node_methods, c, body, strlen(body), &len);
    json_t *j = out ? json_loadb(out, len, 0, NULL) : NULL;
    free(out);
    return j;
}

static long long err_code(json_t *r)
{
    return json_integer_value(json_object_get(json_object_get(r, "error"), "code"));
}

static const char *err_field(json_t *r)
{
    return json_string_value(json_object_get(json_object_get(json_object_get(r, "error"), "data"),
                                             "field"));
}

TEST(rpc_brains_neurons_accounts_gov)
{
    env e;
    char p[512];
    env_open(&e, "\"immunity_blocks\": 3");
    env_tx(&e, 1, "brain_buy", "{\"method\": \"burn\"}");
    env_tx(&e, 2, "brain_buy", "{\"method\": \"stake\"}");
    env_tx(&e, 3, "memorize", "{\"brain\": 7, \"role\": \"validator\"}");
    snprintf(p, sizeof p, "{\"brain\": 7, \"hotkey\": \"%s\", \"amount\": \"12.5\"}", env_addr(&e, 3));
    env_tx(&e, 4, "stake", p);
    env_tx(&e, 0, "gov_propose", "{\"kind\": \"text\", \"text\": \"gm\"}");
    node_ctx c = { e.l, node_mempool_new(100, 10), NULL, NULL, true, true, 0 };

    json_t *r = rpc(&c, "brain_list", "[]");
    json_t *res = json_object_get(r, "result");
    CHECK_EQ_INT(json_array_size(json_object_get(res, "brains")), 10);
    CHECK_EQ_INT(json_integer_value(json_object_get(res, "active")), 10);
    CHECK_EQ_STR(json_string_value(json_object_get(res, "next_burn_price")), "1200");
    json_decref(r);

    r = rpc(&c, "brain_get", "[7]");
    res = json_object_get(r, "result");
    CHECK_EQ_STR(json_string_value(json_object_get(res, "owner")), env_addr(&e, 1));
    CHECK_EQ_STR(json_string_value(json_object_get(res, "stake")), "12.5");
    CHECK(json_is_true(json_object_get(res, "gigabrain")));
    json_decref(r);
    r = rpc(&c, "brain_get", "[8]");
    CHECK(json_is_false(json_object_get(json_object_get(r, "result"), "earning")));
    json_decref(r);
    r = rpc(&c, "brain_get", "[1024]");
    CHECK_EQ_INT(err_code(r), -32000 - BASED_E_BAD_PARAM);
    CHECK_EQ_STR(err_field(r), "id");
    json_decref(r);
    r = rpc(&c, "brain_get", "[100]");
    CHECK_EQ_INT(err_code(r), -32000 - BASED_E_NOT_FOUND);
    json_decref(r);

    r = rpc(&c, "brain_getNeurons", "{\"id\": 7}");
    json_t *n0 = json_array_get(json_object_get(json_object_get(r, "result"), "neurons"), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(n0, "role")), "validator");
    CHECK_EQ_STR(json_string_value(json_object_get(n0, "address")), env_addr(&e, 3));
    CHECK_EQ_STR(json_string_value(json_object_get(n0, "stake")), "12.5");
    CHECK(json_is_true(json_object_get(n0, "active")));
    CHECK(json_is_null(json_object_get(n0, "endpoint")));
    json_decref(r);

    snprintf(p, sizeof p, "[\"%s\"]", env_addr(&e, 4));
    r = rpc(&c, "account_get", p);
    res = json_object_get(r, "result");
    json_t *s0 = json_array_get(json_object_get(res, "stakes"), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(s0, "brain")), 7);
    CHECK_EQ_STR(json_string_value(json_object_get(s0, "hotkey")), env_addr(&e, 3));
    CHECK_EQ_STR(json_string_value(json_object_get(s0, "amount")), "12.5");
    json_decref(r);
    snprintf(p, sizeof p, "[\"%s\"]", env_addr(&e, 2));
    r = rpc(&c, "account_get", p);
    res = json_object_get(r, "result");
    CHECK_EQ_STR(json_string_value(json_object_get(res, "pepecoin")), "199900000");
    CHECK_EQ_STR(json_string_value(json_object_get(res, "pepecoin_locked")), "100000");
    CHECK_EQ_INT(json_integer_value(json_array_get(json_object_get(res, "brains"), 0)), 8);
    json_decref(r);

    r = rpc(&c, "gov_list", "[]");
    res = json_object_get(r, "result");
    CHECK_EQ_INT(json_array_size(json_object_get(res, "proposals")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(res, "params"),
                                                   "immunity_blocks")), "3");
    json_decref(r);
    r = rpc(&c, "gov_get", "[1]");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r, "result"), "text")), "gm");
    json_decref(r);
    r = rpc(&c, "gov_get", "[2]");
    CHECK_EQ_INT(err_code(r), -32000 - BASED_E_NOT_FOUND);
    json_decref(r);

    /* tx_send reports a stateful rejection at once (dry run) with a clean field */
    uint8_t sk[32], pl[34];
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    pl[0] = 8;
    pl[1] = 0;
    memcpy(pl + 2, e.dev[5].b, 32);
    chain_key_dev(2, sk);
    chain_tx_make(&tx, e.g.chain_id, e.nonce[2], 10000, CONTRACT_KIND_BRAIN_TRANSFER, pl, sizeof pl, sk);
    char *hex = malloc(2 * tx.raw_len + 8);
    chain_hex(tx.raw, tx.raw_len, hex);
    snprintf(p, sizeof p, "[\"%s\"]", hex);
    free(hex);
    r = rpc(&c, "tx_send", p);
    CHECK_EQ_INT(err_code(r), -32000 - BASED_E_NOT_TRANSFERABLE);
    CHECK_EQ_STR(err_field(r), "id");
    json_decref(r);
    chain_tx_release(&tx);
    node_mempool_free(c.mempool);
    env_close(&e);
}
