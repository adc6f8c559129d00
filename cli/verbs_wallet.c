/*
 * verbs_wallet.c: based-cli's wallet verbs: new, list, show (encrypted keystore files in
 * the wallet directory; dev0..dev9 are the public dev keys).
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stddef.h>
#include <time.h>

#include "chain/kinds.h"
#include "chain/tx.h"
#include "cli/keystore.h"
#include "cli/password.h"
#include "cli/rpcclient.h"
#include "cli/verbs.h"
#include "chain/base.h"

/* ---------------- wallet verbs ---------------- */

int cli_v_wallet_new(ctx *c)
{
    const char *name = c->args[0];
    char err[CLI_ERR_LEN], path[4096], addr[CHAIN_ADDR_STRLEN], what[64];
    if (cli_name_check(name, err) != BASED_E_OK)
        return cli_usage(c->v, "%s", err);
    if (cli_need_wallet_dir(c))
        return EXIT_RUNTIME;
    chain_addr pub;
    if (cli_keystore_address(c->wallet_dir, name, &pub, NULL) != BASED_E_NOT_FOUND)
        return cli_die("wallet \"%s\" already exists in %s; choose another name", name,
                    c->wallet_dir);
    char *pw;
    snprintf(what, sizeof what, "new wallet %s", name);
    if (cli_password_get(c->o.password_file, what, true, &pw, err) != BASED_E_OK)
        return cli_die("%s", err);
    based_err rc = cli_keystore_create(c->wallet_dir, name, pw, NULL, 0, 0, &pub, path, err);
    cli_password_free(pw);
    if (rc != BASED_E_OK)
        return cli_die("%s", err);
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &pub, addr);
    if (c->o.json) {
        json_t *j = json_pack("{s:s,s:s,s:s}", "name", name, "address", addr, "file", path);
        cli_print_json(j);
        json_decref(j);
        return 0;
    }
    printf("created wallet %s\naddress  %s\nfile     %s\n", name, addr, path);
    printf("keep a backup of the file and the password: nothing can recover a lost password\n");
    return 0;
}

int cli_v_wallet_list(ctx *c)
{
    char err[CLI_ERR_LEN], addr[CHAIN_ADDR_STRLEN];
    if (cli_need_wallet_dir(c))
        return EXIT_RUNTIME;
    char **names;
    size_t n;
    if (cli_keystore_list(c->wallet_dir, &names, &n, err) != BASED_E_OK)
        return cli_die("%s", err);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        chain_addr pub;
        if (cli_keystore_address(c->wallet_dir, names[i], &pub, err) == BASED_E_OK) {
            chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &pub, addr);
            json_array_append_new(arr, json_pack("{s:s,s:s}", "name", names[i], "address", addr));
            if (!c->o.json)
                printf("%-32s  %s\n", names[i], addr);
        } else {
            json_array_append_new(arr, json_pack("{s:s,s:s}", "name", names[i], "error", err));
            if (!c->o.json)
                printf("%-32s  (unreadable: %s)\n", names[i], err);
        }
    }
    if (c->o.json)
        cli_print_json(arr);
    else if (n == 0)
        printf("no wallets in %s (create one with \"based-cli wallet new NAME\")\n", c->wallet_dir);
    if (!c->o.json)
        printf("dev0..dev9 are also usable by name (public dev keys, for dev networks only)\n");
    json_decref(arr);
    cli_names_free(names, n);
    return 0;
}

/* Loads a signing key by name into sk (secure, 32 bytes). */
int cli_load_secret(ctx *c, const char *name, uint8_t *sk, bool *is_dev)
{
    char err[CLI_ERR_LEN], what[64];
    int dev = cli_dev_index(name);
    *is_dev = dev >= 0;
    if (dev >= 0) {
        chain_key_dev((unsigned)dev, sk);
        return 0;
    }
    if (!cli_name_syntax_ok(name))
        return cli_usage(c->v, "bad wallet name \"%s\": use 1 to 32 of A-Z a-z 0-9 _ -", name);
    if (cli_need_wallet_dir(c))
        return EXIT_RUNTIME;
    chain_addr pub;
    if (cli_keystore_address(c->wallet_dir, name, &pub, err) != BASED_E_OK)
        return cli_die("%s", err);
    char *pw;
    snprintf(what, sizeof what, "wallet %s", name);
    if (cli_password_get(c->o.password_file, what, false, &pw, err) != BASED_E_OK)
        return cli_die("%s", err);
    based_err rc = cli_keystore_load(c->wallet_dir, name, pw, sk, &pub, err);
    cli_password_free(pw);
    return rc == BASED_E_OK ? 0 : cli_die("%s", err);
}

int cli_v_wallet_show(ctx *c)
{
    const char *name = c->args[0];
    char err[CLI_ERR_LEN], addr[CHAIN_ADDR_STRLEN], idhex[67], path[4200] = "";
    chain_addr pub;
    bool is_dev = cli_dev_index(name) >= 0;
    uint8_t *sk = NULL;
    char *skhex = NULL;
    if (!cli_name_syntax_ok(name))
        return cli_usage(c->v, "bad wallet name \"%s\": use 1 to 32 of A-Z a-z 0-9 _ -", name);
    if (!is_dev) {
        if (cli_need_wallet_dir(c))
            return EXIT_RUNTIME;
        snprintf(path, sizeof path, "%s/%s.json", c->wallet_dir, name);
    }
    if (c->o.show_secret) {
        sk = sodium_malloc(32);
        skhex = sodium_malloc(65);
        int st = sk && skhex ? cli_load_secret(c, name, sk, &is_dev) : cli_die("out of secure memory");
        if (st == 0 && chain_key_pub(sk, &pub) != BASED_E_OK)
            st = cli_die("the key of %s is invalid", name);
        if (st != 0) {
            if (sk)
                sodium_free(sk);
            if (skhex)
                sodium_free(skhex);
            return st;
        }
        chain_hex(sk, 32, skhex);
        sodium_free(sk);
    } else if (cli_resolve_account(c->wallet_dir, name, CHAIN_SS58_DEFAULT_PREFIX, &pub, &is_dev,
                                   err) != BASED_E_OK) {
        return cli_die("%s", err);
    }
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &pub, addr);
    idhex[0] = '0';
    idhex[1] = 'x';
    chain_hex(&pub, 32, idhex + 2);
    if (c->o.json) {
        json_t *j = json_pack("{s:s,s:s,s:s}", "name", name, "address", addr, "account_id", idhex);
        if (is_dev)
            json_object_set_new(j, "note", json_string(CLI_DEV_NOTE));
        else
            json_object_set_new(j, "file", json_string(path));
        if (skhex)
            json_object_set_new(j, "secret_key", json_string(skhex));
        cli_print_json(j);
        json_decref(j);
    } else {
        if (is_dev)
            printf("name        %s  (%s)\n", name, CLI_DEV_NOTE);
        else
            printf("name        %s\n", name);
        printf("address     %s\naccount id  %s\n", addr, idhex);
        if (!is_dev)
            printf("file        %s\n", path);
        if (skhex)
            printf("secret key  %s\n%s\n", skhex,
                   is_dev ? "(this key is public: never send real funds to it)"
                          : "anyone who sees this secret key controls the account");
    }
    if (skhex)
        sodium_free(skhex);
    return 0;
}
