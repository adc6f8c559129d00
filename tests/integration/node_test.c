/*
 * End-to-end tests of basedd as a real process: JSON-RPC over HTTP, bad
 * input of every kind, clean shutdown, and the crash test (SIGKILL at
 * random moments under transfer load, at least 20 times).
 */
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/proc.h"
#include "tests/runner.h"

/* A dev genesis with 100 ms blocks, written into the test's directory. */
static const char *fast_genesis(void)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/fast-genesis.json", test_tmpdir());
    FILE *f = fopen(path, "w");
    fputs("{\"chain_id\": \"based-devnet\", \"genesis_time\": \"2026-01-01T00:00:00Z\",\n"
          " \"block_time_ms\": 10000, \"authorities\": [],\n"
          " \"dev\": {\"block_time_ms\": 100, \"accounts\": 10, \"balance\": \"1000000\"}}\n", f);
    fclose(f);
    return path;
}

static json_t *sarr(const char *s) { return json_pack("[s]", s); }

static int rpc_code(test_node *n, const char *method, json_t *params, const char **name)
{
    json_t *resp = test_rpc(n, method, params);
    json_decref(params);
    json_t *e = json_object_get(resp, "error");
    int code = (int)json_integer_value(json_object_get(e, "code"));
    static char buf[64];
    const char *nm = json_string_value(json_object_get(json_object_get(e, "data"), "error"));
    snprintf(buf, sizeof buf, "%s", nm ? nm : "");
    if (name)
        *name = buf;
    json_decref(resp);
    return code;
}

static uint64_t next_nonce(test_node *n, unsigned dev)
{
    uint8_t sk[32];
    chain_addr a;
    char hex[70] = "0x";
    chain_key_dev(dev, sk);
    chain_key_pub(sk, &a);
    chain_hex(a.b, 32, hex + 2);
    json_t *r = test_rpc_result(n, "account_get", sarr(hex));
    uint64_t v = (uint64_t)json_integer_value(json_object_get(r, "next_nonce"));
    json_decref(r);
    return v;
}

TEST(node_rpc_end_to_end)
{
    test_node n;
    char dd[512];
    const char *name;
    snprintf(dd, sizeof dd, "%s/node", test_tmpdir());
    const char *args[] = { "--dev", "--genesis", fast_genesis(), NULL };
    CHECK_EQ_INT(test_node_start(&n, dd, args), 0);
    /* a transfer dev1 -> dev5 goes in and is committed with a receipt */
    chain_tx tx;
    test_dev_transfer(&tx, "based-devnet", 1, 5, 12500000000ull, 0, 100000);
    char *hex = test_tx_hex(&tx);
    json_t *r = test_rpc_result(&n, "tx_send", sarr(hex));
    CHECK(r != NULL);
    char want[67];
    chain_hash_hex(&tx.hash, want);
    CHECK_EQ_STR(json_string_value(json_object_get(r, "hash")), want);
    json_decref(r);
    /* the same bytes again: duplicate */
    CHECK_EQ_INT(rpc_code(&n, "tx_send", sarr(hex), &name), -32000 - 15);
    CHECK_EQ_STR(name, "DUPLICATE");
    const char *status = "";
    for (int i = 0; i < 100; i++) {
        r = test_rpc_result(&n, "tx_get", sarr(want));
        status = json_string_value(json_object_get(r, "status"));
        if (status && !strcmp(status, "committed"))
            break;
        json_decref(r);
        r = NULL;
        usleep(50000);
    }
    CHECK(r != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r, "receipt"), "status")), "ok");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(json_object_get(r, "tx"),
                                                                   "payload"), "amount")), "12.5");
    json_int_t bh = json_integer_value(json_object_get(r, "block_height"));
    json_decref(r);
    r = test_rpc_result(&n, "chain_getBlock", json_pack("[I,b]", bh, 1));
    CHECK(r != NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "tx_count")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(r, "txs"), 0),
                                                   "hash")), want);
    json_decref(r);
    free(hex);
    chain_tx_release(&tx);

    /* bad input: each its own code, and the node keeps running */
    CHECK_EQ_INT(rpc_code(&n, "tx_send", sarr("0xzz"), &name), -32006);
    CHECK_EQ_STR(name, "BAD_HEX");
    CHECK_EQ_INT(rpc_code(&n, "tx_send", sarr("0x00"), &name), -32004);
    CHECK_EQ_STR(name, "DECODE");
    test_dev_transfer(&tx, "other-chain", 2, 5, 1, 0, 100000);
    hex = test_tx_hex(&tx);
    CHECK_EQ_INT(rpc_code(&n, "tx_send", sarr(hex), &name), -32011);
    CHECK_EQ_STR(name, "WRONG_CHAIN");
    free(hex);
    chain_tx_release(&tx);
    test_dev_transfer(&tx, "based-devnet", 2, 5, 1, 0, 100000);
    tx.raw[tx.raw_len - 1] ^= 1;
    hex = test_tx_hex(&tx);
    CHECK_EQ_INT(rpc_code(&n, "tx_send", sarr(hex), &name), -32010);
    CHECK_EQ_STR(name, "BAD_SIGNATURE");
    free(hex);
    chain_tx_release(&tx);
    test_dev_transfer(&tx, "based-devnet", 2, 5, 1, 7, 100000);
    hex = test_tx_hex(&tx);
    CHECK_EQ_INT(rpc_code(&n, "tx_send", sarr(hex), &name), -32012);
    CHECK_EQ_STR(name, "NONCE_GAP");
    free(hex);
    chain_tx_release(&tx);
    test_dev_transfer(&tx, "based-devnet", 1, 5, 1, 0, 100000);   /* nonce 0 was used */
    hex = test_tx_hex(&tx);
    CHECK_EQ_INT(rpc_code(&n, "tx_send", sarr(hex), &name), -32013);
    CHECK_EQ_STR(name, "NONCE_USED");
    free(hex);
    chain_tx_release(&tx);
    test_dev_transfer(&tx, "based-devnet", 3, 5, 2000000ull * 1000000000ull, 0, 100000);
    hex = test_tx_hex(&tx);
    CHECK_EQ_INT(rpc_code(&n, "tx_send", sarr(hex), &name), -32014);
    CHECK_EQ_STR(name, "INSUFFICIENT");
    free(hex);
    chain_tx_release(&tx);
    CHECK_EQ_INT(rpc_code(&n, "account_get", sarr("5Grwva"), &name), -32007);
    CHECK_EQ_INT(rpc_code(&n, "account_get", json_pack("[i]", 5), &name), -32602);
    CHECK_EQ_INT(rpc_code(&n, "chain_getBlock", sarr("999999"), &name), -32019);
    CHECK_EQ_STR(name, "NOT_FOUND");
    CHECK_EQ_INT(rpc_code(&n, "no_suchMethod", NULL, &name), -32601);
    char *out = NULL;
    CHECK_EQ_INT(test_http_post(n.url, n.cookie, "{\"jsonrpc\":", 11, &out), 200);
    CHECK(out && strstr(out, "-32700"));
    free(out);
    CHECK_EQ_INT(test_http_post(n.url, NULL, "{}", 2, NULL), 401);
    CHECK_EQ_INT(test_http_post(n.url, "__cookie__:00", "{}", 2, NULL), 401);
    size_t big = 2u << 20;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    CHECK_EQ_INT(test_http_post(n.url, n.cookie, huge, big, NULL), 413);
    free(huge);
    /* rpc.discover lists our methods */
    r = test_rpc_result(&n, "rpc.discover", NULL);
    CHECK(r && json_array_size(json_object_get(r, "methods")) >= 7);
    json_decref(r);
    /* still alive, and a clean stop exits 0 and removes the cookie */
    r = test_rpc_result(&n, "node_getInfo", NULL);
    CHECK(r != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(r, "chain_id")), "based-devnet");
    json_decref(r);
    CHECK_EQ_INT(test_node_stop(&n, false), 0);
    char cookie[600];
    snprintf(cookie, sizeof cookie, "%s/.cookie", dd);
    CHECK(access(cookie, F_OK) != 0);
}

/* The crash test. */
TEST(node_crash_kill9_recovers)
{
    test_node n;
    char dd[512], out[8192];
    const char *args[] = { "--dev", "--genesis", fast_genesis(), NULL };
    struct { chain_hash hash; int64_t height; } committed[4096];
    size_t ncommitted = 0;
    uint64_t max_height = 0;
    snprintf(dd, sizeof dd, "%s/crash", test_tmpdir());
    srand((unsigned)time(NULL));
    unsigned kills = 0;
    for (int round = 0; round < 22; round++) {
        CHECK_EQ_INT(test_node_start(&n, dd, args), 0);
        /* comes back at a whole block, no lower than any block seen */
        json_t *head = test_rpc_result(&n, "chain_getHead", NULL);
        CHECK(head != NULL);
        uint64_t h = (uint64_t)json_integer_value(json_object_get(head, "height"));
        json_decref(head);
        CHECK(h >= max_height);
        /* every transaction seen committed is still there, in the same block */
        for (size_t i = 0; i < ncommitted; i++) {
            char hx[67];
            chain_hash_hex(&committed[i].hash, hx);
            json_t *r = test_rpc_result(&n, "tx_get", sarr(hx));
            CHECK(r != NULL);
            CHECK_EQ_STR(json_string_value(json_object_get(r, "status")), "committed");
            CHECK_EQ_INT(json_integer_value(json_object_get(r, "block_height")), committed[i].height);
            json_decref(r);
        }
        /* load: transfers from dev1..dev8 */
        chain_hash sent[64];
        size_t nsent = 0;
        for (unsigned from = 1; from <= 8; from++) {
            uint64_t nonce = next_nonce(&n, from);
            for (int k = 0; k < 6; k++) {
                chain_tx tx;
                test_dev_transfer(&tx, "based-devnet", from, (from + 1 + (unsigned)k) % 10, 1000 + (uint64_t)k,
                                  nonce + (uint64_t)k, 10000 + (uint64_t)(rand() % 1000));
                char *hex = test_tx_hex(&tx);
                json_t *r = test_rpc_result(&n, "tx_send", sarr(hex));
                if (r && nsent < 64)
                    sent[nsent++] = tx.hash;
                json_decref(r);
                free(hex);
                chain_tx_release(&tx);
            }
        }
        usleep((useconds_t)(100000 + rand() % 400000));
        for (size_t i = 0; i < nsent && ncommitted < 4096; i++) {
            char hx[67];
            chain_hash_hex(&sent[i], hx);
            json_t *r = test_rpc_result(&n, "tx_get", sarr(hx));
            const char *st = json_string_value(json_object_get(r, "status"));
            if (st && !strcmp(st, "committed")) {
                committed[ncommitted].hash = sent[i];
                committed[ncommitted].height = json_integer_value(json_object_get(r, "block_height"));
                if ((uint64_t)committed[ncommitted].height > max_height)
                    max_height = (uint64_t)committed[ncommitted].height;
                ncommitted++;
            }
            json_decref(r);
        }
        /* more load, then kill -9 at a random moment while blocks commit */
        for (unsigned from = 1; from <= 8; from++) {
            uint64_t nonce = next_nonce(&n, from);
            chain_tx tx;
            test_dev_transfer(&tx, "based-devnet", from, 0, 7, nonce, 10000);
            char *hex = test_tx_hex(&tx);
            json_decref(test_rpc_result(&n, "tx_send", sarr(hex)));
            free(hex);
            chain_tx_release(&tx);
        }
        usleep((useconds_t)(rand() % 300000));
        CHECK_EQ_INT(test_node_stop(&n, true), -1);
        kills++;
        /* the stored chain replays from genesis with every state root and
         * the total supply intact */
        const char *vargv[] = { test_bin("basedd"), "--verify", "--datadir", dd, NULL };
        int vrc = test_run(vargv, out, sizeof out);
        if (vrc != 0)
            fprintf(stderr, "%s\n", out);
        CHECK_EQ_INT(vrc, 0);
    }
    CHECK(kills >= 20);
    CHECK(ncommitted > 100);
    CHECK(max_height > 20);
}

void test_tft_gen_devnet_records_a_running_chain(void);   /* tftdev_test.c */
void test_tft_gen_devnet_errors(void);
void test_tft_gen_devnet_pruned_epochs(void);
void test_tft_forecast_live_chain_over_http(void);
void test_devnet_real_network_pays_stops_continues(void);        /* devnet_test.c */
void test_devnet_round_lines_read_defensively(void);
void test_abci_node_serves_and_survives_bad_input(void);        /* abci_node_test.c */
void test_abci_node_flag_errors(void);

const struct test_case test_table[] = {
    { "node_rpc_end_to_end", test_node_rpc_end_to_end },
    { "tft_gen_devnet_records_a_running_chain", test_tft_gen_devnet_records_a_running_chain },
    { "tft_gen_devnet_errors", test_tft_gen_devnet_errors },
    { "tft_gen_devnet_pruned_epochs", test_tft_gen_devnet_pruned_epochs },
    { "tft_forecast_live_chain_over_http", test_tft_forecast_live_chain_over_http },
    { "node_crash_kill9_recovers", test_node_crash_kill9_recovers },
    { "devnet_real_network_pays_stops_continues", test_devnet_real_network_pays_stops_continues },
    { "devnet_round_lines_read_defensively", test_devnet_round_lines_read_defensively },
    { "abci_node_serves_and_survives_bad_input", test_abci_node_serves_and_survives_bad_input },
    { "abci_node_flag_errors", test_abci_node_flag_errors },
    { NULL, NULL },
};
