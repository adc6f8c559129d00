/*
 * cmtgen_test.c: node/cmtgen against known answers. The key vectors were
 * made by `cometbft init` (v0.38.25) on this machine: its
 * priv_validator_key.json (address, public and private key) and its
 * node_key.json with the node ID `cometbft show-node-id` printed. The
 * genesis, the network genesis in our format and the config.toml edits
 * are checked field by field, and the errors by what they name.
 */
#include <jansson.h>
#include <sodium.h>
#include <sys/stat.h>

#include "node/authkey.h"
#include "node/cmtgen.h"
#include "tests/runner.h"

#define PV_PRIV "9TN2sqhZWK94S7zY/o3K5EzI+GfvwUqsTLOm634qgwIAIqKnnbO+cjtfQNoj3xi2GbOTEgeotwjLBQ9AliwWHQ=="
#define PV_PUB "ACKip52zvnI7X0DaI98YthmzkxIHqLcIywUPQJYsFh0="
#define PV_ADDR "8C4E037FE1953EFE520C571BED36476465D5E933"
#define NK_PRIV "XsG5i30Cs0BRWxYY2H82oXyODstU0k/l2hSCDJLY+Q5iAj52tyaK8FvnGK9lHkE9hbqDuaPBqdISWCAsOO0RtQ=="
#define NK_ID "13428ac53bb8b1d7108d4c26f9600371d92b1cb7"

static bool unb64(const char *s, uint8_t *out, size_t n)
{
    size_t got = 0;
    return sodium_base642bin(out, n, s, strlen(s), NULL, &got, NULL,
                             sodium_base64_VARIANT_ORIGINAL) == 0 && got == n;
}

static const char *str_at(json_t *root, const char *a, const char *b)
{
    json_t *o = json_object_get(root, a);
    return json_string_value(b ? json_object_get(o, b) : o);
}

TEST(cmtgen_validator_key_known_answer)
{
    uint8_t sk[64];
    char *text, err[256];
    CHECK(sodium_init() >= 0);
    CHECK(unb64(PV_PRIV, sk, 64));
    CHECK_EQ_INT(cmtgen_validator_key_json(sk, &text, err, sizeof err), BASED_E_OK);
    json_t *j = json_loads(text, 0, NULL);
    cmtgen_secret_free(text);
    CHECK(j);
    CHECK_EQ_STR(str_at(j, "address", NULL), PV_ADDR);
    CHECK_EQ_STR(str_at(j, "pub_key", "type"), "tendermint/PubKeyEd25519");
    CHECK_EQ_STR(str_at(j, "pub_key", "value"), PV_PUB);
    CHECK_EQ_STR(str_at(j, "priv_key", "type"), "tendermint/PrivKeyEd25519");
    CHECK_EQ_STR(str_at(j, "priv_key", "value"), PV_PRIV);
    CHECK_EQ_INT(json_object_size(j), 3);
    json_decref(j);
    chain_edpub pub;
    char addr[CMTGEN_ID_LEN];
    memcpy(pub.b, sk + 32, 32);
    cmtgen_address(&pub, addr);
    CHECK_EQ_STR(addr, PV_ADDR);
    /* a secret whose public half is not its seed's */
    sk[40] ^= 1;
    CHECK_EQ_INT(cmtgen_validator_key_json(sk, &text, err, sizeof err), BASED_E_BAD_KEY);
    CHECK(text == NULL);
    CHECK(strstr(err, "does not match") != NULL);
}

TEST(cmtgen_node_key_and_id_known_answer)
{
    uint8_t sk[64];
    char *text, err[256], id[CMTGEN_ID_LEN];
    chain_edpub pub;
    CHECK(sodium_init() >= 0);
    CHECK(unb64(NK_PRIV, sk, 64));
    memcpy(pub.b, sk + 32, 32);
    cmtgen_node_id(&pub, id);
    CHECK_EQ_STR(id, NK_ID);
    CHECK_EQ_INT(cmtgen_node_key_json(sk, &text, err, sizeof err), BASED_E_OK);
    json_t *j = json_loads(text, 0, NULL);
    cmtgen_secret_free(text);
    CHECK(j);
    CHECK_EQ_STR(str_at(j, "priv_key", "type"), "tendermint/PrivKeyEd25519");
    CHECK_EQ_STR(str_at(j, "priv_key", "value"), NK_PRIV);
    CHECK_EQ_INT(json_object_size(j), 1);
    json_decref(j);
    json_t *st = json_loads(cmtgen_validator_state_json(), 0, NULL);
    CHECK(st);
    CHECK_EQ_STR(str_at(st, "height", NULL), "0");
    CHECK(json_integer_value(json_object_get(st, "round")) == 0 &&
          json_is_integer(json_object_get(st, "round")));
    CHECK(json_is_integer(json_object_get(st, "step")));
    json_decref(st);
}

TEST(cmtgen_time_rfc3339_nanoseconds)
{
    char t[32];
    cmtgen_time(1767225600123ull, t);
    CHECK_EQ_STR(t, "2026-01-01T00:00:00.123000000Z");
    cmtgen_time(0, t);
    CHECK_EQ_STR(t, "1970-01-01T00:00:00.000000000Z");
}

/* Two authorities: the known key and one more. */
static void two_keys(chain_edpub keys[2])
{
    uint8_t sk[64];
    unb64(PV_PRIV, sk, 64);
    memcpy(keys[0].b, sk + 32, 32);
    memset(keys[1].b, 0x42, 32);
}

TEST(cmtgen_net_genesis_ours)
{
    chain_edpub keys[2];
    chain_genesis g;
    char *text, err[512];
    two_keys(keys);
    CHECK_EQ_INT(cmtgen_net_genesis(chain_genesis_default, keys, 2, 10, 1767225600999ull, &text,
                                    err, sizeof err), BASED_E_OK);
    json_t *j = json_loads(text, 0, NULL);
    CHECK(j && !json_object_get(j, "dev"));
    CHECK_EQ_STR(str_at(j, "genesis_time", NULL), "2026-01-01T00:00:00Z");
    json_decref(j);
    CHECK_EQ_INT(chain_genesis_parse(text, strlen(text), "t", &g, err, sizeof err), BASED_E_OK);
    free(text);
    CHECK_EQ_U64(g.genesis_time_ms, 1767225600000ull);
    CHECK_EQ_INT(g.nauth, 2);
    CHECK_EQ_MEM(g.auth[0].key.b, keys[0].b, 32);
    CHECK_EQ_MEM(g.auth[1].key.b, keys[1].b, 32);
    CHECK_EQ_U64(g.auth[1].power, 10);
    CHECK_EQ_STR(g.auth[1].name, "authority-1");
    CHECK_EQ_STR(g.chain_id, "based-devnet");
    CHECK_EQ_U64(g.block_time_ms, 1000);          /* the dev block time */
    CHECK_EQ_U64(g.params.tempo, 19);             /* the dev overrides */
    CHECK_EQ_U64(g.params.weights_rate_limit, 10);
    CHECK_EQ_INT(g.nbal, 10);                     /* dev0..dev9 */
    CHECK_EQ_U64(g.bal[9].amount, 1000000ull * CHAIN_COIN);
    CHECK_EQ_INT(g.npepe, 10);
    uint8_t sk0[32];
    chain_addr dev0;
    chain_key_dev(0, sk0);
    chain_key_pub(sk0, &dev0);
    CHECK(g.has_admin && g.has_bridge);
    CHECK_EQ_MEM(g.admin.b, dev0.b, 32);
    CHECK_EQ_MEM(g.auth[0].account.b, dev0.b, 32);
    CHECK(!g.is_dev);
    chain_genesis_release(&g);
    CHECK_EQ_INT(cmtgen_net_genesis(chain_genesis_default, keys, 0, 10, 0, &text, err,
                                    sizeof err), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(cmtgen_net_genesis("{\"chain_id\": 5}", keys, 1, 10, 0, &text, err,
                                    sizeof err), BASED_E_GENESIS);
    CHECK(strstr(err, "chain_id") != NULL);
}

TEST(cmtgen_genesis_json_fields)
{
    chain_edpub keys[2];
    chain_genesis g;
    char *ours, *text, err[512];
    two_keys(keys);
    CHECK_EQ_INT(cmtgen_net_genesis(chain_genesis_default, keys, 2, 10, 1767225600000ull, &ours,
                                    err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_genesis_parse(ours, strlen(ours), "t", &g, err, sizeof err), BASED_E_OK);
    free(ours);
    CHECK_EQ_INT(cmtgen_genesis_json(&g, &text, err, sizeof err), BASED_E_OK);
    g.nauth = 0;
    CHECK_EQ_INT(cmtgen_genesis_json(&g, &ours, err, sizeof err), BASED_E_GENESIS);
    chain_genesis_release(&g);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    CHECK(j);
    CHECK_EQ_STR(str_at(j, "genesis_time", NULL), "2026-01-01T00:00:00.000000000Z");
    CHECK_EQ_STR(str_at(j, "chain_id", NULL), "based-devnet");
    CHECK_EQ_STR(str_at(j, "initial_height", NULL), "1");
    CHECK_EQ_STR(str_at(j, "app_hash", NULL), "");
    json_t *cp = json_object_get(j, "consensus_params");
    CHECK_EQ_STR(str_at(cp, "block", "max_bytes"), "22020096");
    CHECK_EQ_STR(str_at(cp, "block", "max_gas"), "-1");
    CHECK_EQ_STR(str_at(cp, "evidence", "max_age_num_blocks"), "100000");
    CHECK_EQ_STR(str_at(cp, "evidence", "max_age_duration"), "172800000000000");
    CHECK_EQ_STR(str_at(cp, "evidence", "max_bytes"), "1048576");
    CHECK_EQ_STR(str_at(cp, "version", "app"), "0");
    json_t *types = json_object_get(json_object_get(cp, "validator"), "pub_key_types");
    CHECK_EQ_INT(json_array_size(types), 1);
    CHECK_EQ_STR(json_string_value(json_array_get(types, 0)), "ed25519");
    json_t *vals = json_object_get(j, "validators");
    CHECK_EQ_INT(json_array_size(vals), 2);
    json_t *v0 = json_array_get(vals, 0);
    CHECK_EQ_STR(str_at(v0, "address", NULL), PV_ADDR);
    CHECK_EQ_STR(str_at(v0, "pub_key", "type"), "tendermint/PubKeyEd25519");
    CHECK_EQ_STR(str_at(v0, "pub_key", "value"), PV_PUB);
    CHECK_EQ_STR(str_at(v0, "power", NULL), "10");
    CHECK_EQ_STR(str_at(v0, "name", NULL), "authority-0");
    json_decref(j);
}

static const char sample_toml[] =
    "# top comment\n"
    "proxy_app = \"tcp://127.0.0.1:26658\"\n"
    "moniker = \"vm\"\n"
    "\n"
    "[rpc]\n"
    "# laddr = \"commented\"\n"
    "laddr = \"tcp://127.0.0.1:26657\"\n"
    "laddr_extra = \"x\"\n"
    "\n"
    "[p2p]\n"
    "laddr = \"tcp://0.0.0.0:26656\"\n"
    "  pex=true\n"
    "[consensus]\n"
    "timeout_commit = \"1s\"";

TEST(cmtgen_toml_set_edits_one_line)
{
    char *t = strdup(sample_toml), err[256];
    CHECK(t);
    CHECK_EQ_INT(cmtgen_toml_set(&t, "p2p", "laddr", "\"tcp://127.0.0.1:5\"", err, sizeof err),
                 BASED_E_OK);
    CHECK_EQ_INT(cmtgen_toml_set(&t, "", "moniker", "\"node0\"", err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(cmtgen_toml_set(&t, "p2p", "pex", "false", err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(cmtgen_toml_set(&t, "consensus", "timeout_commit", "\"500ms\"", err, sizeof err),
                 BASED_E_OK);
    CHECK_EQ_STR(t,
        "# top comment\n"
        "proxy_app = \"tcp://127.0.0.1:26658\"\n"
        "moniker = \"node0\"\n"
        "\n"
        "[rpc]\n"
        "# laddr = \"commented\"\n"
        "laddr = \"tcp://127.0.0.1:26657\"\n"
        "laddr_extra = \"x\"\n"
        "\n"
        "[p2p]\n"
        "laddr = \"tcp://127.0.0.1:5\"\n"
        "  pex= false\n"
        "[consensus]\n"
        "timeout_commit = \"500ms\"");
    /* missing keys, a key of another section, a multi-line value */
    CHECK_EQ_INT(cmtgen_toml_set(&t, "p2p", "persistent_peers", "\"\"", err, sizeof err),
                 BASED_E_NOT_FOUND);
    CHECK(strstr(err, "persistent_peers") && strstr(err, "[p2p]"));
    CHECK_EQ_INT(cmtgen_toml_set(&t, "", "laddr", "\"x\"", err, sizeof err), BASED_E_NOT_FOUND);
    CHECK(strstr(err, "top section") != NULL);
    CHECK_EQ_INT(cmtgen_toml_set(&t, "mempool", "size", "1", err, sizeof err), BASED_E_NOT_FOUND);
    CHECK_EQ_INT(cmtgen_toml_set(&t, "rpc", "laddr", "\"a\"\nx = 1", err, sizeof err),
                 BASED_E_BAD_PARAM);
    CHECK(strstr(t, "laddr = \"tcp://127.0.0.1:26657\"") != NULL);   /* untouched */
    free(t);
}

TEST(cmtgen_write_files)
{
    char key[600], other[600], pv[600], gen[600], out[600], err[512];
    node_authkey k;
    struct stat st;
    CHECK(sodium_init() >= 0);
    snprintf(key, sizeof key, "%s/authority.json", test_tmpdir());
    snprintf(other, sizeof other, "%s/other.json", test_tmpdir());
    snprintf(pv, sizeof pv, "%s/priv_validator_key.json", test_tmpdir());
    CHECK_EQ_INT(node_authkey_create(key, &k, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(cmtgen_write_validator_key(key, pv, err, sizeof err), BASED_E_OK);
    CHECK(stat(pv, &st) == 0 && (st.st_mode & 0777) == 0600);
    json_t *j = json_load_file(pv, 0, NULL);
    char b64[64], addr[CMTGEN_ID_LEN];
    sodium_bin2base64(b64, sizeof b64, k.pub.b, 32, sodium_base64_VARIANT_ORIGINAL);
    cmtgen_address(&k.pub, addr);
    node_authkey_free(&k);
    CHECK(j);
    CHECK_EQ_STR(str_at(j, "pub_key", "value"), b64);
    CHECK_EQ_STR(str_at(j, "address", NULL), addr);
    json_decref(j);
    /* the same key again is fine; another key is refused */
    CHECK_EQ_INT(cmtgen_write_validator_key(key, pv, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(node_authkey_create(other, &k, err, sizeof err), BASED_E_OK);
    node_authkey_free(&k);
    CHECK_EQ_INT(cmtgen_write_validator_key(other, pv, err, sizeof err), BASED_E_EXISTS);
    CHECK(strstr(err, pv) != NULL);
    /* --cometbft-genesis: from a genesis file with one authority */
    chain_edpub keys[2];
    char *text;
    two_keys(keys);
    snprintf(gen, sizeof gen, "%s/genesis.json", test_tmpdir());
    snprintf(out, sizeof out, "%s/cometbft-genesis.json", test_tmpdir());
    CHECK_EQ_INT(cmtgen_net_genesis(chain_genesis_default, keys, 1, 7, 1767225600000ull, &text,
                                    err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(cmtgen_write_file(gen, text, strlen(text), 0644, true, err, sizeof err),
                 BASED_E_OK);
    CHECK_EQ_INT(cmtgen_write_file(gen, text, strlen(text), 0644, true, err, sizeof err),
                 BASED_E_EXISTS);
    free(text);
    CHECK_EQ_INT(cmtgen_write_genesis(gen, out, err, sizeof err), BASED_E_OK);
    j = json_load_file(out, 0, NULL);
    CHECK(j);
    json_t *v0 = json_array_get(json_object_get(j, "validators"), 0);
    CHECK_EQ_STR(str_at(v0, "address", NULL), PV_ADDR);
    CHECK_EQ_STR(str_at(v0, "power", NULL), "7");
    json_decref(j);
    CHECK_EQ_INT(cmtgen_write_genesis(out, gen, err, sizeof err), BASED_E_GENESIS);
}
