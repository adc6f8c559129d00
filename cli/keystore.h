/*
 * keystore.h: encrypted wallet files and the names that refer to keys.
 *
 * One JSON file per wallet, DIR/NAME.json, mode 0600:
 *   {"version":1, "name":"alice", "address":"<SS58, prefix 32323>",
 *    "kdf":{"alg":"argon2id13","opslimit":2,"memlimit":67108864,"salt":"<hex>"},
 *    "cipher":{"alg":"xchacha20poly1305-ietf","nonce":"<hex>","ciphertext":"<hex>"}}
 * The 32-byte secp256k1 secret key is encrypted with a key derived from the
 * password by Argon2id (libsodium crypto_pwhash, the INTERACTIVE limits by
 * default, stored in the file), with XChaCha20-Poly1305 and the address
 * string as associated data. Files are written atomically (temp file,
 * fsync, link into place) and never overwrite an existing wallet.
 *
 * Names are [A-Za-z0-9_-]{1,32}. dev0..dev9 are reserved: they name the
 * public dev keys (chain_key_dev), which need no file and no password.
 *
 * Secrets: secret keys are handed back in caller-provided memory the caller
 * keeps in libsodium secure memory (sodium_malloc) and wipes; the derived
 * key and plaintext never leave secure memory here.
 */
#ifndef BASED_CLI_KEYSTORE_H
#define BASED_CLI_KEYSTORE_H

#include "chain/crypto.h"
#include "cli/util.h"

#define CLI_NAME_MAX 32
#define CLI_KEYSTORE_MAX (64 * 1024)   /* cap on a keystore file's size */

/* Where wallets live: `flag` if non-NULL, else $BASED_WALLET_DIR, else
 * ~/.based/keys. */
based_err cli_wallet_dir(const char *flag, char *out, size_t n, char *err);

/* 0..9 for "dev0".."dev9", else -1. */
int cli_dev_index(const char *name);

/* True if s has the syntax of a wallet name (dev names included). */
bool cli_name_syntax_ok(const char *s);

/* A name usable for a new wallet: syntax, and not reserved.
 * BASED_E_BAD_PARAM with the reason in err. */
based_err cli_name_check(const char *name, char *err);

/* Creates DIR/NAME.json (DIR is created 0700 if missing) holding sk, or a
 * fresh key when sk is NULL. Fails with BASED_E_EXISTS if the wallet exists.
 * opslimit/memlimit 0 mean the INTERACTIVE defaults. On success *pub is the
 * account (if non-NULL) and path (if non-NULL, >= 4096 bytes) the file. */
based_err cli_keystore_create(const char *dir, const char *name, const char *password,
                              const uint8_t *sk, unsigned long long opslimit,
                              size_t memlimit, chain_addr *pub, char *path, char *err);

/* Decrypts DIR/NAME.json into sk (32 bytes of the caller's secure memory).
 * BASED_E_NOT_FOUND if there is no such wallet, BASED_E_BAD_PASSWORD on a
 * wrong password or tampered ciphertext, BASED_E_DECODE for a malformed
 * file (err names the file and the field). */
based_err cli_keystore_load(const char *dir, const char *name, const char *password,
                            uint8_t sk[32], chain_addr *pub, char *err);

/* The account of DIR/NAME.json without decrypting (reads "address"). */
based_err cli_keystore_address(const char *dir, const char *name, chain_addr *pub,
                               char *err);

/* Wallet names in DIR, sorted; *names is a malloc'd array of malloc'd
 * strings (free with cli_names_free). A missing DIR is an empty list. */
based_err cli_keystore_list(const char *dir, char ***names, size_t *count, char *err);
void cli_names_free(char **names, size_t count);

/* Resolves a wallet name (dev0..dev9 or a keystore in dir) or an address
 * (SS58 with `prefix`, or 0x hex) to an account. *is_dev (may be NULL) is
 * set for dev keys. BASED_E_NOT_FOUND for a name with no wallet,
 * BASED_E_BAD_ADDRESS for anything else unparsable. */
based_err cli_resolve_account(const char *dir, const char *s, uint16_t prefix,
                              chain_addr *pub, bool *is_dev, char *err);

#endif
