/*
 * sim.c: based-sim's library half (rewards/sim.h). JSON in (jansson),
 * reward_epoch_run, JSON out; and the cabal scenario used by the docs and
 * the tests. Every value read from the input is checked and, when wrong,
 * reported with its JSON path; unknown keys are ignored, so an output can
 * be fed back as the next input. Integers only.
 */
#include <jansson.h>

#include "rewards/sim.h"
#include "rewards/epoch.h"
#include "chain/base.h"

typedef struct {
    char *err;
    size_t errlen;
} perr;

static bool fail(perr *p, const char *path, const char *what)
{
    snprintf(p->err, p->errlen, "%s: %s", path, what);
    return false;
}

/* Base units as a decimal string: 1..20 digits, no sign, fits u64. */
static bool parse_units(json_t *v, const char *path, uint64_t *out, perr *p)
{
    const char *s = json_string_value(v);
    if (!s)
        return fail(p, path, "expected a string of base units");
    size_t n = strlen(s);
    if (n == 0 || n > 20)
        return fail(p, path, "expected 1 to 20 decimal digits");
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return fail(p, path, "expected decimal digits only");
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return fail(p, path, "amount exceeds 2^64 - 1");
        x = x * 10 + d;
    }
    *out = x;
    return true;
}

static bool parse_uint(json_t *v, const char *path, uint64_t max, uint64_t *out, perr *p)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max) {
        char what[64];
        snprintf(what, sizeof what, "expected an integer in [0, %" PRIu64 "]", max);
        return fail(p, path, what);
    }
    *out = (uint64_t)json_integer_value(v);
    return true;
}

static bool opt_uint(json_t *obj, const char *key, const char *path, uint64_t max, uint64_t *out, perr *p)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return true;
    char sub[64];
    snprintf(sub, sizeof sub, "%s.%s", path, key);
    return parse_uint(v, sub, max, out, p);
}

static bool parse_params(json_t *o, reward_epoch_params *pr, perr *p)
{
    *pr = (reward_epoch_params){ REWARD_MODE_YUMA, 32767, 10, 900000, 5000, 256 };
    if (!o)
        return true;
    if (!json_is_object(o))
        return fail(p, "params", "expected an object");
    json_t *m = json_object_get(o, "mode");
    if (m) {
        const char *s = json_string_value(m);
        if (s && !strcmp(s, "yuma"))
            pr->mode = REWARD_MODE_YUMA;
        else if (s && !strcmp(s, "whitepaper"))
            pr->mode = REWARD_MODE_WHITEPAPER;
        else
            return fail(p, "params.mode", "expected \"yuma\" or \"whitepaper\"");
    }
    uint64_t kappa = pr->kappa, rho = pr->rho, mv = pr->max_validators;
    bool ok = opt_uint(o, "kappa", "params", 65535, &kappa, p) &&
              opt_uint(o, "rho", "params", 1000000, &rho, p) &&
              opt_uint(o, "bonds_moving_average", "params", 1000000, &pr->bonds_moving_average, p) &&
              opt_uint(o, "activity_cutoff", "params", (uint64_t)INT64_MAX, &pr->activity_cutoff, p) &&
              opt_uint(o, "max_validators", "params", 65535, &mv, p);
    pr->kappa = (uint16_t)kappa;
    pr->rho = (uint32_t)rho;
    pr->max_validators = (uint16_t)mv;
    return ok;
}

/* [[uid, u16], ...] with uids strictly increasing and below n. */
static bool parse_row(json_t *a, const char *path, size_t n, uint16_t *uid, uint16_t *val, size_t *m, perr *p)
{
    if (!a) {
        *m = 0;
        return true;
    }
    if (!json_is_array(a))
        return fail(p, path, "expected an array of [uid, value] pairs");
    if (json_array_size(a) > n)
        return fail(p, path, "more entries than neurons");
    for (size_t k = 0; k < json_array_size(a); k++) {
        char sub[96];
        snprintf(sub, sizeof sub, "%s[%zu]", path, k);
        json_t *e = json_array_get(a, k);
        uint64_t u, v;
        if (!json_is_array(e) || json_array_size(e) != 2)
            return fail(p, sub, "expected [uid, value]");
        if (!parse_uint(json_array_get(e, 0), sub, n ? n - 1 : 0, &u, p) || n == 0)
            return n ? false : fail(p, sub, "no neurons to point at");
        if (!parse_uint(json_array_get(e, 1), sub, 65535, &v, p))
            return false;
        if (k && u <= uid[k - 1])
            return fail(p, sub, "uids must be strictly increasing");
        uid[k] = (uint16_t)u;
        val[k] = (uint16_t)v;
    }
    *m = json_array_size(a);
    return true;
}

typedef struct {
    size_t n;
    reward_neuron_in *ns;
    uint16_t *buf;                  /* 4 rows of n per neuron */
} neurons;

static bool parse_neuron(json_t *o, size_t i, neurons *t, perr *p)
{
    char path[48], sub[96];
    snprintf(path, sizeof path, "neurons[%zu]", i);
    if (!json_is_object(o))
        return fail(p, path, "expected an object");
    reward_neuron_in *x = &t->ns[i];
    uint64_t uid = 0;
    json_t *u = json_object_get(o, "uid");
    snprintf(sub, sizeof sub, "%s.uid", path);
    if (u && (!parse_uint(u, sub, 65535, &uid, p) || (uid != i && !fail(p, sub, "uid must equal the index"))))
        return false;
    json_t *st = json_object_get(o, "stake");
    snprintf(sub, sizeof sub, "%s.stake", path);
    if (st && !parse_units(st, sub, &x->stake, p))
        return false;
    if (!opt_uint(o, "last_update", path, (uint64_t)INT64_MAX, &x->last_update, p) ||
        !opt_uint(o, "registered_at", path, (uint64_t)INT64_MAX, &x->registered_at, p))
        return false;
    json_t *pm = json_object_get(o, "permit");
    snprintf(sub, sizeof sub, "%s.permit", path);
    if (pm && !json_is_boolean(pm))
        return fail(p, sub, "expected true or false");
    x->permit = pm && json_is_true(pm);
    uint16_t *r = t->buf + i * 4 * t->n;
    x->weights = (reward_row){ r, r + t->n, 0 };
    x->bonds = (reward_row){ r + 2 * t->n, r + 3 * t->n, 0 };
    snprintf(sub, sizeof sub, "%s.weights", path);
    if (!parse_row(json_object_get(o, "weights"), sub, t->n, r, r + t->n, &x->weights.n, p))
        return false;
    snprintf(sub, sizeof sub, "%s.bonds", path);
    return parse_row(json_object_get(o, "bonds"), sub, t->n, r + 2 * t->n, r + 3 * t->n, &x->bonds.n, p);
}

static json_t *row_json(const uint16_t *uid, const uint16_t *val, size_t m)
{
    json_t *a = json_array();
    for (size_t k = 0; k < m; k++)
        json_array_append_new(a, json_pack("[II]", (json_int_t)uid[k], (json_int_t)val[k]));
    return a;
}

static json_t *units_json(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, v);
    return json_string(s);
}

static json_t *neuron_json(const reward_neuron_in *x, const reward_epoch_out *o, size_t i)
{
    json_t *j = json_object();
    json_object_set_new(j, "uid", json_integer((json_int_t)i));
    json_object_set_new(j, "stake", units_json(x->stake));
    json_object_set_new(j, "last_update", json_integer((json_int_t)x->last_update));
    json_object_set_new(j, "registered_at", json_integer((json_int_t)x->registered_at));
    json_object_set_new(j, "permit", json_boolean(o->permit[i]));
    json_object_set_new(j, "weights", row_json(x->weights.uid, x->weights.val, x->weights.n));
    json_object_set_new(j, "bonds", row_json(o->bond_uid[i], o->bond_val[i], o->bond_n[i]));
    json_object_set_new(j, "consensus", json_integer(o->consensus[i]));
    json_object_set_new(j, "incentive", json_integer(o->incentive[i]));
    json_object_set_new(j, "dividends", json_integer(o->dividends[i]));
    json_object_set_new(j, "trust", json_integer(o->trust[i]));
    json_object_set_new(j, "rank", json_integer(o->rank[i]));
    json_object_set_new(j, "validator_trust", json_integer(o->validator_trust[i]));
    json_object_set_new(j, "emission", units_json(o->emission[i]));
    json_object_set_new(j, "emission_incentive", units_json(o->emission_incentive[i]));
    json_object_set_new(j, "emission_dividends", units_json(o->emission_dividends[i]));
    return j;
}

static json_t *params_json(const reward_epoch_params *pr)
{
    return json_pack("{sssIsIsIsIsI}", "mode", pr->mode == REWARD_MODE_YUMA ? "yuma" : "whitepaper",
                     "kappa", (json_int_t)pr->kappa, "rho", (json_int_t)pr->rho,
                     "bonds_moving_average", (json_int_t)pr->bonds_moving_average,
                     "activity_cutoff", (json_int_t)pr->activity_cutoff,
                     "max_validators", (json_int_t)pr->max_validators);
}

/* One line for the header, one per neuron: readable and diffable. */
static char *render(const reward_epoch_in *in, const reward_epoch_out *o)
{
    json_t *head = json_object();
    json_object_set_new(head, "block", json_integer((json_int_t)in->block));
    json_object_set_new(head, "emission", units_json(in->emission));
    json_object_set_new(head, "params", params_json(&in->p));
    char *h = json_dumps(head, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(head);
    size_t cap = (h ? strlen(h) : 0) + 32, len = 0;
    char *buf = h ? malloc(cap) : NULL;
    bool ok = buf != NULL;
    if (ok) {
        len = strlen(h) - 1;                /* drop the closing brace */
        memcpy(buf, h, len);
        memcpy(buf + len, ",\"neurons\":[\n", 13);
        len += 13;
    }
    for (size_t i = 0; ok && i < in->n; i++) {
        json_t *nj = neuron_json(&in->neurons[i], o, i);
        char *s = json_dumps(nj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(nj);
        size_t sl = s ? strlen(s) : 0;
        char *nb = s ? realloc(buf, cap + sl + 4) : NULL;
        if (!nb) {
            free(s);
            ok = false;
            break;
        }
        buf = nb;
        cap += sl + 4;
        memcpy(buf + len, s, sl);
        len += sl;
        if (i + 1 < in->n)
            buf[len++] = ',';
        buf[len++] = '\n';
        free(s);
    }
    free(h);
    if (!ok) {
        free(buf);
        return NULL;
    }
    memcpy(buf + len, "]}\n", 4);
    return buf;
}

static based_err parse_all(json_t *root, reward_epoch_in *in, neurons *t, perr *p)
{
    if (!json_is_object(root))
        return fail(p, "(root)", "expected an object"), BASED_E_BAD_PARAM;
    json_t *ns = json_object_get(root, "neurons");
    if (!json_is_array(ns))
        return fail(p, "neurons", "expected an array"), BASED_E_BAD_PARAM;
    if (json_array_size(ns) > REWARD_MAX_NEURONS)
        return fail(p, "neurons", "more than 2048 neurons"), BASED_E_TOO_LARGE;
    t->n = json_array_size(ns);
    t->ns = calloc(t->n ? t->n : 1, sizeof *t->ns);
    t->buf = calloc(t->n ? 4 * t->n * t->n : 1, sizeof *t->buf);
    if (!t->ns || !t->buf)
        return fail(p, "neurons", "out of memory"), BASED_E_NOMEM;
    memset(in, 0, sizeof *in);
    if (!parse_uint(json_object_get(root, "block"), "block", (uint64_t)INT64_MAX, &in->block, p))
        return BASED_E_BAD_PARAM;
    json_t *em = json_object_get(root, "emission");
    if (em && !parse_units(em, "emission", &in->emission, p))
        return BASED_E_BAD_PARAM;
    if (!parse_params(json_object_get(root, "params"), &in->p, p))
        return BASED_E_BAD_PARAM;
    for (size_t i = 0; i < t->n; i++)
        if (!parse_neuron(json_array_get(ns, i), i, t, p))
            return BASED_E_BAD_PARAM;
    in->n = t->n;
    in->neurons = t->ns;
    return BASED_E_OK;
}

based_err reward_sim_epoch(const char *text, size_t len, char **out, char *err, size_t errlen)
{
    perr p = { err, errlen };
    *out = NULL;
    if (errlen)
        err[0] = 0;
    if (len > REWARD_SIM_MAX_INPUT)
        return fail(&p, "(input)", "larger than 64 MiB"), BASED_E_TOO_LARGE;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "(input): line %d, column %d: %s", je.line, je.column, je.text);
        return BASED_E_DECODE;
    }
    reward_epoch_in in;
    neurons t = { 0, NULL, NULL };
    based_err e = parse_all(root, &in, &t, &p);
    reward_epoch_out o;
    if (e == BASED_E_OK && (e = reward_epoch_run(&in, &o)) != BASED_E_OK)
        fail(&p, "(input)", "rejected by the epoch");
    if (e == BASED_E_OK) {
        *out = render(&in, &o);
        reward_epoch_out_free(&o);
        if (!*out)
            e = BASED_E_NOMEM;
    }
    json_decref(root);
    free(t.ns);
    free(t.buf);
    return e;
}
