/*
 * roundlog.h: reading the round lines based-validator --json writes, one
 * JSON object per round and line, from the tail of its log:
 *
 *   {"round":N,"height":H,"validator":"<ss58>","vuid":U,
 *    "miners":[{"uid":u,"score":s,"smoothed":m,"gate":"ok","kl":k,
 *               "agree":a,"latency_ms":l,"missed":c},...],
 *    "weights":[[uid,w],...],"posted":"commit|reveal|none"}
 *
 * Read defensively: the log holds other lines too; a line counts when it
 * is a JSON object with an integer "round"; missing or mistyped members
 * read as absent (-1, 0, ""), entries beyond NEURON_ROUND_MINERS are
 * dropped, weights outside 0..65535 or for unknown uids are ignored. At
 * most NEURON_ROUND_TAIL bytes of a log are read.
 */
#ifndef BASED_NEURONS_ROUNDLOG_H
#define BASED_NEURONS_ROUNDLOG_H

#include "chain/base.h"

#define NEURON_ROUND_MINERS 256
#define NEURON_ROUND_TAIL 65536

typedef struct {
    int uid;                   /* -1 when absent */
    double score, smoothed;
    char gate[24];             /* "ok", "timeout", ... ("" when absent) */
    uint64_t weight;           /* u16 weight posted for it, 0 when none */
} neuron_round_miner;

typedef struct {
    int64_t round, height, vuid;
    char posted[16];
    size_t n;
    neuron_round_miner m[NEURON_ROUND_MINERS];
    uint64_t wsum;             /* sum of all the round's weights */
} neuron_round;

/* Parses one line (len bytes, need not be NUL-terminated). false when it
 * is not a round line. */
bool neuron_round_parse(const char *line, size_t len, neuron_round *r);
/* The last round line of the file's last NEURON_ROUND_TAIL bytes; false
 * when there is none (or no file). */
bool neuron_round_last(const char *path, neuron_round *r);

#endif
