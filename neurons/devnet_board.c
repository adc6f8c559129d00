/* devnet_board.c: based-devnet's live board (see devnet_int.h). */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "neurons/devnet_int.h"

/* ---------------- the board: validator rounds ---------------- */

/* ---------------- the board: chain columns and drawing ---------------- */

typedef struct {
    int uid;                /* -1: not registered */
    char stake[32], incentive[16], earned[32];
} nstat;

typedef struct {                     /* a miner of the Brain that is not ours */
    nstat s;
    char addr[CHAIN_ADDR_STRLEN], endpoint[64];
} nother;

typedef struct {
    uint64_t height, tempo;
    bool have_head, have_brain;
    nstat n[DN_MAX_CHILDREN];
    nother other[DN_MAX_OTHERS];
    int nother, more;                /* shown, and not shown for want of room */
} chainview;

static void fill_stat(nstat *n, json_t *x)
{
    n->uid = (int)dn_jint(x, "uid", -1);
    snprintf(n->stake, sizeof n->stake, "%s", dn_jstr(x, "stake"));
    snprintf(n->incentive, sizeof n->incentive, "%s", dn_jstr(x, "incentive_frac"));
}

/* Neuron x of the Brain: one of our children, or another miner. */
static void place_neuron(devnet *d, chainview *cv, json_t *x)
{
    for (int i = 1; i < d->nch; i++)
        if (!strcmp(dn_jstr(x, "address"), d->dev[d->ch[i].dev].ss58)) {
            fill_stat(&cv->n[i], x);
            return;
        }
    if (strcmp(dn_jstr(x, "role"), "miner") != 0)
        return;
    if (cv->nother == DN_MAX_OTHERS) {
        cv->more++;
        return;
    }
    nother *o = &cv->other[cv->nother++];
    fill_stat(&o->s, x);
    snprintf(o->addr, sizeof o->addr, "%s", dn_jstr(x, "address"));
    snprintf(o->endpoint, sizeof o->endpoint, "%s", dn_jstr(x, "endpoint"));
}

/* What address earned as a miner, into out ("" when unknown). */
static void earned_of(devnet *d, const char *addr, uint64_t height, char *out, size_t n)
{
    json_t *o;
    json_t *p = json_pack("[s,I]", addr, (json_int_t)height);
    out[0] = '\0';
    if (dn_rpc(d, "rewards_get", p, &o) == BASED_E_OK)
        snprintf(out, n, "%s", dn_jstr(json_object_get(o, "total"), "miner")), json_decref(o);
}

static void read_chain(devnet *d, chainview *cv)
{
    json_t *o, *x;
    size_t k;
    memset(cv, 0, sizeof *cv);
    for (int i = 0; i < d->nch; i++)
        cv->n[i].uid = -1;
    if (dn_rpc(d, "chain_getHead", NULL, &o) == BASED_E_OK)
        cv->height = (uint64_t)dn_jint(o, "height", 0), cv->have_head = true, json_decref(o);
    if (dn_rpc(d, "rewards_getSchedule", NULL, &o) == BASED_E_OK)
        cv->tempo = (uint64_t)dn_jint(o, "tempo", 0), json_decref(o);
    if (dn_rpc(d, "brain_getNeurons", json_pack("[i]", DEVNET_BRAIN), &o) != BASED_E_OK)
        return;
    cv->have_brain = true;
    json_array_foreach(json_object_get(o, "neurons"), k, x)
        place_neuron(d, cv, x);
    json_decref(o);
    for (int i = 1; i < d->nch; i++)
        if (d->ch[i].kind == C_MINER)
            earned_of(d, d->dev[d->ch[i].dev].ss58, cv->height, cv->n[i].earned,
                      sizeof cv->n[i].earned);
    for (int i = 0; i < cv->nother; i++)
        earned_of(d, cv->other[i].addr, cv->height, cv->other[i].s.earned,
                  sizeof cv->other[i].s.earned);
}

static void state_of(const child *c, char *out, size_t n)
{
    char how[32];
    if (c->p.missing)
        snprintf(out, n, "not built");
    else if (c->p.pid)
        snprintf(out, n, "PID %d", (int)c->p.pid);
    else {
        neuron_proc_describe(c->p.status, how, sizeof how);
        snprintf(out, n, "%s (%s)", c->gave_up ? "down" : "restarting", how);
    }
}

static void draw_header(devnet *d, const chainview *cv, FILE *f)
{
    char ts[32];
    dn_stamp(ts, sizeof ts);
    fprintf(f, "based-devnet  %s  height %s%" PRIu64 "  Brain %d", ts, cv->have_head ? "" : "? ",
           cv->height, DEVNET_BRAIN);
    if (cv->tempo) {
        uint64_t t1 = cv->tempo + 1, pos = (cv->height + DEVNET_BRAIN + 1) % t1;
        fprintf(f, "  tempo %" PRIu64 "  window %" PRIu64 "  next epoch in %" PRIu64 " blocks",
               cv->tempo, (cv->height + DEVNET_BRAIN + 2) / t1,
               pos == cv->tempo ? t1 : cv->tempo - pos);
    }
    fprintf(f, "\n\n%-16s %-5s %-15s %-7s %-8s %-13s %s\n", "validator", "uid", "stake", "round",
           "at", "posted", "process");
    for (int i = 1; i < d->nch; i++) {
        const child *c = &d->ch[i];
        const vround *v = &d->vr[i];
        char st[64], uid[16] = "-", rnd[24] = "-", at[24] = "-";
        if (c->kind != C_VALIDATOR)
            continue;
        state_of(c, st, sizeof st);
        if (cv->n[i].uid >= 0)
            snprintf(uid, sizeof uid, "%d", cv->n[i].uid);
        if (v->have) {
            snprintf(rnd, sizeof rnd, "%" PRId64, v->r.round);
            snprintf(at, sizeof at, "%" PRId64, v->r.height);
        }
        fprintf(f, "%-16s %-5s %-15s %-7s %-8s %-13s %s\n", c->p.name, uid,
                cv->n[i].stake[0] ? cv->n[i].stake : "-", rnd, at, v->have ? v->r.posted : "-", st);
    }
}

/* "score smooth weight" of miner uid in validator v's last round. */
static void score_cell(const vround *v, int uid, char *out, size_t n)
{
    const neuron_round *r = &v->r;
    snprintf(out, n, "%-20s", "-");
    for (size_t j = 0; v->have && uid >= 0 && j < r->n; j++) {
        const neuron_round_miner *m = &r->m[j];
        if (m->uid != uid)
            continue;
        char w[16] = "-";
        if (r->wsum)
            snprintf(w, sizeof w, "%.3f", (double)m->weight / (double)r->wsum);
        if (m->gate[0] && strcmp(m->gate, "ok") != 0)
            snprintf(out, n, "%-13.13s %-6s", m->gate, w);
        else
            snprintf(out, n, "%.3f %.3f %-8s", m->score, m->smoothed, w);
    }
}

/* One miner row: name, dev account, uid, port, each validator's cell,
 * incentive, earned, process. */
static void draw_row(devnet *d, FILE *f, const char *name, const char *dev, const char *port,
                     const nstat *n, const char *process)
{
    char uid[16] = "-", cell[64];
    if (n->uid >= 0)
        snprintf(uid, sizeof uid, "%d", n->uid);
    fprintf(f, "%-18.18s %-5s %-5s %-6s", name, dev, uid, port);
    for (int v = 1; v < d->nch; v++)
        if (d->ch[v].kind == C_VALIDATOR)
            score_cell(&d->vr[v], n->uid, cell, sizeof cell), fprintf(f, " %s", cell);
    fprintf(f, " %-9s %-14s %s\n", n->incentive[0] ? n->incentive : "-",
            n->earned[0] ? n->earned : "-", process);
}

static void draw_miners(devnet *d, const chainview *cv, FILE *f)
{
    fprintf(f, "\n%-18s %-5s %-5s %-6s", "miner", "dev", "uid", "port");
    for (int i = 1; i < d->nch; i++)
        if (d->ch[i].kind == C_VALIDATOR)
            fprintf(f, " %-20.20s", d->ch[i].p.name + strlen("validator-"));
    fprintf(f, " %-9s %-14s %s\n", "incentive", "earned BASED", "process");
    fprintf(f, "%-18s %-5s %-5s %-6s", "", "", "", "");
    for (int i = 1; i < d->nch; i++)
        if (d->ch[i].kind == C_VALIDATOR)
            fprintf(f, " %-20s", "score avg   weight");
    fprintf(f, "\n");
    for (int i = 1; i < d->nch; i++) {
        const child *c = &d->ch[i];
        char st[64], dev[8], port[8];
        if (c->kind != C_MINER)
            continue;
        state_of(c, st, sizeof st);
        snprintf(dev, sizeof dev, "dev%d", c->dev);
        snprintf(port, sizeof port, "%u", c->port);
        draw_row(d, f, c->method, dev, port, &cv->n[i], st);
    }
    for (int i = 0; i < cv->nother; i++) {
        const nother *o = &cv->other[i];
        char name[24], port[8] = "-";
        const char *colon = strrchr(o->endpoint, ':');
        snprintf(name, sizeof name, "%.6s..%.6s", o->addr, o->addr + strlen(o->addr) -
                 (strlen(o->addr) < 6 ? strlen(o->addr) : 6));
        if (colon)
            snprintf(port, sizeof port, "%.6s", colon + 1);
        draw_row(d, f, name, "-", port, &o->s, "not started here");
    }
    if (cv->more)
        fprintf(f, "(%d more miners of Brain %d: bin/based-cli neurons %d)\n", cv->more,
                DEVNET_BRAIN, DEVNET_BRAIN);
}

/* Terminal rows (0 when unknown). */
static int term_rows(void)
{
    struct winsize ws;
    return ioctl(1, TIOCGWINSZ, &ws) == 0 ? ws.ws_row : 0;
}

static void draw_footer(devnet *d, FILE *f)
{
    fprintf(f, "\nnode: basedd PID %d, log %s\nlogs: %s/logs/NAME.log   RPC %s   cookie %s\n",
            (int)d->ch[0].p.pid, d->ch[0].p.log, d->o.datadir, d->url, d->cookie);
    for (int i = 0; i < d->nevents; i++)
        fprintf(f, "  %s\n", d->events[i]);
    fprintf(f, "Ctrl-C stops every process\n");
}

/* Builds the board in memory; on a terminal it replaces the last one in
 * place below the banner (or the whole screen when it does not fit). */
void dn_draw(devnet *d)
{
    chainview cv;
    char *text = NULL;
    size_t len = 0;
    read_chain(d, &cv);
    for (int i = 1; i < d->nch; i++)
        if (d->ch[i].kind == C_VALIDATOR)
            d->vr[i].have = neuron_round_last(d->ch[i].p.log, &d->vr[i].r) || d->vr[i].have;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    draw_header(d, &cv, f);
    draw_miners(d, &cv, f);
    if (d->tty)
        draw_footer(d, f);
    else
        fputc('\n', f);
    fclose(f);
    int lines = 0, rows = term_rows();
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    if (d->tty && d->board_lines && d->board_lines < rows && lines < rows)
        printf("\033[%dA\033[J", d->board_lines);
    else if (d->tty && d->board_lines)
        printf("\033[H\033[2J");
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    d->board_lines = lines;
    free(text);
}
