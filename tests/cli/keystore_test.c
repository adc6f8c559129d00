/* Tests of cli/keystore and cli/password: round trip, wrong password,
 * tampering, malformed files, names, listing, password files. */
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/runner.h"
#include "cli/keystore.h"
#include "cli/password.h"
#include "chain/base.h"

/* Fast KDF limits for the library tests (the CLI uses INTERACTIVE). */
#define OPS crypto_pwhash_OPSLIMIT_MIN
#define MEM crypto_pwhash_MEMLIMIT_MIN

static void fixed_key(uint8_t sk[32])
{
    for (int i = 0; i < 32; i++)
        sk[i] = (uint8_t)(i + 1);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static char *slurp(const char *path)
{
    char *t;
    size_t n;
    return cli_read_file(path, 1 << 20, false, &t, &n, NULL) == BASED_E_OK ? t : NULL;
}

/* Replaces the first occurrence of `from` in the file with `to` (same length). */
static int patch_file(const char *path, const char *from, const char *to)
{
    char *t = slurp(path);
    char *at = t ? strstr(t, from) : NULL;
    if (!at) {
        free(t);
        return -1;
    }
    memcpy(at, to, strlen(to));
    write_text(path, t);
    free(t);
    return 0;
}

TEST(keystore_roundtrip)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    char dir[512], path[4096], err[CLI_ERR_LEN];
    snprintf(dir, sizeof dir, "%s/keys/sub", test_tmpdir());
    uint8_t *sk = sodium_malloc(32), *back = sodium_malloc(32);
    CHECK(sk && back);
    fixed_key(sk);
    chain_addr pub, pub2, want;
    CHECK_EQ_INT(chain_key_pub(sk, &want), BASED_E_OK);
    CHECK_EQ_INT(cli_keystore_create(dir, "alice", "correct horse", sk, OPS, MEM, &pub, path, err),
                 BASED_E_OK);
    CHECK_EQ_MEM(&pub, &want, 32);
    char want_path[4096];
    snprintf(want_path, sizeof want_path, "%s/alice.json", dir);
    CHECK_EQ_STR(path, want_path);
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    CHECK_EQ_INT(stat(dir, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0700);
    CHECK_EQ_INT(cli_keystore_load(dir, "alice", "correct horse", back, &pub2, err), BASED_E_OK);
    CHECK_EQ_MEM(back, sk, 32);
    CHECK_EQ_MEM(&pub2, &want, 32);
    CHECK_EQ_INT(cli_keystore_address(dir, "alice", &pub2, err), BASED_E_OK);
    CHECK_EQ_MEM(&pub2, &want, 32);
    /* The file holds the SS58 address, the KDF limits and no plaintext key. */
    char *text = slurp(path), addr[CHAIN_ADDR_STRLEN], skhex[65];
    CHECK(text != NULL);
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &want, addr);
    chain_hex(sk, 32, skhex);
    CHECK(strstr(text, addr) != NULL);
    CHECK(strstr(text, "\"argon2id13\"") != NULL);
    CHECK(strstr(text, "\"xchacha20poly1305-ietf\"") != NULL);
    CHECK(strstr(text, skhex) == NULL);
    free(text);
    /* Never overwritten. */
    CHECK_EQ_INT(cli_keystore_create(dir, "alice", "x", NULL, OPS, MEM, NULL, NULL, err),
                 BASED_E_EXISTS);
    CHECK(strstr(err, "already exists") != NULL);
    /* A generated key round-trips too. */
    CHECK_EQ_INT(cli_keystore_create(dir, "bob", "pw", NULL, OPS, MEM, &pub, NULL, err), BASED_E_OK);
    CHECK_EQ_INT(cli_keystore_load(dir, "bob", "pw", back, &pub2, err), BASED_E_OK);
    CHECK_EQ_MEM(&pub, &pub2, 32);
    sodium_free(sk);
    sodium_free(back);
}

TEST(keystore_wrong_password)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    const char *dir = test_tmpdir();
    char err[CLI_ERR_LEN];
    uint8_t *sk = sodium_malloc(32);
    CHECK(sk);
    chain_addr pub;
    CHECK_EQ_INT(cli_keystore_create(dir, "w1", "right", NULL, OPS, MEM, NULL, NULL, err), BASED_E_OK);
    memset(sk, 0xAA, 32);
    CHECK_EQ_INT(cli_keystore_load(dir, "w1", "wrong", sk, &pub, err), BASED_E_BAD_PASSWORD);
    CHECK(strstr(err, "wrong password for wallet \"w1\"") != NULL);
    static const uint8_t zero[32];
    CHECK_EQ_MEM(sk, zero, 32);   /* nothing half-decrypted left behind */
    CHECK_EQ_INT(cli_keystore_load(dir, "nobody", "right", sk, &pub, err), BASED_E_NOT_FOUND);
    CHECK(strstr(err, "wallet new nobody") != NULL);
    sodium_free(sk);
}

TEST(keystore_tampered)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    const char *dir = test_tmpdir();
    char err[CLI_ERR_LEN], path[4096];
    uint8_t *sk = sodium_malloc(32);
    CHECK(sk);
    chain_addr pub;
    CHECK_EQ_INT(cli_keystore_create(dir, "t1", "pw", NULL, OPS, MEM, NULL, path, err), BASED_E_OK);
    /* Flip one nibble of the ciphertext. */
    char *text = slurp(path);
    CHECK(text);
    char *ct = strstr(text, "\"ciphertext\": \"");
    CHECK(ct);
    ct += strlen("\"ciphertext\": \"");
    ct[0] = ct[0] == 'a' ? 'b' : 'a';
    write_text(path, text);
    free(text);
    CHECK_EQ_INT(cli_keystore_load(dir, "t1", "pw", sk, &pub, err), BASED_E_BAD_PASSWORD);

    /* Swapping in another valid address breaks the associated data. */
    char path2[4096];
    CHECK_EQ_INT(cli_keystore_create(dir, "t2", "pw", NULL, OPS, MEM, &pub, path2, err), BASED_E_OK);
    chain_addr other;
    uint8_t sk2[32];
    chain_key_dev(5, sk2);
    CHECK_EQ_INT(chain_key_pub(sk2, &other), BASED_E_OK);
    char a1[CHAIN_ADDR_STRLEN], a2[CHAIN_ADDR_STRLEN];
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &pub, a1);
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &other, a2);
    CHECK_EQ_INT(strlen(a1), strlen(a2));
    CHECK_EQ_INT(patch_file(path2, a1, a2), 0);
    CHECK_EQ_INT(cli_keystore_load(dir, "t2", "pw", sk, &pub, err), BASED_E_BAD_PASSWORD);
    sodium_free(sk);
}

TEST(keystore_malformed)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    const char *dir = test_tmpdir();
    char err[CLI_ERR_LEN], path[4096];
    uint8_t *sk = sodium_malloc(32);
    CHECK(sk);
    chain_addr pub;
    CHECK_EQ_INT(cli_keystore_create(dir, "m1", "pw", NULL, OPS, MEM, NULL, path, err), BASED_E_OK);
    CHECK_EQ_INT(patch_file(path, "\"salt\": \"", "\"salt\": \"z"), 0);
    CHECK_EQ_INT(cli_keystore_load(dir, "m1", "pw", sk, &pub, err), BASED_E_DECODE);
    CHECK(strstr(err, path) != NULL);
    CHECK(strstr(err, "\"kdf.salt\"") != NULL);

    CHECK_EQ_INT(cli_keystore_create(dir, "m2", "pw", NULL, OPS, MEM, NULL, path, err), BASED_E_OK);
    CHECK_EQ_INT(patch_file(path, "\"memlimit\": ", "\"memlimiX\": "), 0);
    CHECK_EQ_INT(cli_keystore_load(dir, "m2", "pw", sk, &pub, err), BASED_E_DECODE);
    CHECK(strstr(err, "\"kdf.memlimit\"") != NULL);

    snprintf(path, sizeof path, "%s/m3.json", dir);
    write_text(path, "{\"version\": 1, \"address\": 7");
    CHECK_EQ_INT(cli_keystore_load(dir, "m3", "pw", sk, &pub, err), BASED_E_DECODE);
    CHECK(strstr(err, "m3.json:1:") != NULL);
    write_text(path, "{\"version\": 2}");
    CHECK_EQ_INT(cli_keystore_load(dir, "m3", "pw", sk, &pub, err), BASED_E_DECODE);
    CHECK(strstr(err, "\"version\"") != NULL);
    write_text(path, "{\"version\": 1, \"address\": \"nope\"}");
    CHECK_EQ_INT(cli_keystore_address(dir, "m3", &pub, err), BASED_E_DECODE);
    CHECK(strstr(err, "\"address\"") != NULL);
    sodium_free(sk);
}

TEST(keystore_names)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    char err[CLI_ERR_LEN];
    CHECK_EQ_INT(cli_name_check("alice", err), BASED_E_OK);
    CHECK_EQ_INT(cli_name_check("A_b-9", err), BASED_E_OK);
    CHECK_EQ_INT(cli_name_check("abcdefghijklmnopqrstuvwxyz012345", err), BASED_E_OK);
    CHECK_EQ_INT(cli_name_check("abcdefghijklmnopqrstuvwxyz0123456", err), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(cli_name_check("", err), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(cli_name_check("a/b", err), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(cli_name_check("../x", err), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(cli_name_check("a b", err), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(cli_name_check("dev0", err), BASED_E_BAD_PARAM);
    CHECK(strstr(err, "reserved") != NULL);
    CHECK_EQ_INT(cli_name_check("dev9", err), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(cli_name_check("dev10", err), BASED_E_OK);
    CHECK_EQ_INT(cli_dev_index("dev7"), 7);
    CHECK_EQ_INT(cli_dev_index("dev"), -1);
    CHECK_EQ_INT(cli_dev_index("dev07"), -1);
    CHECK_EQ_INT(cli_keystore_create(test_tmpdir(), "dev3", "pw", NULL, OPS, MEM, NULL, NULL, err),
                 BASED_E_BAD_PARAM);
    CHECK_EQ_INT(cli_keystore_create(test_tmpdir(), "x.y", "pw", NULL, OPS, MEM, NULL, NULL, err),
                 BASED_E_BAD_PARAM);
}

TEST(keystore_list_and_resolve)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    char dir[512], err[CLI_ERR_LEN];
    snprintf(dir, sizeof dir, "%s/w", test_tmpdir());
    char **names;
    size_t n;
    CHECK_EQ_INT(cli_keystore_list(dir, &names, &n, err), BASED_E_OK);   /* missing dir: empty */
    CHECK_EQ_INT(n, 0);
    chain_addr pz, pa, got;
    CHECK_EQ_INT(cli_keystore_create(dir, "zed", "pw", NULL, OPS, MEM, &pz, NULL, err), BASED_E_OK);
    CHECK_EQ_INT(cli_keystore_create(dir, "amy", "pw", NULL, OPS, MEM, &pa, NULL, err), BASED_E_OK);
    char junk[600];
    snprintf(junk, sizeof junk, "%s/notes.txt", dir);
    write_text(junk, "x");
    CHECK_EQ_INT(cli_keystore_list(dir, &names, &n, err), BASED_E_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_STR(names[0], "amy");
    CHECK_EQ_STR(names[1], "zed");
    cli_names_free(names, n);

    bool dev;
    CHECK_EQ_INT(cli_resolve_account(dir, "zed", CHAIN_SS58_DEFAULT_PREFIX, &got, &dev, err), BASED_E_OK);
    CHECK_EQ_MEM(&got, &pz, 32);
    CHECK(!dev);
    uint8_t sk[32];
    chain_addr d2;
    chain_key_dev(2, sk);
    CHECK_EQ_INT(chain_key_pub(sk, &d2), BASED_E_OK);
    CHECK_EQ_INT(cli_resolve_account(dir, "dev2", CHAIN_SS58_DEFAULT_PREFIX, &got, &dev, err), BASED_E_OK);
    CHECK_EQ_MEM(&got, &d2, 32);
    CHECK(dev);
    char addr[CHAIN_ADDR_STRLEN], hex[67] = "0x";
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &pa, addr);
    CHECK_EQ_INT(cli_resolve_account(dir, addr, CHAIN_SS58_DEFAULT_PREFIX, &got, &dev, err), BASED_E_OK);
    CHECK_EQ_MEM(&got, &pa, 32);
    chain_hex(&pa, 32, hex + 2);
    CHECK_EQ_INT(cli_resolve_account(dir, hex, CHAIN_SS58_DEFAULT_PREFIX, &got, &dev, err), BASED_E_OK);
    CHECK_EQ_MEM(&got, &pa, 32);
    CHECK_EQ_INT(cli_resolve_account(dir, "carol", CHAIN_SS58_DEFAULT_PREFIX, &got, &dev, err),
                 BASED_E_NOT_FOUND);
    CHECK_EQ_INT(cli_resolve_account(dir, "0x12345678901234567890123456789012345", CHAIN_SS58_DEFAULT_PREFIX, &got, &dev, err),
                 BASED_E_BAD_ADDRESS);
    CHECK(strstr(err, "neither a wallet name nor a valid address") != NULL);
}

TEST(password_file)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    char path[600], err[CLI_ERR_LEN];
    char *pw;
    snprintf(path, sizeof path, "%s/pw", test_tmpdir());
    write_text(path, "s3cret pass\nsecond line\n");
    CHECK_EQ_INT(cli_password_from_file(path, &pw, err), BASED_E_OK);
    CHECK_EQ_STR(pw, "s3cret pass");
    cli_password_free(pw);
    write_text(path, "crlf\r\n");
    CHECK_EQ_INT(cli_password_get(path, "x", false, &pw, err), BASED_E_OK);
    CHECK_EQ_STR(pw, "crlf");
    cli_password_free(pw);
    write_text(path, "no-newline");
    CHECK_EQ_INT(cli_password_from_file(path, &pw, err), BASED_E_OK);
    CHECK_EQ_STR(pw, "no-newline");
    cli_password_free(pw);
    write_text(path, "\nlater");
    CHECK_EQ_INT(cli_password_from_file(path, &pw, err), BASED_E_BAD_PARAM);
    CHECK(strstr(err, "is empty") != NULL);
    CHECK(pw == NULL);
    char missing[700];
    snprintf(missing, sizeof missing, "%s/none", test_tmpdir());
    CHECK_EQ_INT(cli_password_from_file(missing, &pw, err), BASED_E_IO);
    CHECK(strstr(err, missing) != NULL);
    /* The file wins over the environment; the environment over a prompt. */
    write_text(path, "fromfile\n");
    setenv("BASED_PASSWORD", "fromenv", 1);
    CHECK_EQ_INT(cli_password_get(path, "x", false, &pw, err), BASED_E_OK);
    CHECK_EQ_STR(pw, "fromfile");
    cli_password_free(pw);
    CHECK_EQ_INT(cli_password_get(NULL, "x", true, &pw, err), BASED_E_OK);
    CHECK_EQ_STR(pw, "fromenv");
    cli_password_free(pw);
    unsetenv("BASED_PASSWORD");
}
