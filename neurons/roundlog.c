/*
 * roundlog.c: the validators' --json round lines (see roundlog.h).
 */
#include <jansson.h>

#include "neurons/roundlog.h"

static int64_t int_or(json_t *o, const char *k, int64_t def)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

static void str_into(json_t *o, const char *k, char *out, size_t n)
{
    const char *s = json_string_value(json_object_get(o, k));
    snprintf(out, n, "%s", s ? s : "");
}

static void parse_miners(json_t *arr, neuron_round *r)
{
    size_t k;
    json_t *x;
    json_array_foreach(arr, k, x) {
        if (r->n == NEURON_ROUND_MINERS)
            break;
        if (!json_is_object(x))
            continue;
        neuron_round_miner *m = &r->m[r->n++];
        int64_t uid = int_or(x, "uid", -1);
        m->uid = uid >= 0 && uid < 65536 ? (int)uid : -1;
        m->score = json_number_value(json_object_get(x, "score"));
        m->smoothed = json_number_value(json_object_get(x, "smoothed"));
        str_into(x, "gate", m->gate, sizeof m->gate);
    }
}

static void parse_weights(json_t *arr, neuron_round *r)
{
    size_t k;
    json_t *x;
    json_array_foreach(arr, k, x) {
        json_t *u = json_array_get(x, 0), *w = json_array_get(x, 1);
        if (!json_is_array(x) || json_array_size(x) != 2 || !json_is_integer(u) ||
            !json_is_integer(w) || json_integer_value(w) < 0 || json_integer_value(w) > 65535)
            continue;
        r->wsum += (uint64_t)json_integer_value(w);
        for (size_t j = 0; j < r->n; j++)
            if (r->m[j].uid >= 0 && r->m[j].uid == json_integer_value(u))
                r->m[j].weight = (uint64_t)json_integer_value(w);
    }
}

bool neuron_round_parse(const char *line, size_t len, neuron_round *r)
{
    json_t *o = json_loadb(line, len, 0, NULL);
    bool ok = json_is_object(o) && json_is_integer(json_object_get(o, "round"));
    if (ok) {
        memset(r, 0, sizeof *r);
        r->round = int_or(o, "round", -1);
        r->height = int_or(o, "height", -1);
        r->vuid = int_or(o, "vuid", -1);
        str_into(o, "posted", r->posted, sizeof r->posted);
        parse_miners(json_object_get(o, "miners"), r);
        parse_weights(json_object_get(o, "weights"), r);
    }
    json_decref(o);
    return ok;
}

bool neuron_round_last(const char *path, neuron_round *r)
{
    static char buf[NEURON_ROUND_TAIL];
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    long sz = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (sz < 0 || fseek(f, sz > NEURON_ROUND_TAIL ? sz - NEURON_ROUND_TAIL : 0, SEEK_SET) != 0) {
        fclose(f);
        return false;
    }
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    while (n > 0) {                      /* lines from the last one backwards */
        size_t end = n, start = n;
        while (start > 0 && buf[start - 1] != '\n')
            start--;
        n = start > 0 ? start - 1 : 0;
        size_t s = start;
        while (s < end && (buf[s] == ' ' || buf[s] == '\t'))
            s++;
        if (s < end && buf[s] == '{' && neuron_round_parse(buf + s, end - s, r))
            return true;
    }
    return false;
}
