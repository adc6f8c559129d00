/* The layering of chain/ and its runtime (chain/runtime.h): chain/ includes
 * nothing above it; a runtime indexes kinds by id and refuses duplicates;
 * hooks run in module order and stop at the first error; the node's
 * composition (node/runtime.c) has every kind once, in the stated order. */
#include <dirent.h>

#include "tests/runner.h"
#include "chain/runtime.h"
#include "contracts/contracts.h"
#include "node/runtime.h"
#include "rewards/rewards.h"

/* ---------------- chain/ includes only chain/ ---------------- */

/* Quoted includes of one file that do not name chain/ (printed when
 * report); the count. */
static int foreign_includes(const char *path, bool report)
{
    FILE *f = fopen(path, "r");
    char line[512];
    int bad = 0, no = 0;
    if (!f) {
        fprintf(stderr, "    cannot read %s\n", path);
        return 1;
    }
    while (fgets(line, sizeof line, f)) {
        const char *p = line;
        line[strcspn(line, "\n")] = '\0';
        no++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p++ != '#')
            continue;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "include", 7) != 0)
            continue;
        p += 7;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '"' && strncmp(p + 1, "chain/", 6) != 0) {
            if (report)
                fprintf(stderr, "    %s:%d includes %s (chain/ includes only chain/)\n", path,
                        no, p);
            bad++;
        }
    }
    fclose(f);
    return bad;
}

TEST(chain_includes_nothing_above_it)
{
    DIR *d = opendir("chain");
    struct dirent *e;
    int files = 0, bad = 0;
    CHECK(d != NULL);
    while (d && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        char path[600];
        if (n < 3 || e->d_name[0] == '.' ||
            (strcmp(e->d_name + n - 2, ".c") != 0 && strcmp(e->d_name + n - 2, ".h") != 0))
            continue;
        snprintf(path, sizeof path, "chain/%s", e->d_name);
        bad += foreign_includes(path, true);
        files++;
    }
    if (d)
        closedir(d);
    CHECK(files >= 20);                     /* the directory was really read */
    CHECK_EQ_INT(bad, 0);
    /* the check itself finds a foreign include */
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s/probe.c", test_tmpdir());
    FILE *f = fopen(tmp, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("#include <stdio.h>\n#include \"chain/base.h\"\n  #  include \"rewards/rewards.h\"\n", f);
        fclose(f);
        CHECK_EQ_INT(foreign_includes(tmp, false), 1);
    }
}

/* ---------------- the kind table ---------------- */

TEST(runtime_kind_table_by_id)
{
    const chain_runtime *rt = based_runtime();
    static const char *const names[] = {
        NULL, "transfer", "pepe_transfer", "pepe_bridge", "brain_buy", "brain_set",
        "brain_transfer", "brain_deactivate", "memorize", "serve", "stake", "unstake",
        "set_take", "gov_propose", "gov_vote", "weights_commit", "weights_reveal",
    };
    CHECK(rt != NULL);
    CHECK(rt == based_runtime());           /* built once */
    CHECK_EQ_U64(rt->nkinds, 16);
    for (uint16_t id = 1; id < BASED_ARRAY_LEN(names); id++) {
        const chain_kind *k = chain_kind_find(rt, id);
        CHECK(k != NULL);
        if (!k)
            continue;
        CHECK_EQ_INT(k->id, id);
        CHECK_EQ_STR(k->name, names[id]);
        CHECK(chain_kind_by_name(rt, names[id]) == k);
    }
    CHECK(chain_kind_find(rt, 0) == NULL);
    CHECK(chain_kind_find(rt, 17) == NULL);
    CHECK(chain_kind_find(rt, CHAIN_KIND_ID_MAX + 1) == NULL);
    CHECK(chain_kind_find(rt, 65535) == NULL);
    CHECK(chain_kind_find(NULL, 1) == NULL);
    CHECK(chain_kind_by_name(rt, "nope") == NULL);
    /* listing: module order (transfer, contracts/ + staking/, rewards/) */
    CHECK(chain_kind_at(rt, 0) == chain_transfer_kinds[0]);
    CHECK(chain_kind_at(rt, 1) == contract_kinds[0]);
    CHECK(chain_kind_at(rt, 14) == reward_kinds[0]);
    CHECK(chain_kind_at(rt, 15) == reward_kinds[1]);
    CHECK(chain_kind_at(rt, 16) == NULL);
    /* the composition order of node/runtime.c */
    CHECK_EQ_U64(rt->n, 3);
    CHECK(rt->modules[0] == &chain_transfer_module);
    CHECK(rt->modules[1] == &contract_module);
    CHECK(rt->modules[2] == &reward_module);
    CHECK(chain_runtime_state(rt, &reward_module) == NULL);   /* no handles */
}

/* ---------------- composition errors ---------------- */

static based_err k_check(const uint8_t *p, size_t n, const char **why)
{
    (void)p, (void)n, (void)why;
    return BASED_E_OK;
}

static based_err k_apply(chain_exec *ex, const chain_tx *tx, const char **why)
{
    (void)ex, (void)tx, (void)why;
    return BASED_E_OK;
}

static json_t *k_to_json(const uint8_t *p, size_t n, uint16_t prefix)
{
    (void)p, (void)n, (void)prefix;
    return json_null();
}

static based_err k_from_json(json_t *o, uint16_t prefix, chain_wbuf *out, const char **why)
{
    (void)o, (void)prefix, (void)out, (void)why;
    return BASED_E_OK;
}

#define KIND(ID, NAME) { ID, NAME, k_check, NULL, k_apply, k_to_json, k_from_json }

static const chain_kind ka = KIND(40, "a"), kb = KIND(41, "b"), kdup = KIND(40, "c"),
                        kname = KIND(42, "a"), kzero = KIND(0, "z"), kbig = KIND(256, "big"),
                        knoapply = { 43, "x", k_check, NULL, NULL, k_to_json, k_from_json };
static const chain_kind *const t_ab[] = { &ka, &kb }, *const t_dup[] = { &kdup },
                                *const t_name[] = { &kname }, *const t_zero[] = { &kzero },
                                *const t_big[] = { &kbig }, *const t_noapply[] = { &knoapply };

#define MOD(NAME, T) { NAME, T, BASED_ARRAY_LEN(T), NULL, NULL, NULL, NULL }

static const chain_module m_ab = MOD("ab", t_ab), m_dup = MOD("dup", t_dup),
                          m_name = MOD("name", t_name), m_zero = MOD("zero", t_zero),
                          m_big = MOD("big", t_big), m_noapply = MOD("noapply", t_noapply);

static based_err compose2(const chain_module *a, const chain_module *b, char *err, size_t el)
{
    static chain_runtime rt;
    const chain_module *mods[] = { a, b };
    based_err rc = chain_runtime_init(&rt, mods, 2, err, el);
    if (rc != BASED_E_OK && (rt.nkinds != 0 || rt.n != 0))
        return BASED_E_DB;                  /* half-built: fails the caller's check */
    return rc;
}

TEST(runtime_refuses_duplicate_and_bad_kinds)
{
    char err[256];
    static chain_runtime rt;
    CHECK_EQ_INT(compose2(&chain_transfer_module, &m_ab, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(compose2(&m_ab, &m_dup, err, sizeof err), BASED_E_BAD_PARAM);
    CHECK(strstr(err, "dup") && strstr(err, "share an id") && strstr(err, "40"));
    CHECK_EQ_INT(compose2(&m_ab, &m_name, err, sizeof err), BASED_E_BAD_PARAM);
    CHECK(strstr(err, "share a name") != NULL);
    CHECK_EQ_INT(compose2(&m_ab, &m_zero, err, sizeof err), BASED_E_BAD_PARAM);
    CHECK(strstr(err, "outside") != NULL);
    CHECK_EQ_INT(compose2(&m_ab, &m_big, err, sizeof err), BASED_E_BAD_PARAM);
    CHECK(strstr(err, "256") != NULL);
    CHECK_EQ_INT(compose2(&m_ab, &m_noapply, err, sizeof err), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(compose2(&m_ab, NULL, err, sizeof err), BASED_E_BAD_PARAM);
    /* the node's modules with a second copy of contracts/: every id twice */
    const chain_module *twice[] = { &chain_transfer_module, &contract_module, &contract_module };
    CHECK_EQ_INT(chain_runtime_init(&rt, twice, 3, err, sizeof err), BASED_E_BAD_PARAM);
    const chain_module *many[CHAIN_RUNTIME_MAX_MODULES + 1];
    for (size_t i = 0; i < BASED_ARRAY_LEN(many); i++)
        many[i] = &m_zero;
    CHECK_EQ_INT(chain_runtime_init(&rt, many, BASED_ARRAY_LEN(many), err, sizeof err),
                 BASED_E_BAD_PARAM);
    /* binding: only to a module of the runtime */
    const chain_module *one[] = { &m_ab };
    int h = 5;
    CHECK_EQ_INT(chain_runtime_init(&rt, one, 1, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_runtime_bind(&rt, &m_dup, &h), BASED_E_NOT_FOUND);
    CHECK_EQ_INT(chain_runtime_bind(&rt, &m_ab, &h), BASED_E_OK);
    CHECK(chain_runtime_state(&rt, &m_ab) == &h);
    CHECK(chain_runtime_state(&rt, &m_dup) == NULL);
}

/* ---------------- hooks ---------------- */

static char hook_log[128];
static based_err fail_at;                   /* what the failing hook returns */
static uint64_t held_a = 7, held_b = 5;

static void logc(char c)
{
    size_t n = strlen(hook_log);
    if (n + 1 < sizeof hook_log)
        hook_log[n] = c, hook_log[n + 1] = '\0';
}

static based_err ga(chain_view *v, const chain_genesis *g)
{
    (void)v, (void)g;
    logc('G');
    return BASED_E_OK;
}

static based_err gb(chain_view *v, const chain_genesis *g)
{
    (void)v, (void)g;
    logc('g');
    return fail_at;
}

static based_err ba(chain_exec *ex)
{
    (void)ex;
    logc('B');
    return fail_at;
}

static based_err bb(chain_exec *ex)
{
    (void)ex;
    logc('b');
    return BASED_E_OK;
}
static based_err ea(chain_exec *ex, chain_tx *const *t, size_t n)
{
    (void)ex, (void)t;
    logc(n == 3 ? 'E' : '?');
    return BASED_E_OK;
}

static based_err aa(chain_store *st, const chain_genesis *g, uint64_t *held, char *err, size_t el)
{
    (void)st, (void)g, (void)err, (void)el;
    logc('A');
    *held += held_a;
    return BASED_E_OK;
}

static based_err ab(chain_store *st, const chain_genesis *g, uint64_t *held, char *err, size_t el)
{
    (void)st, (void)g;
    logc('a');
    *held += held_b;
    if (fail_at != BASED_E_OK)
        snprintf(err, el, "b fails");
    return fail_at;
}

static const chain_module h_a = { "a", NULL, 0, ga, ba, ea, aa };
static const chain_module h_b = { "b", NULL, 0, gb, bb, NULL, ab };

TEST(runtime_hooks_in_module_order)
{
    static chain_runtime rt;
    const chain_module *mods[] = { &h_a, &chain_transfer_module, &h_b };
    char err[64] = "";
    chain_exec ex;
    uint64_t held = 99;
    memset(&ex, 0, sizeof ex);
    CHECK_EQ_INT(chain_runtime_init(&rt, mods, 3, err, sizeof err), BASED_E_OK);
    fail_at = BASED_E_OK;
    hook_log[0] = '\0';
    CHECK_EQ_INT(chain_runtime_genesis_init(&rt, NULL, NULL), BASED_E_OK);
    CHECK_EQ_INT(chain_runtime_block_begin(&rt, &ex), BASED_E_OK);
    CHECK_EQ_INT(chain_runtime_block_end(&rt, &ex, NULL, 3), BASED_E_OK);
    CHECK_EQ_INT(chain_runtime_audit(&rt, NULL, NULL, &held, err, sizeof err), BASED_E_OK);
    CHECK_EQ_STR(hook_log, "GgBbEAa");
    CHECK_EQ_U64(held, 12);
    /* the first error stops the hooks after it */
    fail_at = BASED_E_LOCKED;
    hook_log[0] = '\0';
    CHECK_EQ_INT(chain_runtime_block_begin(&rt, &ex), BASED_E_LOCKED);
    CHECK_EQ_INT(chain_runtime_genesis_init(&rt, NULL, NULL), BASED_E_LOCKED);
    CHECK_EQ_INT(chain_runtime_audit(&rt, NULL, NULL, &held, err, sizeof err), BASED_E_LOCKED);
    CHECK_EQ_STR(hook_log, "BGgAa");
    CHECK_EQ_STR(err, "b fails");
    /* what the modules hold must fit in 64 bits */
    fail_at = BASED_E_OK;
    held_a = UINT64_MAX - 4;
    CHECK_EQ_INT(chain_runtime_audit(&rt, NULL, NULL, &held, err, sizeof err), BASED_E_OVERFLOW);
    held_a = UINT64_MAX - 5;
    CHECK_EQ_INT(chain_runtime_audit(&rt, NULL, NULL, &held, err, sizeof err), BASED_E_OK);
    CHECK_EQ_U64(held, UINT64_MAX);
    held_a = 7;
}
