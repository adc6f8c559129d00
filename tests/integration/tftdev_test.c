/*
 * `based-tft gen --kind devnet` against a real basedd: a short devnet
 * driven by based-devdrive (two Brains, commit-reveal weights, a late
 * joiner that replaces a miner), then the recorded CSV checked against
 * what the node's RPC says; and the error paths (no node, bad URL, bad
 * cookie, a chain with no Brain yet).
 */
#include <unistd.h>

#include "tests/integration/proc.h"
#include "tests/runner.h"
#include "chain/base.h"

/* tests/tft/devnet-genesis.json with 100 ms blocks (and tempo 1 when
 * fast_epochs), into the test dir. */
static const char *tft_genesis_with(bool fast_epochs)
{
    static char path[600];
    char buf[8192];
    FILE *f = fopen("tests/tft/devnet-genesis.json", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    char *p = strstr(buf, "\"block_time_ms\": 200");
    if (p)
        memcpy(p, "\"block_time_ms\": 100", 20);
    char *t = strstr(buf, "\"tempo\": 9,");
    if (fast_epochs && t)
        memcpy(t, "\"tempo\": 1,", 11);
    if (fast_epochs && !t)
        return NULL;
    snprintf(path, sizeof path, "%s/tft-genesis.json", test_tmpdir());
    f = fopen(path, "w");
    if (f) {
        fputs(buf, f);
        fclose(f);
    }
    return p ? path : NULL;
}

static const char *tft_genesis(void)
{
    return tft_genesis_with(false);
}

typedef struct {
    char name[48];
    long t;
    double target;
    int brain, role;
} row;

/* Parses the first 5 fields of each CSV data line; returns the row count. */
static size_t load_rows(const char *path, row *rows, size_t cap, char *header, size_t hn)
{
    FILE *f = fopen(path, "r");
    char line[512];
    size_t n = 0;
    if (!f)
        return 0;
    if (fgets(line, sizeof line, f))
        snprintf(header, hn, "%s", line);
    while (n < cap && fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        char *c3 = c2 ? strchr(c2 + 1, ',') : NULL, *c4 = c3 ? strchr(c3 + 1, ',') : NULL;
        if (!c4)
            break;
        size_t len = (size_t)(c1 - line);
        if (len >= sizeof rows[n].name)
            break;
        memcpy(rows[n].name, line, len);
        rows[n].name[len] = '\0';
        rows[n].t = strtol(c1 + 1, NULL, 10);
        rows[n].target = strtod(c2 + 1, NULL);
        rows[n].brain = (int)strtol(c3 + 1, NULL, 10);
        rows[n].role = (int)strtol(c4 + 1, NULL, 10);
        n++;
    }
    fclose(f);
    return n;
}

static const row *find_row(const row *r, size_t n, const char *name, long t)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].t == t && !strcmp(r[i].name, name))
            return &r[i];
    return NULL;
}

static size_t count_series(const row *r, size_t n, int role)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].role == role && (i == 0 || strcmp(r[i].name, r[i - 1].name)))
            k++;
    return k;
}

TEST(tft_gen_devnet_records_a_running_chain)
{
    test_node n;
    char dd[600], cookie[700], csv[700], out[8192], header[512];
    const char *g = tft_genesis();
    CHECK(g != NULL);
    snprintf(dd, sizeof dd, "%s/node", test_tmpdir());
    const char *args[] = { "--dev", "--genesis", g, NULL };
    CHECK_EQ_INT(test_node_start(&n, dd, args), 0);
    snprintf(cookie, sizeof cookie, "%s/.cookie", dd);
    snprintf(csv, sizeof csv, "%s/devnet.csv", test_tmpdir());

    const char *drive[] = { test_bin("based-devdrive"), "--rpc", n.url, "--rpc-cookie", cookie,
                            "--epochs", "8", "--quiet", NULL };
    int rc = test_run(drive, out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "%s\n", out);
    CHECK_EQ_INT(rc, 0);
    /* the newest epoch of Brain 7 now: gen, started after, must include it
     * (the chain keeps going, so it is read first) */
    json_t *e = test_rpc_result(&n, "rewards_getEpoch", json_pack("[i]", 7));
    CHECK(e != NULL);
    char bin[600];
    snprintf(bin, sizeof bin, "%s", test_bin("based-tft"));
    const char *gen[] = { bin, "gen", "--kind", "devnet", "--rpc", n.url, "--rpc-cookie", cookie,
                          "--out", csv, NULL };
    rc = test_run(gen, out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "%s\n", out);
    CHECK_EQ_INT(rc, 0);

    static row rows[20000];
    size_t nr = load_rows(csv, rows, 20000, header, sizeof header);
    CHECK_EQ_STR(header, "series,t,target,static_brain,static_role,future_epoch,future_year_pos,"
                         "stake,validators,weight_mean,weight_sd,age\n");
    CHECK(nr > 100);
    /* Brain 7: 4 validators, 12 miners, a late joiner replacing one (17
     * occupants); Brain 8: 3 validators, 8 miners + a joiner on a new uid. */
    CHECK_EQ_INT(count_series(rows, nr, 1), 7);
    CHECK_EQ_INT(count_series(rows, nr, 0), 13 + 9);
    CHECK_EQ_INT(count_series(rows, nr, 2), 6);

    /* that epoch of Brain 7 as the node reported it, row by row */
    long epoch = (long)json_integer_value(json_object_get(e, "epoch"));
    long inst = (long)json_integer_value(json_object_get(e, "instance"));
    json_t *nrs = json_object_get(e, "neurons"), *x;
    size_t i, matched = 0, nonzero = 0;
    json_array_foreach(nrs, i, x) {
        char name[48];
        int val = strcmp(json_string_value(json_object_get(x, "role")), "validator") == 0;
        long want = (long)json_integer_value(json_object_get(x, val ? "dividends" : "incentive"));
        snprintf(name, sizeof name, "b7-i%ld-u%ld-r%ld", inst,
                 (long)json_integer_value(json_object_get(x, "uid")),
                 (long)json_integer_value(json_object_get(x, "registered_at")));
        const row *r = find_row(rows, nr, name, epoch);
        if (r && (long)r->target == want && r->role == val && r->brain == 7)
            matched++;
        nonzero += want != 0;
    }
    size_t nneurons = json_array_size(nrs);
    json_decref(e);
    CHECK_EQ_INT(matched, nneurons);
    CHECK_EQ_INT(nneurons, 16);
    CHECK(nonzero >= 10);              /* miners earn, validators get dividends */

    /* a network bucket: transactions per block from chain_getBlock */
    const row *tx = NULL;
    for (i = 0; i < nr && !tx; i++)
        if (!strcmp(rows[i].name, "net-txs") && rows[i].t == 3)
            tx = &rows[i];
    CHECK(tx != NULL);
    long sum = 0;
    for (long h = 30; h < 40; h++) {
        json_t *b = test_rpc_result(&n, "chain_getBlock", json_pack("[I]", (json_int_t)h));
        sum += (long)json_integer_value(json_object_get(b, "tx_count"));
        json_decref(b);
    }
    CHECK(sum > 0);
    CHECK_NEAR(tx->target, (double)sum / 10.0, 1e-9);

    /* a range in the past (all its epochs still kept), one Brain */
    const char *gen2[] = { bin, "gen", "--kind", "devnet", "--rpc", n.url, "--rpc-cookie", cookie,
                           "--brain", "8", "--from", "20", "--to", "60", NULL };
    rc = test_run(gen2, out, sizeof out);
    CHECK_EQ_INT(rc, 0);
    CHECK(strstr(out, "b8-") != NULL);
    CHECK(strstr(out, "b7-") == NULL);
    test_node_stop(&n, false);
}

static int run_gen(const char *url, const char *cookie, char *out, size_t cap)
{
    char bin[600];
    snprintf(bin, sizeof bin, "%s", test_bin("based-tft"));
    const char *gen[] = { bin, "gen", "--kind", "devnet", "--rpc", url,
                          cookie ? "--rpc-cookie" : NULL, cookie, NULL };
    return test_run(gen, out, cap);
}

TEST(tft_gen_devnet_errors)
{
    char out[4096], url[64];
    /* nothing listening */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", tsup_free_port());
    CHECK_EQ_INT(run_gen(url, NULL, out, sizeof out), 1);
    CHECK(strstr(out, "no node answering at") != NULL);
    /* not a URL curl speaks */
    CHECK_EQ_INT(run_gen("gopher:/x", NULL, out, sizeof out), 1);
    CHECK(strstr(out, "bad RPC URL") != NULL);
    /* an unreadable cookie file */
    CHECK_EQ_INT(run_gen(url, "/nonexistent/.cookie", out, sizeof out), 1);
    CHECK(strstr(out, "cannot read the cookie file") != NULL);
    /* usage: a Brain id out of range */
    char bin[600];
    snprintf(bin, sizeof bin, "%s", test_bin("based-tft"));
    const char *bad[] = { bin, "gen", "--kind", "devnet", "--brain", "5000", NULL };
    CHECK_EQ_INT(test_run(bad, out, sizeof out), 2);
    /* a real node with no Brain that has neurons */
    test_node n;
    char dd[600], cookie[700];
    const char *g = tft_genesis();
    snprintf(dd, sizeof dd, "%s/node", test_tmpdir());
    const char *args[] = { "--dev", "--genesis", g, NULL };
    CHECK_EQ_INT(test_node_start(&n, dd, args), 0);
    snprintf(cookie, sizeof cookie, "%s/.cookie", dd);
    CHECK_EQ_INT(run_gen(n.url, cookie, out, sizeof out), 1);
    CHECK(strstr(out, "has neurons yet") != NULL);
    /* a wrong cookie */
    char wrong[700];
    snprintf(wrong, sizeof wrong, "%s/wrong.cookie", test_tmpdir());
    FILE *f = fopen(wrong, "w");
    if (f) {
        fputs("__cookie__:00\n", f);
        fclose(f);
    }
    CHECK_EQ_INT(run_gen(n.url, wrong, out, sizeof out), 1);
    CHECK(strstr(out, "rejected the cookie") != NULL);
    /* a Brain that does not exist, asked for by id */
    const char *nob[] = { bin, "gen", "--kind", "devnet", "--rpc", n.url, "--rpc-cookie", cookie,
                          "--brain", "9", NULL };
    CHECK_EQ_INT(test_run(nob, out, sizeof out), 1);
    CHECK(strstr(out, "brain_get") != NULL);
    test_node_stop(&n, false);
}

/* More epochs than the node keeps (16): an explicit --from whose epochs
 * are gone is refused, saying so; without --from gen starts at the oldest
 * kept epoch. tempo 1: an epoch every 2 blocks of 100 ms. */
TEST(tft_gen_devnet_pruned_epochs)
{
    test_node n;
    char dd[600], cookie[700], out[16384], bin[600], cli[600];
    const char *g = tft_genesis_with(true);
    CHECK(g != NULL);
    snprintf(dd, sizeof dd, "%s/node", test_tmpdir());
    const char *args[] = { "--dev", "--genesis", g, NULL };
    CHECK_EQ_INT(test_node_start(&n, dd, args), 0);
    snprintf(cookie, sizeof cookie, "%s/.cookie", dd);
    snprintf(cli, sizeof cli, "%s", test_bin("based-cli"));
    const char *buy[] = { cli, "--rpc", n.url, "--rpc-cookie", cookie, "brain", "buy", "--from",
                          "dev1", "--burn", "--wait", NULL };
    CHECK_EQ_INT(test_run(buy, out, sizeof out), 0);
    const char *mem[] = { cli, "--rpc", n.url, "--rpc-cookie", cookie, "memorize", "--from",
                          "dev3", "--brain", "7", "--role", "validator", "--wait", NULL };
    CHECK_EQ_INT(test_run(mem, out, sizeof out), 0);
    long epochs = 0;
    for (int i = 0; i < 300 && epochs < 20; i++) {
        json_t *e = test_rpc_result(&n, "rewards_getEpoch", json_pack("[i]", 7));
        epochs = e ? (long)json_integer_value(json_object_get(e, "epochs")) : 0;
        json_decref(e);
        usleep(50000);
    }
    CHECK(epochs >= 20);
    snprintf(bin, sizeof bin, "%s", test_bin("based-tft"));
    const char *old[] = { bin, "gen", "--kind", "devnet", "--rpc", n.url, "--rpc-cookie", cookie,
                          "--from", "0", NULL };
    int rc = test_run(old, out, sizeof out);
    if (rc != 1 || !strstr(out, "are no longer kept (the node keeps the last 16"))
        fprintf(stderr, "gen --from 0 said: %s\n", out);
    CHECK_EQ_INT(rc, 1);
    CHECK(strstr(out, "are no longer kept (the node keeps the last 16") != NULL);
    const char *kept[] = { bin, "gen", "--kind", "devnet", "--rpc", n.url, "--rpc-cookie", cookie,
                           "--brain", "7", NULL };
    /* the chain moves on (an epoch every 2 blocks of 100 ms): the first row's
     * t is the oldest kept epoch at some moment while gen ran */
    json_t *e = test_rpc_result(&n, "rewards_getEpoch", json_pack("[i]", 7));
    long before = (long)json_integer_value(json_object_get(e, "oldest_kept"));
    json_decref(e);
    CHECK_EQ_INT(test_run(kept, out, sizeof out), 0);
    e = test_rpc_result(&n, "rewards_getEpoch", json_pack("[i]", 7));
    long oldest = (long)json_integer_value(json_object_get(e, "oldest_kept"));
    json_decref(e);
    /* one validator series of at least 16 epochs, starting at oldest_kept */
    const char *line = strstr(out, "\nb7-");
    CHECK(line != NULL);
    const char *c1 = strchr(line, ',');
    CHECK(c1 != NULL);
    long first = strtol(c1 + 1, NULL, 10);
    CHECK(first >= before);
    CHECK(first <= oldest);
    CHECK(oldest >= 4);
    test_node_stop(&n, false);
}

/* tests/tft/devnet-genesis.json with 100 ms blocks, 60-block years (beta
 * rises from block 120 to 1 at 240) and the TFT on: training every 2
 * epochs, applied 3 blocks later, windows of 8 epochs. */
static const char *tft_live_genesis(void)
{
    static char path[600];
    char buf[8192], out[8400];
    FILE *f = fopen("tests/tft/devnet-genesis.json", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    static const char *const from[] = { "\"block_time_ms\": 200", "\"blocks_per_year\": 600",
                                        "\"activity_cutoff\": 100" };
    static const char *const to[] = { "\"block_time_ms\": 100", "\"blocks_per_year\": 60",
                                      "\"activity_cutoff\": 100, \"tft_enabled\": 1, "
                                      "\"tft_train_every\": 2, \"tft_apply_delay\": 3, "
                                      "\"tft_window\": 8" };
    for (size_t i = 0; i < 3; i++) {
        char *p = strstr(buf, from[i]);
        if (!p)
            return NULL;
        size_t pre = (size_t)(p - buf);
        int w = snprintf(out, sizeof out, "%.*s%s%s", (int)pre, buf, to[i], p + strlen(from[i]));
        if (w < 0 || (size_t)w >= sizeof buf)
            return NULL;
        memcpy(buf, out, (size_t)w + 1);
    }
    snprintf(path, sizeof path, "%s/tft-live-genesis.json", test_tmpdir());
    f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs(buf, f);
    fclose(f);
    return path;
}

static double jnum(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

/* P10 <= P50 <= P90, non-negative, and at most max. */
static bool band_ok_max(json_t *q, json_int_t max)
{
    json_int_t a = json_integer_value(json_object_get(q, "p10"));
    json_int_t b = json_integer_value(json_object_get(q, "p50"));
    json_int_t c = json_integer_value(json_object_get(q, "p90"));
    return json_is_object(q) && a <= b && b <= c && c <= max && a >= 0;
}

static bool band_ok(json_t *q)           /* a u16 incentive's band */
{
    return band_ok_max(q, 65535);
}

/* The chain's TFT on a live node, over HTTP: a driven devnet with the TFT
 * enabled trains and applies models on the worker, beta rises with the
 * short year, tft_getForecast shows a Brain's bands and the network
 * series' 3-step forecasts, rewards_getEpoch carries b and the bands, and
 * bad params are refused naming the field. */
TEST(tft_forecast_live_chain_over_http)
{
    test_node n;
    char dd[600], cookie[700], out[8192];
    const char *g = tft_live_genesis();
    CHECK(g != NULL);
    snprintf(dd, sizeof dd, "%s/node", test_tmpdir());
    const char *args[] = { "--dev", "--genesis", g, "--tft-threads", "2", NULL };
    CHECK_EQ_INT(test_node_start(&n, dd, args), 0);
    snprintf(cookie, sizeof cookie, "%s/.cookie", dd);
    const char *drive[] = { test_bin("based-devdrive"), "--rpc", n.url, "--rpc-cookie", cookie,
                            "--epochs", "16", "--quiet", NULL };
    int rc = test_run(drive, out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "%s\n", out);
    CHECK_EQ_INT(rc, 0);

    json_t *b = test_rpc_result(&n, "tft_getForecast", json_pack("[i]", 7));
    CHECK(b != NULL);
    CHECK(json_is_true(json_object_get(b, "enabled")));
    json_t *m = json_object_get(b, "model");
    CHECK(json_is_object(m));
    CHECK_EQ_INT(json_integer_value(json_object_get(m, "params")), 5715);
    CHECK_EQ_INT(json_integer_value(json_object_get(m, "applied_at")) -
                     json_integer_value(json_object_get(m, "trained_at")), 3);
    uint64_t height = (uint64_t)json_integer_value(json_object_get(b, "height"));
    CHECK(height > 150);
    CHECK(jnum(b, "beta") > 0.0);       /* past 2 years of 60 blocks */
    CHECK(jnum(b, "b") <= jnum(b, "beta"));
    CHECK(json_integer_value(json_object_get(b, "scored_epochs")) >= 4);
    json_t *u;
    size_t i, banded = 0;
    json_array_foreach(json_object_get(b, "uids"), i, u) {
        json_t *t = json_object_get(u, "tft");
        if (json_is_null(t))
            continue;
        CHECK(band_ok(t));
        CHECK(band_ok(json_object_get(u, "naive")));
        banded += json_integer_value(json_object_get(t, "p50")) > 0;
    }
    CHECK(banded >= 8);                  /* the miners have real bands */
    json_decref(b);

    json_t *net = test_rpc_result(&n, "tft_getForecast", NULL);
    CHECK(net != NULL);
    CHECK(json_is_true(json_object_get(net, "network")));
    CHECK_EQ_INT(json_array_size(json_object_get(net, "series")), 6);
    json_t *s;
    json_array_foreach(json_object_get(net, "series"), i, s) {
        json_t *f = json_object_get(s, "tft");
        CHECK_EQ_INT(json_array_size(f), 3);
        for (size_t h = 0; h < 3; h++) {
            CHECK(band_ok_max(json_array_get(f, h), (json_int_t)1 << 62));
            CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(f, h), "h")), h + 1);
        }
    }
    json_decref(net);
    json_t *one = test_rpc_result(&n, "tft_getForecast", json_pack("[s]", "block_interval_ms"));
    CHECK(one != NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(one, "series")), 1);
    json_decref(one);

    json_t *e = test_rpc_result(&n, "rewards_getEpoch", json_pack("[i]", 7));
    CHECK(e != NULL);
    json_t *tft = json_object_get(e, "tft");
    CHECK(json_is_object(tft));
    CHECK(json_integer_value(json_object_get(tft, "beta_fixed")) > 0);
    CHECK(json_integer_value(json_object_get(tft, "b_fixed")) <=
          json_integer_value(json_object_get(tft, "beta_fixed")));
    banded = 0;
    json_array_foreach(json_object_get(e, "neurons"), i, u)
        if (json_is_object(json_object_get(u, "tft_band"))) {
            CHECK(band_ok(json_object_get(u, "tft_band")));
            banded++;
        }
    CHECK(banded >= 8);
    json_decref(e);

    json_t *err = test_rpc(&n, "tft_getForecast", json_pack("[s]", "nosuch"));
    CHECK(err != NULL);
    json_t *eo = json_object_get(err, "error");
    CHECK(eo != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(eo, "data"), "field")), "series");
    json_decref(err);
    test_node_stop(&n, false);
}
