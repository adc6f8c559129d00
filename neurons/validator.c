/*
 * validator.c: based-validator's state and its pure rules (validator.h):
 * the state file, score smoothing, weights, duplicate answers, and when
 * commit-reveal is due.
 *
 * The state file is JSON (version 1):
 *   {"version":1,"brain":B,"validator":"0x<32-byte address>","round":R,
 *    "last_height":H,"last_commit":C,
 *    "pending":null | {"tx":"0x..","height":H,"uids":[..],"weights":[..],"salt":"0x.."},
 *    "miners":[{"uid":U,"address":"0x..","ema":E,"missed":M,"scored":S},...]}
 * Loading is strict: every field present with its type and range, uids
 * ascending and unique, scores finite in [0, 1]; anything else is a
 * corrupt file, reported with the file and the field.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/util.h"
#include "neurons/validator.h"
#include "rewards/rewards.h"

#define STATE_VERSION 1

void neuron_val_state_init(neuron_val_state *s, uint16_t brain, const chain_addr *validator)
{
    memset(s, 0, sizeof *s);
    s->brain = brain;
    s->validator = *validator;
}

/* ---------------- saving ---------------- */

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char buf[2 * 64 + 3] = "0x";
    if (n > 64)
        return json_null();
    chain_hex(p, n, buf + 2);
    return json_string(buf);
}

static json_t *pending_json(const neuron_val_commit *p)
{
    if (!p->present)
        return json_null();
    json_t *u = json_array(), *w = json_array();
    for (size_t i = 0; i < p->n; i++) {
        json_array_append_new(u, json_integer(p->uid[i]));
        json_array_append_new(w, json_integer(p->w[i]));
    }
    return json_pack("{s:o,s:I,s:o,s:o,s:o}", "tx", hex_json(p->tx.b, 32), "height",
                     (json_int_t)p->height, "uids", u, "weights", w, "salt",
                     hex_json(p->salt, sizeof p->salt));
}

static json_t *state_json(const neuron_val_state *s)
{
    json_t *m = json_array();
    for (size_t i = 0; i < s->n; i++) {
        const neuron_val_miner *x = &s->m[i];
        json_array_append_new(m, json_pack("{s:i,s:o,s:f,s:I,s:I}", "uid", x->uid, "address",
                                           hex_json(x->addr.b, 32), "ema", x->ema, "missed",
                                           (json_int_t)x->missed, "scored",
                                           (json_int_t)x->scored));
    }
    return json_pack("{s:i,s:i,s:o,s:I,s:I,s:I,s:o,s:o}", "version", STATE_VERSION, "brain",
                     s->brain, "validator", hex_json(s->validator.b, 32), "round",
                     (json_int_t)s->round, "last_height", (json_int_t)s->last_height,
                     "last_commit", (json_int_t)s->last_commit, "pending",
                     pending_json(&s->pending), "miners", m);
}

static based_err write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return BASED_E_IO;
        p += w;
        n -= (size_t)w;
    }
    return BASED_E_OK;
}

/* fsync of the directory holding path (so the rename is durable). */
static void sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

based_err neuron_val_state_save(const neuron_val_state *s, const char *path, char *err)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return cli_fail(err, BASED_E_IO, "state file path too long: %s", path);
    json_t *j = state_json(s);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(j);
    if (!text)
        return cli_fail(err, BASED_E_NOMEM, "out of memory writing the state");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    based_err rc = fd < 0 ? BASED_E_IO : write_all(fd, text, strlen(text));
    if (rc == BASED_E_OK)
        rc = write_all(fd, "\n", 1);
    if (rc == BASED_E_OK && fsync(fd) != 0)
        rc = BASED_E_IO;
    int e = errno;
    if (fd >= 0 && close(fd) != 0 && rc == BASED_E_OK)
        rc = BASED_E_IO, e = errno;
    free(text);
    if (rc == BASED_E_OK && rename(tmp, path) != 0)
        rc = BASED_E_IO, e = errno;
    if (rc != BASED_E_OK) {
        unlink(tmp);
        return cli_fail(err, rc, "cannot write the state file %s: %s", path, strerror(e));
    }
    sync_dir(path);
    return BASED_E_OK;
}

/* ---------------- loading ---------------- */

static bool get_u64(json_t *o, const char *k, uint64_t max, uint64_t *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

static bool get_hex(json_t *o, const char *k, uint8_t *out, size_t n)
{
    const char *s = json_string_value(json_object_get(o, k));
    if (!s || s[0] != '0' || s[1] != 'x' || strlen(s + 2) != 2 * n)
        return false;
    return chain_unhex(s + 2, out, n) == BASED_E_OK;
}

/* Reads a JSON array of u16 of at most cap entries. */
static bool get_u16s(json_t *o, const char *k, uint16_t *out, size_t cap, size_t *n)
{
    json_t *a = json_object_get(o, k), *x;
    size_t i;
    if (!json_is_array(a) || json_array_size(a) > cap)
        return false;
    json_array_foreach(a, i, x) {
        if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 65535)
            return false;
        out[i] = (uint16_t)json_integer_value(x);
    }
    *n = json_array_size(a);
    return true;
}

static const char *parse_pending(json_t *p, neuron_val_commit *c)
{
    size_t nw = 0;
    memset(c, 0, sizeof *c);
    if (json_is_null(p))
        return NULL;
    if (!json_is_object(p))
        return "pending";
    if (!get_hex(p, "tx", c->tx.b, 32))
        return "pending.tx";
    if (!get_u64(p, "height", UINT64_MAX >> 1, &c->height))
        return "pending.height";
    if (!get_u16s(p, "uids", c->uid, NEURON_VAL_MAX_UIDS, &c->n))
        return "pending.uids";
    if (!get_u16s(p, "weights", c->w, NEURON_VAL_MAX_UIDS, &nw) || nw != c->n)
        return "pending.weights";
    if (!get_hex(p, "salt", c->salt, sizeof c->salt))
        return "pending.salt";
    c->present = true;
    return NULL;
}

static const char *parse_miner(json_t *o, neuron_val_miner *m, int prev_uid)
{
    uint64_t u, missed, scored;
    json_t *e = json_object_get(o, "ema");
    if (!json_is_object(o) || !get_u64(o, "uid", 65535, &u) || (int)u <= prev_uid)
        return "uid (0..65535, ascending, unique)";
    if (!get_hex(o, "address", m->addr.b, 32))
        return "address";
    if (!json_is_number(e) || !isfinite(json_number_value(e)) || json_number_value(e) < 0 ||
        json_number_value(e) > 1)
        return "ema (a number in [0, 1])";
    if (!get_u64(o, "missed", UINT32_MAX, &missed) || !get_u64(o, "scored", UINT32_MAX, &scored))
        return "missed/scored";
    m->uid = (uint16_t)u;
    m->ema = json_number_value(e);
    m->missed = (uint32_t)missed;
    m->scored = (uint32_t)scored;
    return NULL;
}

/* Fills t from j; returns the field that is wrong, NULL when all is well. */
static const char *parse_state(json_t *j, neuron_val_state *t)
{
    uint64_t v, brain, round;
    json_t *miners = json_object_get(j, "miners"), *x;
    size_t i;
    if (!json_is_object(j))
        return "the top level (not a JSON object)";
    if (!get_u64(j, "version", 255, &v) || v != STATE_VERSION)
        return "version";
    if (!get_u64(j, "brain", 65535, &brain))
        return "brain";
    t->brain = (uint16_t)brain;
    if (!get_hex(j, "validator", t->validator.b, 32))
        return "validator";
    if (!get_u64(j, "round", UINT32_MAX, &round))
        return "round";
    t->round = (uint32_t)round;
    if (!get_u64(j, "last_height", UINT64_MAX >> 1, &t->last_height))
        return "last_height";
    if (!get_u64(j, "last_commit", UINT64_MAX >> 1, &t->last_commit))
        return "last_commit";
    const char *why = parse_pending(json_object_get(j, "pending"), &t->pending);
    if (why)
        return why;
    if (!json_is_array(miners) || json_array_size(miners) > NEURON_VAL_MAX_UIDS)
        return "miners";
    json_array_foreach(miners, i, x) {
        if ((why = parse_miner(x, &t->m[i], i ? t->m[i - 1].uid : -1)) != NULL)
            return why;
    }
    t->n = json_array_size(miners);
    return NULL;
}

static based_err corrupt(const char *path, const char *what, char *err)
{
    return cli_fail(err, BASED_E_DECODE,
                    "the state file %s is corrupt (%s): move it aside to start afresh (scores "
                    "and the round counter restart), or restore a good copy", path, what);
}

based_err neuron_val_state_load(neuron_val_state *s, const char *path, char *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0 && errno == ENOENT)
        return BASED_E_NOT_FOUND;
    char *text = NULL, why[CLI_ERR_LEN];
    size_t len = 0;
    based_err rc = cli_read_file(path, NEURON_VAL_STATE_MAX, false, &text, &len, why);
    if (rc == BASED_E_TOO_LARGE)
        return corrupt(path, "larger than any state file", err);
    if (rc != BASED_E_OK)
        return cli_fail(err, rc, "cannot read the state file: %s", why);
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!j) {
        snprintf(why, sizeof why, "line %d: %s", je.line, je.text);
        return corrupt(path, why, err);
    }
    neuron_val_state *t = malloc(sizeof *t);
    if (!t) {
        json_decref(j);
        return cli_fail(err, BASED_E_NOMEM, "out of memory reading %s", path);
    }
    neuron_val_state_init(t, 0, &s->validator);
    const char *bad = parse_state(j, t);
    json_decref(j);
    if (bad)
        rc = corrupt(path, bad, err);
    else if (t->brain != s->brain || memcmp(t->validator.b, s->validator.b, 32) != 0)
        rc = cli_fail(err, BASED_E_BAD_PARAM,
                      "the state file %s belongs to Brain %u or another key, not Brain %u and "
                      "this key: give --state another file", path, t->brain, s->brain);
    else
        *s = *t;
    free(t);
    return rc;
}

/* ---------------- smoothing ---------------- */

neuron_val_miner *neuron_val_entry(neuron_val_state *s, uint16_t uid, const chain_addr *addr)
{
    size_t i = 0;
    while (i < s->n && s->m[i].uid < uid)
        i++;
    if (i < s->n && s->m[i].uid == uid) {
        if (memcmp(s->m[i].addr.b, addr->b, 32) != 0) {
            memset(&s->m[i], 0, sizeof s->m[i]);   /* a new account: a fresh start */
            s->m[i].uid = uid;
            s->m[i].addr = *addr;
        }
        return &s->m[i];
    }
    if (s->n == NEURON_VAL_MAX_UIDS)
        return NULL;
    memmove(&s->m[i + 1], &s->m[i], (s->n - i) * sizeof s->m[0]);
    s->n++;
    memset(&s->m[i], 0, sizeof s->m[i]);
    s->m[i].uid = uid;
    s->m[i].addr = *addr;
    return &s->m[i];
}

bool neuron_val_gate_forfeits(int gate)
{
    return gate == NEURON_GATE_SIGNATURE || gate == NEURON_GATE_CHALLENGE ||
           gate == NEURON_GATE_DUPLICATE || gate == NEURON_GATE_SEAL ||
           gate == NEURON_GATE_DECODE;
}

void neuron_val_forfeit(neuron_val_miner *m)
{
    m->ema = 0;
    if (m->scored == 0)
        m->scored = 1;   /* the next score is averaged into 0, not taken as is */
}

void neuron_val_record(neuron_val_miner *m, double score, bool missed, double alpha)
{
    if (!(score >= 0))
        score = 0;   /* NaN too */
    if (score > 1)
        score = 1;
    m->ema = m->scored == 0 ? score : alpha * score + (1 - alpha) * m->ema;
    if (m->ema < 0)
        m->ema = 0;
    if (m->ema > 1)
        m->ema = 1;
    if (m->scored < UINT32_MAX)
        m->scored++;
    if (missed && m->missed < UINT32_MAX)
        m->missed++;
}

void neuron_val_retain(neuron_val_state *s, const neuron_info *list, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        bool keep = false;
        for (size_t j = 0; j < n && !keep; j++)
            keep = list[j].uid == s->m[i].uid && !list[j].validator &&
                   !memcmp(list[j].addr.b, s->m[i].addr.b, 32);
        if (keep)
            s->m[k++] = s->m[i];
    }
    s->n = k;
}

/* ---------------- weights and duplicates ---------------- */

size_t neuron_val_weights(const neuron_val_state *s, uint16_t *uid, uint16_t *w)
{
    double max = 0;
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->m[i].ema > max)
            max = s->m[i].ema;
    if (!(max > 0))
        return 0;
    for (size_t i = 0; i < s->n; i++) {
        double x = floor(65535.0 * s->m[i].ema / max + 0.5);
        if (x < 1)
            continue;
        uid[k] = s->m[i].uid;
        w[k++] = (uint16_t)(x > 65535 ? 65535 : x);
    }
    return k;
}

static bool same_tokens(const neuron_answer *x, const neuron_answer *y)
{
    return x->n == y->n && memcmp(x->tokens, y->tokens, (size_t)x->n * sizeof x->tokens[0]) == 0;
}

/* An answer still in the running: OK, or already marked a duplicate here. */
static bool candidate(const neuron_answer *const *a, const int *gate, size_t i)
{
    return a[i] && (gate[i] == NEURON_GATE_OK || gate[i] == NEURON_GATE_DUPLICATE);
}

void neuron_val_duplicates(const neuron_answer *const *a, int *gate, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!candidate(a, gate, i))
            continue;
        for (size_t j = i + 1; j < n; j++)
            if (candidate(a, gate, j) && same_tokens(a[i], a[j]))
                gate[i] = gate[j] = NEURON_GATE_DUPLICATE;
    }
}

/* ---------------- commit-reveal ---------------- */

bool neuron_val_reveal_due(const neuron_val_state *s, uint64_t tempo, uint64_t next,
                           bool *too_late)
{
    *too_late = false;
    if (!s->pending.present || s->pending.height == 0)
        return false;
    uint64_t wc = reward_window(tempo, s->brain, s->pending.height);
    uint64_t wn = reward_window(tempo, s->brain, next);
    *too_late = wn > wc + 1;
    return wn == wc + 1;
}

bool neuron_val_commit_due(const neuron_val_state *s, uint64_t tempo, uint64_t rate_limit,
                           uint64_t next)
{
    if (s->pending.present)
        return false;
    if (s->last_commit == 0)
        return true;
    if (next <= s->last_commit || next - s->last_commit < rate_limit)
        return false;
    return reward_window(tempo, s->brain, next) != reward_window(tempo, s->brain, s->last_commit);
}
