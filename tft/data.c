/*
 * data.c: in-memory datasets and their CSV form.
 *
 * CSV: a header naming the columns; `series` (a name, at most 47 bytes, no
 * quotes), `t` (integer step) and `target` are required; `static_*`
 * columns are constant per series, `future_*` columns are known in
 * advance, every other column is a past-observed covariate. Each series'
 * rows come in order of t, consecutive; series may be interleaved. Every
 * number must be finite. Hostile input gets an error naming the line and
 * column, never a crash: sizes are capped (TFT_MAX_*) before anything is
 * allocated from them.
 */
#include <errno.h>

#include "tft/tft.h"
#include "chain/base.h"

struct tft_dataset *tft_dataset_new(int ns, int nt, int n_static, int n_past, int n_future)
{
    if (ns < 1 || nt < 1 || ns > TFT_MAX_SERIES || nt > TFT_MAX_STEPS ||
        (int64_t)ns * nt > TFT_MAX_CELLS || n_static < 0 || n_past < 0 ||
        n_future < 0 || n_static > TFT_MAX_COVARIATES ||
        n_past > TFT_MAX_COVARIATES || n_future > TFT_MAX_COVARIATES)
        return NULL;
    struct tft_dataset *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    size_t cells = (size_t)ns * (size_t)nt;
    d->n_series = ns;
    d->n_steps = nt;
    d->n_static = n_static;
    d->n_past = n_past;
    d->n_future = n_future;
    d->series_names = calloc((size_t)ns, sizeof *d->series_names);
    d->t0 = calloc((size_t)ns, sizeof *d->t0);
    d->len = calloc((size_t)ns, sizeof *d->len);
    d->target = calloc(cells, sizeof(double));
    d->past = calloc(cells * (size_t)n_past + 1, sizeof(double));
    d->future = calloc(cells * (size_t)n_future + 1, sizeof(double));
    d->stat = calloc((size_t)ns * (size_t)n_static + 1, sizeof(double));
    if (!d->series_names || !d->t0 || !d->len || !d->target || !d->past ||
        !d->future || !d->stat) {
        tft_dataset_free(d);
        return NULL;
    }
    for (int i = 0; i < ns; i++) {
        d->len[i] = nt;
        snprintf(d->series_names[i], TFT_NAME_LEN, "s%d", i);
    }
    return d;
}

void tft_dataset_free(struct tft_dataset *d)
{
    if (!d)
        return;
    free(d->series_names);
    free(d->t0);
    free(d->len);
    free(d->target);
    free(d->past);
    free(d->future);
    free(d->stat);
    free(d);
}

/* ---- CSV parsing -------------------------------------------------------- */

#define MAX_COLS (3 + 3 * TFT_MAX_COVARIATES)
#define HASH_SIZE (2 * TFT_MAX_SERIES)

enum { C_SERIES, C_T, C_TARGET, C_STATIC, C_PAST, C_FUTURE };

struct parser {
    const char *p, *end;
    long line;
    char *err;
    size_t errlen;
    int ncols, kind[MAX_COLS], idx[MAX_COLS];
    struct tft_dataset hdr;      /* names and counts only */
    /* rows: series index, t, values (target, past, future, static) */
    int *rs;
    int64_t *rt;
    double *rv;
    size_t nrows, rcap;
    int nvals;
    /* series */
    char (*names)[TFT_NAME_LEN];
    int nseries;
    int *hash;
    int64_t *last_t;
    int *count;
};

static based_err fail(struct parser *P, int col, const char *why)
{
    snprintf(P->err, P->errlen, "line %ld, column %d: %s", P->line, col, why);
    return BASED_E_DECODE;
}

/* Next field of the current line into buf; *eol set at the line's end. */
static based_err field(struct parser *P, int col, char *buf, size_t cap, bool *eol)
{
    const char *s = P->p;
    while (P->p < P->end && *P->p != ',' && *P->p != '\n')
        P->p++;
    size_t n = (size_t)(P->p - s);
    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (n >= cap)
        return fail(P, col, "field too long");
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"' || s[i] == '\0' || s[i] == '\r')
            return fail(P, col, "quotes, NUL and CR are not allowed in fields");
    memcpy(buf, s, n);
    buf[n] = '\0';
    *eol = P->p >= P->end || *P->p == '\n';
    if (P->p < P->end)
        P->p++;
    return BASED_E_OK;
}

/* Copies a name already checked to be shorter than TFT_NAME_LEN. */
static void copy_name(char *dst, const char *src)
{
    size_t n = strlen(src);
    if (n >= TFT_NAME_LEN)
        n = TFT_NAME_LEN - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static based_err header(struct parser *P)
{
    char name[64];
    bool eol = false, seen[3] = { false, false, false };
    P->line = 1;
    while (!eol) {
        int col = P->ncols + 1;
        if (P->ncols >= MAX_COLS)
            return fail(P, col, "too many columns");
        based_err e = field(P, col, name, sizeof name, &eol);
        if (e != BASED_E_OK)
            return e;
        if (name[0] == '\0' || strlen(name) >= TFT_NAME_LEN)
            return fail(P, col, "empty or too long column name");
        int k, *cnt = NULL;
        char (*names)[TFT_NAME_LEN] = NULL;
        if (!strcmp(name, "series")) k = C_SERIES;
        else if (!strcmp(name, "t")) k = C_T;
        else if (!strcmp(name, "target")) k = C_TARGET;
        else if (!strncmp(name, "static_", 7)) { k = C_STATIC; cnt = &P->hdr.n_static; names = P->hdr.static_names; }
        else if (!strncmp(name, "future_", 7)) { k = C_FUTURE; cnt = &P->hdr.n_future; names = P->hdr.future_names; }
        else { k = C_PAST; cnt = &P->hdr.n_past; names = P->hdr.past_names; }
        if (k <= C_TARGET) {
            if (seen[k])
                return fail(P, col, "duplicate column");
            seen[k] = true;
        } else {
            if (*cnt >= TFT_MAX_COVARIATES)
                return fail(P, col, "too many covariates of this kind");
            for (int j = 0; j < *cnt; j++)
                if (!strcmp(names[j], name))
                    return fail(P, col, "duplicate column");
            copy_name(names[*cnt], name);
            P->idx[P->ncols] = (*cnt)++;
        }
        P->kind[P->ncols++] = k;
    }
    if (!seen[0] || !seen[1] || !seen[2])
        return fail(P, 1, "header needs columns series, t and target");
    P->nvals = 1 + P->hdr.n_past + P->hdr.n_future + P->hdr.n_static;
    return BASED_E_OK;
}

static uint32_t fnv(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* Index of series `name`, adding it if new; -1 when there are too many. */
static int series_index(struct parser *P, const char *name)
{
    uint32_t h = fnv(name) & (HASH_SIZE - 1);
    while (P->hash[h] >= 0) {
        if (!strcmp(P->names[P->hash[h]], name))
            return P->hash[h];
        h = (h + 1) & (HASH_SIZE - 1);
    }
    if (P->nseries >= TFT_MAX_SERIES)
        return -1;
    int i = P->nseries++;
    copy_name(P->names[i], name);
    P->hash[h] = i;
    return i;
}

static bool finite(double x) { return x - x == 0; }

static based_err parse_number(struct parser *P, int col, const char *s, double *v)
{
    char *end;
    if (!*s)
        return fail(P, col, "empty number");
    *v = strtod(s, &end);
    if (*end || !finite(*v))
        return fail(P, col, "not a finite number");
    return BASED_E_OK;
}

static based_err add_row(struct parser *P)
{
    if (P->nrows == P->rcap) {
        size_t nc = P->rcap ? P->rcap * 2 : 4096;
        if (nc * (size_t)P->nvals > TFT_MAX_CELLS * 4ul || nc > TFT_MAX_CELLS)
            return fail(P, 1, "too many rows");
        int *rs = realloc(P->rs, nc * sizeof *rs);
        if (rs) P->rs = rs;
        int64_t *rt = realloc(P->rt, nc * sizeof *rt);
        if (rt) P->rt = rt;
        double *rv = realloc(P->rv, nc * (size_t)P->nvals * sizeof *rv);
        if (rv) P->rv = rv;
        if (!rs || !rt || !rv)
            return BASED_E_NOMEM;
        P->rcap = nc;
    }
    P->nrows++;
    return BASED_E_OK;
}

static based_err row(struct parser *P)
{
    char buf[64];
    bool eol = false;
    based_err e = add_row(P);
    if (e != BASED_E_OK)
        return e;
    size_t r = P->nrows - 1;
    double *v = P->rv + r * (size_t)P->nvals;
    int si = -1;
    for (int c = 0; c < P->ncols; c++) {
        if (eol)
            return fail(P, c + 1, "missing field");
        if ((e = field(P, c + 1, buf, sizeof buf, &eol)) != BASED_E_OK)
            return e;
        double x = 0;
        switch (P->kind[c]) {
        case C_SERIES:
            if (!buf[0] || strlen(buf) >= TFT_NAME_LEN)
                return fail(P, c + 1, "empty or too long series name");
            if ((si = series_index(P, buf)) < 0)
                return fail(P, c + 1, "too many series");
            break;
        case C_T: {
            char *end;
            errno = 0;
            long long t = strtoll(buf, &end, 10);
            if (!buf[0] || *end || errno || t < -((long long)1 << 50) || t > ((long long)1 << 50))
                return fail(P, c + 1, "t is not an integer");
            P->rt[r] = t;
            break;
        }
        default:
            if ((e = parse_number(P, c + 1, buf, &x)) != BASED_E_OK)
                return e;
            int k = P->kind[c], j = P->idx[c];
            int at = k == C_TARGET ? 0 : k == C_PAST ? 1 + j
                   : k == C_FUTURE ? 1 + P->hdr.n_past + j
                   : 1 + P->hdr.n_past + P->hdr.n_future + j;
            v[at] = x;
        }
    }
    if (!eol)
        return fail(P, P->ncols + 1, "too many fields");
    P->rs[r] = si;
    if (P->count[si] > 0 && P->rt[r] != P->last_t[si] + 1)
        return fail(P, 2, "t must increase by 1 within a series");
    if (P->count[si] >= TFT_MAX_STEPS)
        return fail(P, 2, "series too long");
    P->last_t[si] = P->rt[r];
    P->count[si]++;
    return BASED_E_OK;
}

static based_err build(struct parser *P, struct tft_dataset **out)
{
    int nt = 0;
    for (int i = 0; i < P->nseries; i++)
        nt = P->count[i] > nt ? P->count[i] : nt;
    if (P->nseries == 0)
        return fail(P, 1, "no data rows");
    if ((int64_t)nt * P->nseries > TFT_MAX_CELLS)
        return fail(P, 1, "dataset too large (series x steps)");
    const struct tft_dataset *h = &P->hdr;
    struct tft_dataset *d = tft_dataset_new(P->nseries, nt, h->n_static, h->n_past, h->n_future);
    if (!d)
        return BASED_E_NOMEM;
    memcpy(d->static_names, h->static_names, sizeof d->static_names);
    memcpy(d->past_names, h->past_names, sizeof d->past_names);
    memcpy(d->future_names, h->future_names, sizeof d->future_names);
    memcpy(d->series_names, P->names, (size_t)P->nseries * sizeof *P->names);
    for (int i = 0; i < d->n_series; i++)
        d->len[i] = 0;
    for (size_t r = 0; r < P->nrows; r++) {
        int i = P->rs[r], s = d->len[i]++;
        const double *v = P->rv + r * (size_t)P->nvals;
        size_t at = (size_t)i * (size_t)nt + (size_t)s;
        if (s == 0)
            d->t0[i] = P->rt[r];
        d->target[at] = v[0];
        for (int j = 0; j < d->n_past; j++)
            d->past[at * (size_t)d->n_past + (size_t)j] = v[1 + j];
        for (int j = 0; j < d->n_future; j++)
            d->future[at * (size_t)d->n_future + (size_t)j] = v[1 + d->n_past + j];
        for (int j = 0; j < d->n_static; j++) {
            double x = v[1 + d->n_past + d->n_future + j];
            double *st = &d->stat[(size_t)i * (size_t)d->n_static + (size_t)j];
            if (s > 0 && *st != x) {
                snprintf(P->err, P->errlen, "series %s: column %s is not constant",
                         d->series_names[i], d->static_names[j]);
                tft_dataset_free(d);
                return BASED_E_DECODE;
            }
            *st = x;
        }
    }
    *out = d;
    return BASED_E_OK;
}

based_err tft_csv_parse(const char *text, size_t n, struct tft_dataset **out,
                        char *err, size_t errlen)
{
    static char dummy[8];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (!text || !out)
        return BASED_E_BAD_PARAM;
    *out = NULL;
    if (n > TFT_MAX_CSV_BYTES) {
        snprintf(err, errlen, "line 1, column 1: input larger than %zu bytes", TFT_MAX_CSV_BYTES);
        return BASED_E_TOO_LARGE;
    }
    struct parser *P = calloc(1, sizeof *P);
    if (!P)
        return BASED_E_NOMEM;
    P->p = text;
    P->end = text + n;
    P->err = err;
    P->errlen = errlen;
    P->names = calloc(TFT_MAX_SERIES, sizeof *P->names);
    P->hash = malloc(HASH_SIZE * sizeof(int));
    P->last_t = calloc(TFT_MAX_SERIES, sizeof *P->last_t);
    P->count = calloc(TFT_MAX_SERIES, sizeof *P->count);
    based_err e = BASED_E_NOMEM;
    if (P->names && P->hash && P->last_t && P->count) {
        memset(P->hash, 0xff, HASH_SIZE * sizeof(int));
        P->line = 1;
        e = n == 0 ? fail(P, 1, "empty input") : header(P);
        while (e == BASED_E_OK && P->p < P->end) {
            P->line++;
            if (*P->p == '\n' || (*P->p == '\r' && P->p + 1 < P->end && P->p[1] == '\n')) {
                P->p += *P->p == '\n' ? 1 : 2;
                continue;                     /* blank line */
            }
            e = row(P);
        }
        if (e == BASED_E_OK)
            e = build(P, out);
    }
    if (e == BASED_E_NOMEM && !err[0])
        snprintf(err, errlen, "out of memory");
    free(P->names);
    free(P->hash);
    free(P->last_t);
    free(P->count);
    free(P->rs);
    free(P->rt);
    free(P->rv);
    free(P);
    return e;
}

based_err tft_csv_load(const char *path, struct tft_dataset **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return BASED_E_IO;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    based_err e = BASED_E_OK;
    while (buf) {
        if (n == cap) {
            if (cap > TFT_MAX_CSV_BYTES) {
                snprintf(err, errlen, "%s: larger than %zu bytes", path, TFT_MAX_CSV_BYTES);
                e = BASED_E_TOO_LARGE;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(f) && e == BASED_E_OK) {
        snprintf(err, errlen, "%s: read error", path);
        e = BASED_E_IO;
    }
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return BASED_E_NOMEM;
    }
    if (e == BASED_E_OK)
        e = tft_csv_parse(buf, n, out, err, errlen);
    free(buf);
    return e;
}

based_err tft_csv_write(const struct tft_dataset *d, FILE *f)
{
    fprintf(f, "series,t,target");
    for (int j = 0; j < d->n_static; j++) fprintf(f, ",%s", d->static_names[j]);
    for (int j = 0; j < d->n_past; j++) fprintf(f, ",%s", d->past_names[j]);
    for (int j = 0; j < d->n_future; j++) fprintf(f, ",%s", d->future_names[j]);
    fputc('\n', f);
    for (int i = 0; i < d->n_series; i++)
        for (int s = 0; s < d->len[i]; s++) {
            size_t at = (size_t)i * (size_t)d->n_steps + (size_t)s;
            fprintf(f, "%s,%" PRId64 ",%.17g", d->series_names[i], d->t0[i] + s, d->target[at]);
            for (int j = 0; j < d->n_static; j++)
                fprintf(f, ",%.17g", d->stat[(size_t)i * (size_t)d->n_static + (size_t)j]);
            for (int j = 0; j < d->n_past; j++)
                fprintf(f, ",%.17g", d->past[at * (size_t)d->n_past + (size_t)j]);
            for (int j = 0; j < d->n_future; j++)
                fprintf(f, ",%.17g", d->future[at * (size_t)d->n_future + (size_t)j]);
            fputc('\n', f);
        }
    return ferror(f) ? BASED_E_IO : BASED_E_OK;
}
