/*
 * weights.c: validators' weights by commit-reveal, and the stored rows.
 *
 * weights_commit {brain, commit} stores the hash of (brain, uids, weights,
 * salt) with its height; one commit per weights_rate_limit blocks
 * (RATE_LIMITED). weights_reveal {brain, uids, weights, salt} must come in
 * the reveal window right after the commit's (REVEAL_TOO_EARLY /
 * REVEAL_TOO_LATE; windows end where the Brain's epochs run), match the
 * commit (REVEAL_MISMATCH, NO_COMMIT), and pass subtensor's rules
 * (yuma.md 2.4): the sender holds a validator permit (NO_PERMIT; before
 * the Brain's first epoch every validator holds one), no more uids than the
 * Brain has, no duplicates, every uid a registered miner (BAD_PARAM), at
 * least min(min_allowed_weights, uids) entries (TOO_FEW_WEIGHTS), and the
 * largest normalised weight within max_weights_limit (MAX_WEIGHT). The row
 * is then max-upscaled to u16 (largest 65535, rounding half away from zero)
 * and stored sorted by uid with set_at = the reveal's height.
 */
#include <sodium.h>

#include "chain/keys.h"
#include "rewards/internal.h"

/* ---------------- record helpers (shared by rewards/) ---------------- */

based_err reward_get_u64s(chain_view *v, const uint8_t *k, size_t kl, uint64_t *out, size_t n)
{
    const uint8_t *val;
    size_t vl;
    memset(out, 0, n * sizeof *out);
    based_err rc = chain_view_get(v, k, kl, &val, &vl);
    if (rc == BASED_E_NOT_FOUND)
        return BASED_E_OK;
    if (rc != BASED_E_OK)
        return rc;
    if (vl != n * 8)
        return BASED_E_DB;
    for (size_t i = 0; i < n; i++)
        out[i] = chain_get_be64(val + 8 * i);
    return BASED_E_OK;
}

based_err reward_put_u64s(chain_view *v, const uint8_t *k, size_t kl, const uint64_t *in, size_t n)
{
    uint8_t buf[8 * 8];
    bool zero = true;
    if (n > 8)
        return BASED_E_INTERNAL;
    for (size_t i = 0; i < n; i++) {
        zero = zero && in[i] == 0;
        chain_put_be64(buf + 8 * i, in[i]);
    }
    return zero ? chain_view_del(v, k, kl) : chain_view_put(v, k, kl, buf, n * 8);
}

void reward_put_brain(uint8_t *k, uint16_t id, uint32_t instance)
{
    k[0] = (uint8_t)(id >> 8);
    k[1] = (uint8_t)id;
    k[2] = (uint8_t)(instance >> 24);
    k[3] = (uint8_t)(instance >> 16);
    k[4] = (uint8_t)(instance >> 8);
    k[5] = (uint8_t)instance;
}

static void uid_key(uint8_t t, const contract_brain *b, uint16_t uid, uint8_t k[9])
{
    k[0] = t;
    reward_put_brain(k + 1, b->id, b->instance);
    k[7] = (uint8_t)(uid >> 8);
    k[8] = (uint8_t)uid;
}

/* ---------------- hashing and upscaling ---------------- */

chain_hash reward_commit_hash(uint16_t brain, const uint16_t *uids, const uint16_t *w, size_t n,
                              const uint8_t *salt, size_t salt_len)
{
    static const char tag[] = "based-weights";
    crypto_generichash_state hs;
    uint8_t b2[2], len[10];
    chain_hash out;
    size_t ll = 0;
    uint64_t x = n;
    crypto_generichash_init(&hs, NULL, 0, 32);
    crypto_generichash_update(&hs, (const uint8_t *)tag, sizeof tag - 1);
    b2[0] = (uint8_t)(brain >> 8), b2[1] = (uint8_t)brain;
    crypto_generichash_update(&hs, b2, 2);
    do {
        len[ll++] = (uint8_t)((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
        x >>= 7;
    } while (x);
    crypto_generichash_update(&hs, len, ll);
    for (size_t i = 0; i < n; i++) {
        b2[0] = (uint8_t)(uids[i] >> 8), b2[1] = (uint8_t)uids[i];
        crypto_generichash_update(&hs, b2, 2);
    }
    for (size_t i = 0; i < n; i++) {
        b2[0] = (uint8_t)(w[i] >> 8), b2[1] = (uint8_t)w[i];
        crypto_generichash_update(&hs, b2, 2);
    }
    crypto_generichash_update(&hs, salt, salt_len);
    crypto_generichash_final(&hs, out.b, 32);
    return out;
}

void reward_max_upscale(const uint16_t *in, size_t n, uint16_t *out)
{
    uint64_t max = 0;
    for (size_t i = 0; i < n; i++)
        max = in[i] > max ? in[i] : max;
    for (size_t i = 0; i < n; i++) {
        uint64_t q;                                   /* 32.32 */
        if (max == 0) {
            out[i] = 0;
            continue;
        }
        if (max > 32768)
            q = (uint64_t)in[i] * ((65535ull << 32) / max);
        else
            q = (uint64_t)(((contract_u128)in[i] * 65535 << 32) / max);
        q = (q + (1ull << 31)) >> 32;                 /* half away from zero */
        out[i] = (uint16_t)(q > 65535 ? 65535 : q);
    }
}

/* ---------------- stored rows and commits ---------------- */

based_err reward_weights_get(chain_view *v, const contract_brain *b, uint16_t uid, reward_wrow *r)
{
    uint8_t k[9];
    const uint8_t *val;
    size_t vl;
    chain_rbuf rb;
    r->n = 0;
    r->set_at = 0;
    uid_key(CHAIN_T_WEIGHTS, b, uid, k);
    based_err rc = chain_view_get(v, k, sizeof k, &val, &vl);
    if (rc == BASED_E_NOT_FOUND)
        return BASED_E_OK;
    if (rc != BASED_E_OK)
        return rc;
    chain_r_init(&rb, val, vl);
    r->set_at = chain_r_u64(&rb);
    uint64_t n = chain_r_uleb(&rb);
    if (n > STAKE_MAX_UIDS)
        return BASED_E_DB;
    for (size_t i = 0; i < n && !rb.err; i++) {
        r->uid[i] = chain_r_u16(&rb);
        r->val[i] = chain_r_u16(&rb);
    }
    chain_r_finish(&rb);
    r->n = (size_t)n;
    return rb.err ? BASED_E_DB : BASED_E_OK;
}

static based_err weights_put(chain_view *v, const contract_brain *b, uint16_t uid,
                             const reward_wrow *r)
{
    uint8_t k[9];
    chain_wbuf w;
    uid_key(CHAIN_T_WEIGHTS, b, uid, k);
    chain_w_init(&w, 16 + 4 * STAKE_MAX_UIDS);
    chain_w_u64(&w, r->set_at);
    chain_w_uleb(&w, r->n);
    for (size_t i = 0; i < r->n; i++) {
        chain_w_u16(&w, r->uid[i]);
        chain_w_u16(&w, r->val[i]);
    }
    based_err rc = w.err ? BASED_E_NOMEM : chain_view_put(v, k, sizeof k, w.p, w.len);
    chain_w_free(&w);
    return rc;
}

typedef struct {
    chain_hash hash;
    uint64_t height;
    bool revealed;
    bool present;
} wcommit;

static based_err commit_get(chain_view *v, const contract_brain *b, uint16_t uid, wcommit *c)
{
    uint8_t k[9];
    const uint8_t *val;
    size_t vl;
    memset(c, 0, sizeof *c);
    uid_key(CHAIN_T_WCOMMIT, b, uid, k);
    based_err rc = chain_view_get(v, k, sizeof k, &val, &vl);
    if (rc == BASED_E_NOT_FOUND)
        return BASED_E_OK;
    if (rc != BASED_E_OK)
        return rc;
    if (vl != 41)
        return BASED_E_DB;
    memcpy(c->hash.b, val, 32);
    c->height = chain_get_be64(val + 32);
    c->revealed = val[40] != 0;
    c->present = true;
    return BASED_E_OK;
}

static based_err commit_put(chain_view *v, const contract_brain *b, uint16_t uid, const wcommit *c)
{
    uint8_t k[9], val[41];
    uid_key(CHAIN_T_WCOMMIT, b, uid, k);
    memcpy(val, c->hash.b, 32);
    chain_put_be64(val + 32, c->height);
    val[40] = c->revealed;
    return chain_view_put(v, k, sizeof k, val, sizeof val);
}

/* The sender's validator uid on an active Brain. */
static based_err sender_validator(chain_exec *ex, const chain_tx *tx, uint64_t id,
                                  contract_brain *b, stake_neuron *n, const char **why)
{
    uint16_t uid;
    based_err rc = contract_brain_get(ex->txview, id, b);
    if (rc == BASED_E_NOT_FOUND)
        return *why = "brain (no such active Brain)", rc;
    if (rc != BASED_E_OK)
        return rc;
    rc = stake_uid_of(ex->txview, b, &tx->sender, &uid);
    if (rc == BASED_E_NOT_FOUND)
        return *why = "brain (sender is not registered on it)", BASED_E_NOT_REGISTERED;
    if (rc == BASED_E_OK)
        rc = stake_neuron_get(ex->txview, b, uid, n);
    if (rc == BASED_E_OK && n->role != STAKE_VALIDATOR)
        return *why = "brain (sender is not a validator of it)", BASED_E_NOT_VALIDATOR;
    return rc;
}

/* ---------------- weights_commit ---------------- */

static const contract_pfield commit_f[] = {
    { "brain", CP_U16, CONTRACT_MAX_BRAINS - 1, false, NULL },
    { "commit", CP_HASH, 0, false, NULL },
};
static const contract_payload commit_spec = { commit_f, BASED_ARRAY_LEN(commit_f) };

static based_err commit_apply(chain_exec *ex, const chain_tx *tx, const contract_pval *v,
                              const char **why)
{
    contract_brain b;
    stake_neuron n;
    wcommit c;
    based_err rc = sender_validator(ex, tx, v[0].u, &b, &n, why);
    if (rc == BASED_E_OK)
        rc = commit_get(ex->txview, &b, n.uid, &c);
    if (rc != BASED_E_OK)
        return rc;
    if (c.present && c.height >= n.registered_at &&
        ex->height - c.height < REWARD_PARAM(ex, weights_rate_limit))
        return *why = "commit (weights_rate_limit blocks since the last commit)",
               BASED_E_RATE_LIMITED;
    memcpy(c.hash.b, v[1].b, 32);
    c.height = ex->height;
    c.revealed = false;
    uint64_t win = reward_window(REWARD_PARAM(ex, tempo), b.id, ex->height);
    CONTRACT_EVENT(ex, "weights_committed", "{s:i,s:i,s:I}", "brain", b.id, "uid", n.uid,
                   "reveal_window", (json_int_t)(win + 1));
    return commit_put(ex->txview, &b, n.uid, &c);
}

CONTRACT_KIND(reward_wcommit, REWARD_KIND_WEIGHTS_COMMIT, "weights_commit", commit_spec, NULL,
              commit_apply, NULL);

/* ---------------- weights_reveal: payload ---------------- */

typedef struct {
    uint16_t brain;
    size_t n;
    uint16_t uid[STAKE_MAX_UIDS];
    uint16_t w[STAKE_MAX_UIDS];
    size_t salt_len;
    uint8_t salt[REWARD_SALT_MAX];
} reveal_p;

static based_err reveal_decode(const uint8_t *p, size_t n, reveal_p *r, const char **why)
{
    chain_rbuf rb;
    chain_r_init(&rb, p, n);
    r->brain = chain_r_u16(&rb);
    uint64_t cnt = chain_r_uleb(&rb);
    if (rb.err || cnt > STAKE_MAX_UIDS)
        return *why = "uids", BASED_E_DECODE;
    r->n = (size_t)cnt;
    for (size_t i = 0; i < r->n; i++)
        r->uid[i] = chain_r_u16(&rb);
    for (size_t i = 0; i < r->n; i++)
        r->w[i] = chain_r_u16(&rb);
    uint64_t sl = chain_r_uleb(&rb);
    if (rb.err || sl > REWARD_SALT_MAX)
        return *why = "salt", BASED_E_DECODE;
    r->salt_len = (size_t)sl;
    chain_r_raw(&rb, r->salt, r->salt_len);
    chain_r_finish(&rb);
    if (rb.err)
        return *why = "payload", BASED_E_DECODE;
    if (r->brain >= CONTRACT_MAX_BRAINS)
        return *why = "brain", BASED_E_BAD_PARAM;
    return BASED_E_OK;
}

static void reveal_encode(const reveal_p *r, chain_wbuf *w)
{
    chain_w_u16(w, r->brain);
    chain_w_uleb(w, r->n);
    for (size_t i = 0; i < r->n; i++)
        chain_w_u16(w, r->uid[i]);
    for (size_t i = 0; i < r->n; i++)
        chain_w_u16(w, r->w[i]);
    chain_w_uleb(w, r->salt_len);
    chain_w_raw(w, r->salt, r->salt_len);
}

static based_err reveal_check(const uint8_t *p, size_t n, const char **why)
{
    reveal_p *r = malloc(sizeof *r);
    based_err rc = r ? reveal_decode(p, n, r, why) : BASED_E_NOMEM;
    free(r);
    return rc;
}

static json_t *u16_array(const uint16_t *a, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_integer(a[i]));
    return arr;
}

static json_t *reveal_to_json(const uint8_t *p, size_t n, uint16_t prefix)
{
    const char *why;
    char hex[2 * REWARD_SALT_MAX + 3] = "0x";
    (void)prefix;
    reveal_p *r = malloc(sizeof *r);
    if (!r || reveal_decode(p, n, r, &why) != BASED_E_OK) {
        free(r);
        return json_null();
    }
    chain_hex(r->salt, r->salt_len, hex + 2);
    json_t *o = json_pack("{s:i,s:o,s:o,s:s}", "brain", r->brain, "uids", u16_array(r->uid, r->n),
                          "weights", u16_array(r->w, r->n), "salt", hex);
    free(r);
    return o;
}

static based_err u16_list(json_t *a, uint16_t *out, size_t *n)
{
    if (!json_is_array(a) || json_array_size(a) > STAKE_MAX_UIDS)
        return BASED_E_BAD_PARAM;
    *n = json_array_size(a);
    for (size_t i = 0; i < *n; i++) {
        json_t *x = json_array_get(a, i);
        if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 65535)
            return BASED_E_BAD_PARAM;
        out[i] = (uint16_t)json_integer_value(x);
    }
    return BASED_E_OK;
}

static based_err reveal_fill(json_t *obj, reveal_p *r, const char **why)
{
    json_t *b = json_object_get(obj, "brain"), *s = json_object_get(obj, "salt");
    size_t nw = 0;
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        if (strcmp(key, "brain") && strcmp(key, "uids") && strcmp(key, "weights") &&
            strcmp(key, "salt"))
            return *why = "unknown key", BASED_E_BAD_PARAM;
    }
    if (!json_is_integer(b) || json_integer_value(b) < 0 ||
        json_integer_value(b) >= CONTRACT_MAX_BRAINS)
        return *why = "brain", BASED_E_BAD_PARAM;
    r->brain = (uint16_t)json_integer_value(b);
    if (u16_list(json_object_get(obj, "uids"), r->uid, &r->n) != BASED_E_OK)
        return *why = "uids", BASED_E_BAD_PARAM;
    if (u16_list(json_object_get(obj, "weights"), r->w, &nw) != BASED_E_OK || nw != r->n)
        return *why = "weights (one u16 per uid)", BASED_E_BAD_PARAM;
    const char *hs = json_string_value(s);
    if (!hs)
        return *why = "salt", BASED_E_BAD_PARAM;
    if (hs[0] == '0' && (hs[1] == 'x' || hs[1] == 'X'))
        hs += 2;
    size_t hl = strlen(hs);
    if (hl % 2 || hl / 2 > REWARD_SALT_MAX || chain_unhex(hs, r->salt, hl / 2) != BASED_E_OK)
        return *why = "salt (hex, at most 64 bytes)", BASED_E_BAD_HEX;
    r->salt_len = hl / 2;
    return BASED_E_OK;
}

static based_err reveal_from_json(json_t *obj, uint16_t prefix, chain_wbuf *out, const char **why)
{
    (void)prefix;
    if (!json_is_object(obj))
        return *why = "payload", BASED_E_BAD_PARAM;
    reveal_p *r = calloc(1, sizeof *r);
    based_err rc = r ? reveal_fill(obj, r, why) : BASED_E_NOMEM;
    if (rc == BASED_E_OK)
        reveal_encode(r, out);
    free(r);
    return rc == BASED_E_OK && out->err ? BASED_E_NOMEM : rc;
}

/* ---------------- weights_reveal: rules ---------------- */

/* Did the sender hold a permit after the Brain's last epoch (all do before
 * the first)? */
static based_err has_permit(chain_exec *ex, const contract_brain *b, uint16_t uid, bool *permit)
{
    reward_brain r;
    reward_epoch_rec e;
    based_err rc = reward_brain_get(ex->txview, b, &r);
    *permit = true;
    if (rc != BASED_E_OK || r.epochs == 0)
        return rc;
    rc = reward_epoch_rec_get(ex->txview, b->id, b->instance, r.epochs - 1, &e);
    if (rc != BASED_E_OK)
        return rc;
    *permit = uid < e.n && e.nr[uid].permit;
    reward_epoch_rec_free(&e);
    return BASED_E_OK;
}

/* Uids: within the Brain, no duplicates, registered miners. */
static based_err check_uids(chain_exec *ex, const contract_brain *b, const reveal_p *r,
                            const char **why)
{
    static uint8_t seen[STAKE_MAX_UIDS];
    memset(seen, 0, sizeof seen);
    if (r->n > b->n_uids)
        return *why = "uids (more than the Brain has)", BASED_E_BAD_PARAM;
    for (size_t i = 0; i < r->n; i++) {
        stake_neuron n;
        if (r->uid[i] >= b->n_uids)
            return *why = "uids (no such uid)", BASED_E_BAD_PARAM;
        if (seen[r->uid[i]]++)
            return *why = "uids (duplicate)", BASED_E_BAD_PARAM;
        based_err rc = stake_neuron_get(ex->txview, b, r->uid[i], &n);
        if (rc != BASED_E_OK)
            return rc;
        if (n.role != STAKE_MINER)
            return *why = "uids (weights go to miners only)", BASED_E_BAD_PARAM;
    }
    uint64_t min = REWARD_PARAM(ex, min_allowed_weights);
    if (r->n < (min < b->n_miners ? min : b->n_miners))
        return *why = "uids (fewer than min_allowed_weights)", BASED_E_TOO_FEW_WEIGHTS;
    return BASED_E_OK;
}

/* max(w) / sum(w) <= limit / 65535, exactly. */
static based_err check_max_weight(chain_exec *ex, const reveal_p *r, const char **why)
{
    uint64_t limit = REWARD_PARAM(ex, max_weights_limit), max = 0, sum = 0;
    if (limit >= 65535)
        return BASED_E_OK;
    for (size_t i = 0; i < r->n; i++) {
        sum += r->w[i];
        max = r->w[i] > max ? r->w[i] : max;
    }
    if (sum > 0 && max * 65535 > limit * sum)
        return *why = "weights (a weight above max_weights_limit)", BASED_E_MAX_WEIGHT;
    return BASED_E_OK;
}

static int pair_cmp(const void *a, const void *b)
{
    const uint16_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

static based_err store_row(chain_exec *ex, const contract_brain *b, uint16_t uid, const reveal_p *r)
{
    reward_wrow *row = malloc(sizeof *row);
    uint16_t (*pairs)[2] = malloc((r->n ? r->n : 1) * sizeof *pairs);
    uint16_t *up = malloc((r->n ? r->n : 1) * sizeof *up);
    based_err rc = row && pairs && up ? BASED_E_OK : BASED_E_NOMEM;
    if (rc == BASED_E_OK) {
        reward_max_upscale(r->w, r->n, up);
        for (size_t i = 0; i < r->n; i++)
            pairs[i][0] = r->uid[i], pairs[i][1] = up[i];
        qsort(pairs, r->n, sizeof *pairs, pair_cmp);
        row->set_at = ex->height;
        row->n = r->n;
        for (size_t i = 0; i < r->n; i++)
            row->uid[i] = pairs[i][0], row->val[i] = pairs[i][1];
        rc = weights_put(ex->txview, b, uid, row);
    }
    free(row);
    free(pairs);
    free(up);
    return rc;
}

static based_err reveal_rules(chain_exec *ex, const contract_brain *b, const stake_neuron *n,
                              const reveal_p *r, const char **why)
{
    wcommit c;
    bool permit;
    uint64_t tempo = REWARD_PARAM(ex, tempo);
    based_err rc = commit_get(ex->txview, b, n->uid, &c);
    if (rc != BASED_E_OK)
        return rc;
    if (!c.present || c.revealed || c.height < n->registered_at)
        return *why = "brain (no open commit of the sender)", BASED_E_NO_COMMIT;
    uint64_t wc = reward_window(tempo, b->id, c.height), wn = reward_window(tempo, b->id, ex->height);
    if (wn <= wc)
        return *why = "reveal (in the window after the commit's)", BASED_E_REVEAL_TOO_EARLY;
    if (wn > wc + 1)
        return *why = "reveal (the commit's reveal window has passed)", BASED_E_REVEAL_TOO_LATE;
    chain_hash h = reward_commit_hash(r->brain, r->uid, r->w, r->n, r->salt, r->salt_len);
    if (!chain_hash_eq(&h, &c.hash))
        return *why = "reveal (hash of brain, uids, weights, salt)", BASED_E_REVEAL_MISMATCH;
    if ((rc = has_permit(ex, b, n->uid, &permit)) != BASED_E_OK)
        return rc;
    if (!permit)
        return *why = "brain (no validator permit from the last epoch)", BASED_E_NO_PERMIT;
    if ((rc = check_uids(ex, b, r, why)) != BASED_E_OK)
        return rc;
    if ((rc = check_max_weight(ex, r, why)) != BASED_E_OK)
        return rc;
    c.revealed = true;
    if ((rc = commit_put(ex->txview, b, n->uid, &c)) != BASED_E_OK)
        return rc;
    return store_row(ex, b, n->uid, r);
}

static based_err reveal_apply(chain_exec *ex, const chain_tx *tx, const char **why)
{
    contract_brain b;
    stake_neuron n;
    reveal_p *r = malloc(sizeof *r);
    based_err rc = r ? reveal_decode(tx->payload, tx->payload_len, r, why) : BASED_E_NOMEM;
    if (rc == BASED_E_OK)
        rc = sender_validator(ex, tx, r->brain, &b, &n, why);
    if (rc == BASED_E_OK)
        rc = reveal_rules(ex, &b, &n, r, why);
    if (rc == BASED_E_OK)
        CONTRACT_EVENT(ex, "weights_set", "{s:i,s:i,s:i}", "brain", b.id, "uid", n.uid, "count",
                       (int)r->n);
    free(r);
    return rc;
}

const chain_kind reward_wreveal_kind = {
    REWARD_KIND_WEIGHTS_REVEAL, "weights_reveal", reveal_check, NULL, reveal_apply,
    reveal_to_json, reveal_from_json
};
