/*
 * basedd as a real process serving ABCI++ on loopback TCP, talked to over a
 * real socket the way CometBFT does (varint-length-prefixed protobuf): Info
 * answers, every kind of malformed input closes only that connection, the
 * node keeps serving ABCI and JSON-RPC, and the flags that make no sense
 * together are refused.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node/abci.pb-c.h"
#include "tests/integration/proc.h"
#include "tests/runner.h"

/* A genesis with one authority (a fixed key), written into the test dir. */
static const char *net_genesis(void)
{
    static char path[512];
    unsigned char seed[32], pk[32], sk[64];
    char hex[65];
    memset(seed, 7, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_bin2hex(hex, sizeof hex, pk, 32);
    snprintf(path, sizeof path, "%s/net-genesis.json", test_tmpdir());
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"chain_id\": \"based-abci-test\", \"genesis_time\": \"2026-01-01T00:00:00Z\",\n"
               " \"block_time_ms\": 1000, \"balances\": [],\n"
               " \"authorities\": [{\"name\": \"a0\", \"key\": \"0x%s\", \"power\": 10,\n"
               "   \"account\": \"0x%s\"}]}\n", hex, hex);
    fclose(f);
    return path;
}

static int connect_tcp(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 100; i++) {
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            return fd;
        tsup_nap_ms(50);
    }
    close(fd);
    return -1;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Sends one framed request. */
static bool send_req(int fd, const Abci__Request *r)
{
    size_t n = abci__request__get_packed_size(r), k = 0;
    uint8_t *buf = malloc(n + 10);
    for (size_t v = n; ; v >>= 7) {
        buf[k++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80)
            break;
    }
    abci__request__pack(r, buf + k);
    bool ok = write_all(fd, buf, n + k);
    free(buf);
    return ok;
}

/* Reads one framed response (NULL on EOF or a bad frame). */
static Abci__Response *read_resp(int fd)
{
    uint64_t len = 0;
    uint8_t b;
    for (int shift = 0; ; shift += 7) {
        if (shift > 63 || read(fd, &b, 1) != 1)
            return NULL;
        len |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    if (len > (1u << 20))
        return NULL;
    uint8_t *buf = malloc(len ? len : 1);
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r <= 0) {
            free(buf);
            return NULL;
        }
        got += (size_t)r;
    }
    Abci__Response *resp = abci__response__unpack(NULL, len, buf);
    free(buf);
    return resp;
}

/* Info over a fresh connection: the height, or -1. */
static long info_height(int port, size_t *apphash_len)
{
    int fd = connect_tcp(port);
    if (fd < 0)
        return -1;
    Abci__Request req = ABCI__REQUEST__INIT;
    Abci__RequestInfo info = ABCI__REQUEST_INFO__INIT;
    Abci__RequestFlush fl = ABCI__REQUEST_FLUSH__INIT;
    req.value_case = ABCI__REQUEST__VALUE_INFO;
    req.info = &info;
    long h = -1;
    if (send_req(fd, &req)) {
        req.value_case = ABCI__REQUEST__VALUE_FLUSH;
        req.flush = &fl;
        send_req(fd, &req);
        Abci__Response *r = read_resp(fd);
        if (r && r->value_case == ABCI__RESPONSE__VALUE_INFO) {
            h = (long)r->info->last_block_height;
            *apphash_len = r->info->last_block_app_hash.len;
        }
        abci__response__free_unpacked(r, NULL);
        Abci__Response *f = read_resp(fd);
        if (!f || f->value_case != ABCI__RESPONSE__VALUE_FLUSH)
            h = -1;
        abci__response__free_unpacked(f, NULL);
    }
    close(fd);
    return h;
}

/* Sends raw bytes; true when basedd then closes the connection (EOF after
 * at most an exception). */
static bool closed_after(int port, const uint8_t *p, size_t n)
{
    int fd = connect_tcp(port);
    if (fd < 0 || !write_all(fd, p, n)) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint8_t buf[4096];
    ssize_t r;
    size_t total = 0;
    while ((r = read(fd, buf, sizeof buf)) > 0)
        total += (size_t)r;
    close(fd);
    return r == 0 && total < sizeof buf;   /* EOF, not a timeout */
}

TEST(abci_node_serves_and_survives_bad_input)
{
    test_node n;
    char dir[600], abci[64];
    int aport = tsup_free_port();
    snprintf(dir, sizeof dir, "%s/abci-node", test_tmpdir());
    snprintf(abci, sizeof abci, "tcp://127.0.0.1:%d", aport);
    const char *extra[] = { "--genesis", net_genesis(), "--abci", abci, "--cometbft-rpc",
                            "http://127.0.0.1:9", NULL };
    CHECK_EQ_INT(test_node_start(&n, dir, extra), 0);
    size_t hl = 0;
    CHECK_EQ_INT(info_height(aport, &hl), 0);
    CHECK_EQ_INT(hl, 32);
    /* a varint longer than 10 bytes */
    static const uint8_t longvar[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0x01 };
    CHECK(closed_after(aport, longvar, sizeof longvar));
    /* a frame announcing 1 GiB */
    static const uint8_t huge[] = { 0x80, 0x80, 0x80, 0x80, 0x04 };
    CHECK(closed_after(aport, huge, sizeof huge));
    /* a frame of garbage that is no protobuf Request */
    static const uint8_t junk[] = { 0x04, 0xff, 0xff, 0xff, 0xff };
    CHECK(closed_after(aport, junk, sizeof junk));
    /* an empty Request (no oneof set) */
    static const uint8_t empty[] = { 0x00 };
    CHECK(closed_after(aport, empty, sizeof empty));
    /* an unknown request number (field 30, empty message) */
    static const uint8_t unknown[] = { 0x03, 0xf2, 0x01, 0x00 };
    CHECK(closed_after(aport, unknown, sizeof unknown));
    /* still serving both ABCI and JSON-RPC, same height */
    CHECK_EQ_INT(info_height(aport, &hl), 0);
    json_t *h = test_rpc_result(&n, "chain_getHead", NULL);
    CHECK(h != NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(h, "height")), 0);
    json_decref(h);
    json_t *info = test_rpc_result(&n, "node_getInfo", NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(info, "consensus")), "cometbft");
    CHECK(json_is_object(json_object_get(info, "cometbft")));
    json_decref(info);
    CHECK_EQ_INT(test_node_stop(&n, false), 0);
}

TEST(abci_node_flag_errors)
{
    char out[2048], dir[600];
    const char *bin = test_bin("basedd");
    const char *a1[] = { bin, "--dev", "--abci", "tcp://127.0.0.1:1", NULL };
    CHECK_EQ_INT(test_run(a1, out, sizeof out), 2);
    CHECK(strstr(out, "--abci and --dev exclude each other") != NULL);
    const char *a2[] = { bin, "--cometbft-rpc", "http://127.0.0.1:1", NULL };
    CHECK_EQ_INT(test_run(a2, out, sizeof out), 2);
    CHECK(strstr(out, "--cometbft-rpc needs --abci") != NULL);
    const char *a3[] = { bin, "--cometbft-key", "/tmp/x", NULL };
    CHECK_EQ_INT(test_run(a3, out, sizeof out), 2);
    CHECK(strstr(out, "needs --authority-key") != NULL);
    /* a dev chain's data directory refuses to become a network node */
    test_node n;
    snprintf(dir, sizeof dir, "%s/dev-then-abci", test_tmpdir());
    const char *dev[] = { "--dev", NULL };
    CHECK_EQ_INT(test_node_start(&n, dir, dev), 0);
    for (int i = 0; i < 100; i++) {          /* at least one block */
        json_t *h = test_rpc_result(&n, "chain_getHead", NULL);
        long height = (long)json_integer_value(json_object_get(h, "height"));
        json_decref(h);
        if (height >= 1)
            break;
        tsup_nap_ms(50);
    }
    CHECK_EQ_INT(test_node_stop(&n, false), 0);
    char abci[64];
    snprintf(abci, sizeof abci, "tcp://127.0.0.1:%d", tsup_free_port());
    const char *a4[] = { bin, "--datadir", dir, "--abci", abci, "--rpc-bind", "127.0.0.1:0", NULL };
    CHECK_EQ_INT(test_run(a4, out, sizeof out), 1);
    CHECK(strstr(out, "needs its own --datadir") != NULL);
}
