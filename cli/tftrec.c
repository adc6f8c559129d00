/*
 * tftrec.c: the devnet series recorder (contract in tftrec.h).
 *
 * Three parts: reading (epoch records per Brain with rewards_getEpoch,
 * blocks with chain_getBlock, following the head until `to`), reducing
 * (each epoch record to one compact row per neuron; each block into its
 * bucket's sums) and writing (series grouped by occupant, network series
 * from the buckets). Every JSON value is checked before use; a missing or
 * mistyped field is an error naming the method and the field.
 */
#include <jansson.h>
#include <time.h>

#include "cli/rpcclient.h"
#include "cli/tftrec.h"
#include "cli/util.h"
#include "chain/base.h"

#define MAX_UIDS 2048

typedef struct {
    uint16_t uid;
    uint8_t role;             /* 0 miner, 1 validator */
    uint16_t target;          /* incentive or dividends, u16 */
    uint16_t nval;
    uint64_t reg;             /* registered_at */
    uint64_t stake;           /* base units */
    double wmean, wsd;
} nrow;

typedef struct {
    uint64_t epoch, height, instance, emission;
    uint64_t stake_total;
    size_t n;
    nrow *nr;
} erec;

typedef struct {
    int id;
    bool started;             /* next is valid */
    uint64_t next;            /* next epoch number to read */
    erec *e;
    size_t n, cap;
} brec;

typedef struct {
    uint64_t txs, bytes, nblocks;
    int64_t t_prev, t_last;   /* time_ms of the block before the bucket, of its last block */
    uint64_t active;
    bool done;
} bucket;

typedef struct {
    const cli_tftrec_opts *o;
    cli_rpc *rpc;
    char *err;
    uint64_t tempo, bpy, N, block_ms;
    uint64_t from, to;
    bool from_given;
    brec b[CLI_TFTREC_MAX_BRAINS];
    int nb;
    /* blocks */
    uint64_t next_block, b0;  /* next height to read; first bucket index */
    int64_t t_before;         /* time_ms of the block before next_block */
    bucket *bk;
    size_t nbk, capbk;
    char **senders;           /* the current bucket's senders */
    size_t nsend, capsend;
} rec;

/* ---------------- RPC and JSON helpers ---------------- */

static based_err call(rec *r, const char *method, json_t *params, json_t **res)
{
    cli_rpc_error e;
    based_err rc = cli_rpc_call(r->rpc, method, params, res, &e);
    json_decref(params);
    if (rc != BASED_E_OK)
        cli_fail(r->err, rc, "%s: %s", method, e.line);
    return rc;
}

static based_err bad(rec *r, const char *method, const char *field)
{
    return cli_fail(r->err, BASED_E_DECODE,
                    "the node's %s result has no usable \"%s\" (is --rpc a based node of "
                    "this version?)", method, field);
}

/* An unsigned integer given as a JSON integer or a decimal string. */
static bool ju64(json_t *o, const char *k, uint64_t *v)
{
    json_t *x = o ? json_object_get(o, k) : NULL;
    if (json_is_integer(x) && json_integer_value(x) >= 0) {
        *v = (uint64_t)json_integer_value(x);
        return true;
    }
    if (json_is_string(x)) {
        const char *s = json_string_value(x);
        char *end;
        if (*s < '0' || *s > '9')
            return false;
        unsigned long long u = strtoull(s, &end, 10);
        if (*end)
            return false;
        *v = (uint64_t)u;
        return true;
    }
    return false;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void logf_(rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(rec *r, const char *fmt, ...)
{
    if (!r->o->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("based-tft: ", r->o->log);
    vfprintf(r->o->log, fmt, ap);
    fputc('\n', r->o->log);
    va_end(ap);
}

/* ---------------- epoch records ---------------- */

/* The row-normalised weight uid `j` got in each row of W: count of
 * non-zero, mean and population sd over all rows. For a validator uid,
 * the same statistics over its own row's non-zero entries. */
static void weight_stats(json_t *W, uint16_t uid, uint8_t role, nrow *x)
{
    const char *k;
    json_t *row;
    double sum = 0, sum2 = 0;
    size_t n = 0;
    x->nval = 0;
    if (role == 1) {
        char key[16];
        snprintf(key, sizeof key, "%u", uid);
        row = json_object_get(W, key);
        double tot = 0;
        size_t i;
        json_t *p;
        json_array_foreach(row, i, p) tot += (double)json_integer_value(json_array_get(p, 1));
        json_array_foreach(row, i, p) {
            double w = (double)json_integer_value(json_array_get(p, 1));
            if (w > 0 && tot > 0) {
                sum += w / tot;
                sum2 += (w / tot) * (w / tot);
                n++;
            }
        }
        x->nval = (uint16_t)(n > 65535 ? 65535 : n);
    } else {
        json_object_foreach(W, k, row) {
            double tot = 0, mine = 0;
            size_t i;
            json_t *p;
            json_array_foreach(row, i, p) {
                double w = (double)json_integer_value(json_array_get(p, 1));
                tot += w;
                if (json_integer_value(json_array_get(p, 0)) == uid)
                    mine = w;
            }
            double s = tot > 0 ? mine / tot : 0;
            if (s > 0 && x->nval < 65535)
                x->nval++;
            sum += s;
            sum2 += s * s;
            n++;
        }
    }
    x->wmean = n ? sum / (double)n : 0;
    double var = n ? sum2 / (double)n - x->wmean * x->wmean : 0;
    /* sd by Newton steps (no libm in the recorder either: same habits) */
    double sd = var > 0 ? var : 0, g = sd > 1 ? sd : 1;
    for (int i = 0; i < 60 && sd > 0; i++)
        g = 0.5 * (g + sd / g);
    x->wsd = sd > 0 ? g : 0;
}

static based_err parse_epoch(rec *r, json_t *o, erec *e)
{
    static const char M[] = "rewards_getEpoch";
    json_t *nr = json_object_get(o, "neurons"), *W = json_object_get(o, "W");
    json_t *I = json_object_get(o, "I"), *D = json_object_get(o, "D");
    memset(e, 0, sizeof *e);
    if (!ju64(o, "epoch", &e->epoch)) return bad(r, M, "epoch");
    if (!ju64(o, "height", &e->height)) return bad(r, M, "height");
    if (!ju64(o, "instance", &e->instance)) return bad(r, M, "instance");
    if (!ju64(o, "emission_base", &e->emission)) return bad(r, M, "emission_base");
    if (!json_is_array(nr)) return bad(r, M, "neurons");
    if (!json_is_object(W)) return bad(r, M, "W");
    if (!json_is_array(I) || !json_is_array(D)) return bad(r, M, "I");
    size_t n = json_array_size(nr);
    if (n > MAX_UIDS)
        return cli_fail(r->err, BASED_E_TOO_LARGE, "%s: %zu neurons (at most %d)", M, n, MAX_UIDS);
    e->nr = calloc(n ? n : 1, sizeof *e->nr);
    if (!e->nr)
        return cli_fail(r->err, BASED_E_NOMEM, "out of memory");
    e->n = n;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(nr, i);
        nrow *y = &e->nr[i];
        uint64_t uid, reg, st, inc, div;
        const char *role = json_string_value(json_object_get(x, "role"));
        if (!ju64(x, "uid", &uid) || uid >= MAX_UIDS) return bad(r, M, "neurons[].uid");
        if (!ju64(x, "registered_at", &reg)) return bad(r, M, "neurons[].registered_at");
        if (!ju64(x, "stake_base", &st)) return bad(r, M, "neurons[].stake_base");
        if (!ju64(x, "incentive", &inc) || inc > 65535) return bad(r, M, "neurons[].incentive");
        if (!ju64(x, "dividends", &div) || div > 65535) return bad(r, M, "neurons[].dividends");
        if (!role || (strcmp(role, "miner") && strcmp(role, "validator")))
            return bad(r, M, "neurons[].role");
        y->uid = (uint16_t)uid;
        y->role = strcmp(role, "miner") ? 1 : 0;
        y->reg = reg;
        y->stake = st;
        y->target = (uint16_t)(y->role ? div : inc);
        e->stake_total += st;
        weight_stats(W, y->uid, y->role, y);
    }
    return BASED_E_OK;
}

static void erec_free(erec *e)
{
    free(e->nr);
}

static based_err get_epoch(rec *r, int brain, int64_t epoch, json_t **res)
{
    json_t *p = epoch < 0 ? json_pack("[i]", brain) : json_pack("[i,I]", brain, (json_int_t)epoch);
    return call(r, "rewards_getEpoch", p, res);
}

/* Reads the new epochs of Brain b with height <= upto. */
static based_err read_brain(rec *r, brec *b, uint64_t upto)
{
    json_t *last = NULL;
    based_err rc = get_epoch(r, b->id, -1, &last);
    if (rc == BASED_E_NOT_FOUND) {   /* no epoch yet (or no such Brain: checked at start) */
        r->err[0] = '\0';
        return BASED_E_OK;
    }
    if (rc != BASED_E_OK)
        return rc;
    uint64_t epochs, oldest;
    if (!ju64(last, "epochs", &epochs) || !ju64(last, "oldest_kept", &oldest)) {
        json_decref(last);
        return bad(r, "rewards_getEpoch", "epochs");
    }
    if (!b->started) {
        b->next = oldest;
        b->started = true;
        if (r->from_given && oldest > 0) {
            json_t *o = NULL;
            uint64_t h = 0;
            rc = get_epoch(r, b->id, (int64_t)oldest, &o);
            if (rc == BASED_E_OK && !ju64(o, "height", &h))
                rc = bad(r, "rewards_getEpoch", "height");
            json_decref(o);
            if (rc == BASED_E_OK && h > r->from + r->tempo + 1)
                rc = cli_fail(r->err, BASED_E_NOT_FOUND,
                              "Brain %d: the epochs from height %" PRIu64 " are no longer kept "
                              "(the node keeps the last 16; the oldest is epoch %" PRIu64
                              " at height %" PRIu64 "); record while the chain runs: start "
                              "gen before, with --to above the head", b->id, r->from, oldest, h);
        }
    } else if (b->next < oldest) {
        rc = cli_fail(r->err, BASED_E_NOT_FOUND,
                      "Brain %d: epoch %" PRIu64 " was pruned by the node before it was read "
                      "(it keeps 16); the recorder fell behind", b->id, b->next);
    }
    for (; rc == BASED_E_OK && b->next < epochs; b->next++) {
        json_t *o = NULL;
        if (b->next + 1 == epochs)
            o = json_incref(last);
        else if ((rc = get_epoch(r, b->id, (int64_t)b->next, &o)) != BASED_E_OK)
            break;
        erec e;
        rc = parse_epoch(r, o, &e);
        json_decref(o);
        if (rc != BASED_E_OK) {
            erec_free(&e);
            break;
        }
        if (e.height > upto) {
            erec_free(&e);
            break;
        }
        if (e.height < r->from) {
            erec_free(&e);
            continue;
        }
        if (b->n == b->cap) {
            size_t nc = b->cap ? 2 * b->cap : 64;
            erec *ne = nc <= CLI_TFTREC_MAX_EPOCHS ? realloc(b->e, nc * sizeof *ne) : NULL;
            if (!ne) {
                erec_free(&e);
                rc = cli_fail(r->err, BASED_E_TOO_LARGE,
                              "Brain %d: more than %d epochs; narrow --from/--to", b->id,
                              CLI_TFTREC_MAX_EPOCHS);
                break;
            }
            b->e = ne;
            b->cap = nc;
        }
        b->e[b->n++] = e;
    }
    json_decref(last);
    return rc;
}

/* ---------------- blocks and buckets ---------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void senders_clear(rec *r)
{
    for (size_t i = 0; i < r->nsend; i++)
        free(r->senders[i]);
    r->nsend = 0;
}

static bucket *bucket_at(rec *r, uint64_t idx)
{
    size_t i = (size_t)(idx - r->b0);
    while (r->nbk <= i) {
        if (r->nbk == r->capbk) {
            size_t nc = r->capbk ? 2 * r->capbk : 64;
            bucket *nb = realloc(r->bk, nc * sizeof *nb);
            if (!nb)
                return NULL;
            r->bk = nb;
            r->capbk = nc;
        }
        memset(&r->bk[r->nbk], 0, sizeof r->bk[0]);
        r->bk[r->nbk].t_prev = -1;
        r->nbk++;
    }
    return &r->bk[i];
}

static void bucket_close(rec *r, bucket *k)
{
    if (r->nsend)                        /* qsort's base must not be NULL */
        qsort(r->senders, r->nsend, sizeof *r->senders, cmp_str);
    uint64_t d = 0;
    for (size_t i = 0; i < r->nsend; i++)
        if (i == 0 || strcmp(r->senders[i], r->senders[i - 1]))
            d++;
    k->active = d;
    k->done = true;
    senders_clear(r);
}

static based_err add_sender(rec *r, const char *s)
{
    if (r->nsend == r->capsend) {
        size_t nc = r->capsend ? 2 * r->capsend : 256;
        char **ns = nc <= CLI_TFTREC_MAX_SENDERS ? realloc(r->senders, nc * sizeof *ns) : NULL;
        if (!ns)
            return cli_fail(r->err, BASED_E_TOO_LARGE,
                            "more than %d transactions in one bucket; use a smaller --bucket",
                            CLI_TFTREC_MAX_SENDERS);
        r->senders = ns;
        r->capsend = nc;
    }
    if (!(r->senders[r->nsend] = strdup(s)))
        return cli_fail(r->err, BASED_E_NOMEM, "out of memory");
    r->nsend++;
    return BASED_E_OK;
}

static based_err read_block(rec *r, uint64_t h)
{
    static const char M[] = "chain_getBlock";
    json_t *o = NULL;
    based_err rc = call(r, M, json_pack("[I,b]", (json_int_t)h, 1), &o);
    if (rc != BASED_E_OK)
        return rc;
    uint64_t t, ntx;
    json_t *txs = json_object_get(o, "txs");
    if (!ju64(o, "time_ms", &t) || !json_is_array(txs))
        rc = bad(r, M, "time_ms");
    else if (!ju64(o, "tx_count", &ntx) || ntx != json_array_size(txs))
        rc = bad(r, M, "tx_count");
    uint64_t idx = h / r->N;
    bucket *k = rc == BASED_E_OK && idx >= r->b0 ? bucket_at(r, idx) : NULL;
    if (rc == BASED_E_OK && idx >= r->b0 && !k)
        rc = cli_fail(r->err, BASED_E_NOMEM, "out of memory");
    if (k) {
        if (h % r->N == 0)
            k->t_prev = r->t_before;
        k->nblocks++;
        k->t_last = (int64_t)t;
        k->txs += ntx;
        size_t i;
        json_t *x;
        json_array_foreach(txs, i, x) {
            uint64_t size;
            const char *s = json_string_value(json_object_get(x, "sender"));
            if (rc != BASED_E_OK)
                break;
            if (!ju64(x, "size", &size) || !s) {
                rc = bad(r, M, "txs[].size");
                break;
            }
            k->bytes += size;
            rc = add_sender(r, s);
        }
        if (rc == BASED_E_OK && h % r->N == r->N - 1)
            bucket_close(r, k);
    }
    r->t_before = (int64_t)t;
    json_decref(o);
    return rc;
}

/* ---------------- following the chain ---------------- */

static based_err head_height(rec *r, uint64_t *h)
{
    json_t *o = NULL;
    based_err rc = call(r, "chain_getHead", NULL, &o);
    if (rc == BASED_E_OK && !ju64(o, "height", h))
        rc = bad(r, "chain_getHead", "height");
    json_decref(o);
    return rc;
}

/* Adds every Brain with neurons that is not recorded yet (brain_list). */
static based_err discover(rec *r)
{
    json_t *o = NULL;
    based_err rc = call(r, "brain_list", NULL, &o);
    if (rc != BASED_E_OK)
        return rc;
    json_t *arr = json_object_get(o, "brains"), *x;
    size_t i;
    if (!json_is_array(arr))
        rc = bad(r, "brain_list", "brains");
    json_array_foreach(arr, i, x) {
        uint64_t id, uids;
        bool have = false;
        if (rc != BASED_E_OK)
            break;
        if (!ju64(x, "id", &id) || !ju64(x, "uids", &uids)) {
            rc = bad(r, "brain_list", "brains[].uids");
            break;
        }
        for (int k = 0; k < r->nb; k++)
            have |= r->b[k].id == (int)id;
        if (uids == 0 || have)
            continue;
        if (r->nb == CLI_TFTREC_MAX_BRAINS) {
            rc = cli_fail(r->err, BASED_E_TOO_LARGE,
                          "more than %d Brains with neurons; name them with --brain",
                          CLI_TFTREC_MAX_BRAINS);
            break;
        }
        r->b[r->nb++].id = (int)id;
    }
    json_decref(o);
    return rc;
}

static based_err setup(rec *r)
{
    json_t *o = NULL;
    based_err rc = call(r, "node_getInfo", NULL, &o);
    if (rc == BASED_E_OK && !ju64(o, "block_time_ms", &r->block_ms))
        rc = bad(r, "node_getInfo", "block_time_ms");
    json_decref(o);
    o = NULL;
    if (rc == BASED_E_OK)
        rc = call(r, "rewards_getSchedule", NULL, &o);
    if (rc == BASED_E_OK && (!ju64(o, "tempo", &r->tempo) || r->tempo == 0))
        rc = bad(r, "rewards_getSchedule", "tempo");
    if (rc == BASED_E_OK && (!ju64(o, "blocks_per_year", &r->bpy) || r->bpy == 0))
        rc = bad(r, "rewards_getSchedule", "blocks_per_year");
    json_decref(o);
    if (rc != BASED_E_OK)
        return rc;
    r->N = r->o->bucket > 0 ? (uint64_t)r->o->bucket : r->tempo + 1;
    uint64_t head;
    if ((rc = head_height(r, &head)) != BASED_E_OK)
        return rc;
    r->to = r->o->to >= 0 ? (uint64_t)r->o->to : head;
    r->from_given = r->o->from >= 0;
    r->from = r->from_given ? (uint64_t)r->o->from : 0;
    if (r->from > r->to)
        return cli_fail(r->err, BASED_E_BAD_PARAM, "--from %" PRIu64 " is above --to %" PRIu64,
                        r->from, r->to);
    if (r->o->nbrains > 0) {
        for (int i = 0; i < r->o->nbrains; i++) {
            json_t *g = NULL;
            /* a Brain bought later is fine when following the chain */
            if (r->to <= head &&
                (rc = call(r, "brain_get", json_pack("[i]", r->o->brains[i]), &g)) != BASED_E_OK)
                return rc;
            json_decref(g);
            r->b[r->nb++].id = r->o->brains[i];
        }
    } else if ((rc = discover(r)) == BASED_E_OK && r->nb == 0 && r->to <= head) {
        rc = cli_fail(r->err, BASED_E_NOT_FOUND,
                      "no Brain on the node at %s has neurons yet: nothing to record",
                      cli_rpc_url(r->rpc));
    }
    if (rc != BASED_E_OK)
        return rc;
    r->b0 = (r->from + r->N - 1) / r->N;
    if (r->b0 == 0)
        r->b0 = 1;
    r->next_block = r->b0 * r->N - 1;
    if (r->to - r->from + 1 > CLI_TFTREC_MAX_BLOCKS)
        return cli_fail(r->err, BASED_E_TOO_LARGE,
                        "--from %" PRIu64 " --to %" PRIu64 " spans more than %d blocks",
                        r->from, r->to, CLI_TFTREC_MAX_BLOCKS);
    return BASED_E_OK;
}

static based_err follow(rec *r)
{
    uint64_t last_h = UINT64_MAX, last_move = now_ms(), last_log = 0;
    uint64_t poll = r->block_ms / 2 < 50 ? 50 : r->block_ms / 2;
    for (;;) {
        uint64_t head;
        based_err rc = head_height(r, &head);
        if (rc != BASED_E_OK)
            return rc;
        uint64_t upto = head < r->to ? head : r->to;
        for (; r->next_block <= upto; r->next_block++)
            if ((rc = read_block(r, r->next_block)) != BASED_E_OK)
                return rc;
        if (r->o->nbrains == 0 && (rc = discover(r)) != BASED_E_OK)
            return rc;
        for (int i = 0; i < r->nb; i++)
            if ((rc = read_brain(r, &r->b[i], upto)) != BASED_E_OK)
                return rc;
        if (head >= r->to)
            return BASED_E_OK;
        uint64_t t = now_ms();
        if (head != last_h) {
            last_h = head;
            last_move = t;
        } else if (t - last_move > CLI_TFTREC_STALL_MS) {
            return cli_fail(r->err, BASED_E_TIMEOUT,
                            "the chain at %s has stayed at height %" PRIu64 " for %d s; "
                            "--to %" PRIu64 " not reached", cli_rpc_url(r->rpc), head,
                            CLI_TFTREC_STALL_MS / 1000, r->to);
        }
        if (t - last_log >= 10000) {
            last_log = t;
            logf_(r, "following: head %" PRIu64 ", recording up to %" PRIu64 ", %zu epochs of "
                  "Brain %d", head, r->to, r->b[0].n, r->b[0].id);
        }
        sleep_ms(poll);
    }
}

/* ---------------- writing ---------------- */

typedef struct {
    int brain;
    size_t bi;                /* index into r->b */
    uint64_t instance, reg;
    uint16_t uid;
    size_t first, len;        /* epoch indices in r->b[bi].e */
} occ;

static int cmp_occ(const void *a, const void *b)
{
    const occ *x = a, *y = b;
    if (x->brain != y->brain) return x->brain < y->brain ? -1 : 1;
    if (x->instance != y->instance) return x->instance < y->instance ? -1 : 1;
    if (x->uid != y->uid) return x->uid < y->uid ? -1 : 1;
    if (x->reg != y->reg) return x->reg < y->reg ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

static const nrow *find_uid(const erec *e, uint16_t uid)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->nr[i].uid == uid)
            return &e->nr[i];
    return NULL;
}

/* Splits every Brain's epochs into occupant runs: consecutive epochs of
 * the same instance in which the uid has the same registered_at. */
static based_err occupants(rec *r, occ **out, size_t *nout)
{
    occ *v = NULL;
    size_t n = 0, cap = 0;
    size_t *cur = malloc(MAX_UIDS * sizeof *cur);   /* uid -> its open run in v, or SIZE_MAX */
    if (!cur)
        return cli_fail(r->err, BASED_E_NOMEM, "out of memory");
    for (int bi = 0; bi < r->nb; bi++) {
        brec *b = &r->b[bi];
        for (size_t u = 0; u < MAX_UIDS; u++)
            cur[u] = SIZE_MAX;
        for (size_t ei = 0; ei < b->n; ei++) {
            const erec *e = &b->e[ei];
            const erec *p = ei ? &b->e[ei - 1] : NULL;
            bool cont = p && p->instance == e->instance && p->epoch + 1 == e->epoch;
            for (size_t k = 0; k < e->n; k++) {
                const nrow *x = &e->nr[k];
                size_t j = cur[x->uid];
                if (cont && j != SIZE_MAX && v[j].reg == x->reg && v[j].first + v[j].len == ei) {
                    v[j].len++;
                    continue;
                }
                if (n == cap) {
                    size_t nc = cap ? 2 * cap : 256;
                    occ *nv = nc <= (size_t)4 * 65536 ? realloc(v, nc * sizeof *nv) : NULL;
                    if (!nv) {
                        free(v);
                        free(cur);
                        return cli_fail(r->err, BASED_E_TOO_LARGE, "more than %d series",
                                        4 * 65536);
                    }
                    v = nv;
                    cap = nc;
                }
                v[n] = (occ){ b->id, (size_t)bi, e->instance, x->reg, x->uid, ei, 1 };
                cur[x->uid] = n++;
            }
        }
    }
    free(cur);
    if (n)
        qsort(v, n, sizeof *v, cmp_occ);
    *out = v;
    *nout = n;
    return BASED_E_OK;
}

static double year_pos(const rec *r, uint64_t h)
{
    return (double)(h % r->bpy) / (double)r->bpy;
}

static void write_header(FILE *f)
{
    fputs("series,t,target,static_brain,static_role,future_epoch,future_year_pos,"
          "stake,validators,weight_mean,weight_sd,age\n", f);
}

static size_t write_occ(rec *r, const occ *s, FILE *f)
{
    const brec *b = &r->b[s->bi];
    char name[48];
    snprintf(name, sizeof name, "b%d-i%" PRIu64 "-u%u-r%" PRIu64, s->brain, s->instance,
             s->uid, s->reg);
    for (size_t i = 0; i < s->len; i++) {
        const erec *e = &b->e[s->first + i];
        const nrow *x = find_uid(e, s->uid);
        uint64_t age = e->height > x->reg ? (e->height - x->reg) / (r->tempo + 1) : 0;
        fprintf(f, "%s,%" PRIu64 ",%u,%d,%u,%" PRIu64 ",%.6f,%.9f,%u,%.6f,%.6f,%" PRIu64 "\n",
                name, e->epoch, x->target, s->brain, x->role, e->epoch, year_pos(r, e->height),
                (double)x->stake / 1e9, x->nval, x->wmean, x->wsd, age);
    }
    return s->len;
}

/* The recorded Brains' emission in bucket k and their stake at their last
 * epoch in it (stake carried forward from an earlier bucket if none). */
static void bucket_brains(rec *r, uint64_t idx, uint64_t *em, uint64_t *stake, uint64_t *carry)
{
    *em = 0;
    *stake = 0;
    for (int bi = 0; bi < r->nb; bi++) {
        const brec *b = &r->b[bi];
        for (size_t ei = 0; ei < b->n; ei++)
            if (b->e[ei].height / r->N == idx) {
                *em += b->e[ei].emission;
                carry[bi] = b->e[ei].stake_total;
            }
        *stake += carry[bi];
    }
}

static based_err write_network(rec *r, FILE *f)
{
    static const char *const names[6] = { "net-txs", "net-bytes", "net-interval",
                                          "net-active", "net-emission", "net-stake" };
    size_t nfull = 0;
    while (nfull < r->nbk && r->bk[nfull].done && r->bk[nfull].t_prev >= 0 &&
           r->bk[nfull].nblocks == r->N)
        nfull++;
    if (nfull < (size_t)(r->o->min_steps > 0 ? r->o->min_steps : 1))
        return BASED_E_OK;
    double *val = malloc(nfull * 6 * sizeof *val);
    uint64_t carry[CLI_TFTREC_MAX_BRAINS] = { 0 };
    if (!val)
        return cli_fail(r->err, BASED_E_NOMEM, "out of memory");
    for (size_t i = 0; i < nfull; i++) {
        const bucket *k = &r->bk[i];
        uint64_t em, st;
        bucket_brains(r, r->b0 + i, &em, &st, carry);
        val[i * 6 + 0] = (double)k->txs / (double)r->N;
        val[i * 6 + 1] = (double)k->bytes / (double)r->N;
        val[i * 6 + 2] = (double)(k->t_last - k->t_prev) / (double)r->N;
        val[i * 6 + 3] = (double)k->active;
        val[i * 6 + 4] = (double)em / 1e9;
        val[i * 6 + 5] = (double)st / 1e9;
    }
    for (int m = 0; m < 6; m++)
        for (size_t i = 0; i < nfull; i++) {
            uint64_t idx = r->b0 + i, h = idx * r->N;
            fprintf(f, "%s,%" PRIu64 ",%.9g,-1,2,%" PRIu64 ",%.6f,0,0,0,0,0\n", names[m], idx,
                    val[i * 6 + m], idx, year_pos(r, h));
        }
    free(val);
    return BASED_E_OK;
}

static based_err write_csv(rec *r, FILE *f)
{
    occ *v = NULL;
    size_t n = 0, written = 0;
    if (r->nb == 0)
        return cli_fail(r->err, BASED_E_NOT_FOUND,
                        "no Brain had neurons up to height %" PRIu64 ": nothing to record", r->to);
    for (int bi = 0; bi < r->nb; bi++)
        if (r->b[bi].n == 0)
            return cli_fail(r->err, BASED_E_NOT_FOUND,
                            "Brain %d has no epochs between heights %" PRIu64 " and %" PRIu64
                            " (no epochs yet? an epoch runs every %" PRIu64 " blocks once it "
                            "has neurons)", r->b[bi].id, r->from, r->to, r->tempo + 1);
    based_err rc = occupants(r, &v, &n);
    if (rc != BASED_E_OK)
        return rc;
    write_header(f);
    for (size_t i = 0; i < n; i++)
        if (v[i].len >= (size_t)(r->o->min_steps > 0 ? r->o->min_steps : 1)) {
            write_occ(r, &v[i], f);
            written++;
        }
    free(v);
    rc = write_network(r, f);
    logf_(r, "wrote %zu neuron series (of %zu) and the network series, heights %" PRIu64
          "..%" PRIu64 ", bucket %" PRIu64 " blocks", written, n, r->from, r->to, r->N);
    if (rc == BASED_E_OK && ferror(f))
        rc = cli_fail(r->err, BASED_E_IO, "write failed");
    return rc;
}

based_err cli_tftrec_run(const cli_tftrec_opts *o, FILE *out, char *err)
{
    rec *r = calloc(1, sizeof *r);
    if (!r)
        return cli_fail(err, BASED_E_NOMEM, "out of memory");
    r->o = o;
    r->err = err;
    err[0] = '\0';
    based_err rc = cli_rpc_new(o->rpc, o->cookie, &r->rpc, err);
    if (rc == BASED_E_OK)
        rc = setup(r);
    if (rc == BASED_E_OK)
        rc = follow(r);
    if (rc == BASED_E_OK)
        rc = write_csv(r, out);
    for (int i = 0; i < r->nb; i++) {
        for (size_t j = 0; j < r->b[i].n; j++)
            erec_free(&r->b[i].e[j]);
        free(r->b[i].e);
    }
    senders_clear(r);
    free(r->senders);
    free(r->bk);
    cli_rpc_free(r->rpc);
    free(r);
    return rc;
}
