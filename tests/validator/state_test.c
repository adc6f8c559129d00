/*
 * Tests of neurons/validator.c: the state file (round trip, missing,
 * unwritable, corrupt in each field, another Brain or key), smoothing and
 * missed counts, a uid taken over by a new account, dropping miners that
 * left, weights normalisation, duplicate answers, and the commit-reveal
 * timing against rewards/'s windows.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "neurons/validator.h"
#include "rewards/rewards.h"
#include "tests/runner.h"
#include "tests/validator/tests.h"

static chain_addr addr_of(unsigned dev)
{
    uint8_t sk[32];
    chain_addr a;
    chain_key_dev(dev, sk);
    chain_key_pub(sk, &a);
    return a;
}

static neuron_val_state *sample_state(void)
{
    neuron_val_state *s = malloc(sizeof *s);
    chain_addr v = addr_of(2);
    neuron_val_state_init(s, 7, &v);
    s->round = 41;
    s->last_height = 1234;
    s->last_commit = 1200;
    for (unsigned i = 0; i < 3; i++) {
        chain_addr a = addr_of(3 + i);
        neuron_val_miner *m = neuron_val_entry(s, (uint16_t)(9 - 3 * i), &a);
        m->ema = 1.0 / (i + 3);            /* not exact in decimal */
        m->missed = i;
        m->scored = 10 + i;
    }
    s->pending.present = true;
    s->pending.height = 1201;
    s->pending.n = 2;
    s->pending.uid[0] = 3, s->pending.w[0] = 65535;
    s->pending.uid[1] = 9, s->pending.w[1] = 12;
    for (int i = 0; i < 32; i++)
        s->pending.tx.b[i] = (uint8_t)(i * 3);
    for (int i = 0; i < NEURON_VAL_SALT; i++)
        s->pending.salt[i] = (uint8_t)(200 - i);
    return s;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    static char buf[1 << 16];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return buf;
}

TEST(val_state_roundtrip)
{
    char path[600], tmp[700], err[CLI_ERR_LEN];
    neuron_val_state *s = sample_state(), *t = malloc(sizeof *t);
    snprintf(path, sizeof path, "%s/v.state", test_tmpdir());
    CHECK_EQ_INT(s->n, 3);
    CHECK_EQ_INT(s->m[0].uid, 3);   /* kept sorted by uid */
    CHECK_EQ_INT(s->m[2].uid, 9);
    CHECK_EQ_INT(neuron_val_state_save(s, path, err), BASED_E_OK);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CHECK(access(tmp, F_OK) != 0);   /* renamed into place */
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    neuron_val_state_init(t, 7, &s->validator);
    CHECK_EQ_INT(neuron_val_state_load(t, path, err), BASED_E_OK);
    CHECK_EQ_INT(t->round, 41);
    CHECK_EQ_U64(t->last_height, 1234);
    CHECK_EQ_U64(t->last_commit, 1200);
    CHECK_EQ_INT(t->n, 3);
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ_INT(t->m[i].uid, s->m[i].uid);
        CHECK_EQ_MEM(t->m[i].addr.b, s->m[i].addr.b, 32);
        CHECK(t->m[i].ema == s->m[i].ema);   /* bit-exact through the text */
        CHECK_EQ_INT(t->m[i].missed, s->m[i].missed);
        CHECK_EQ_INT(t->m[i].scored, s->m[i].scored);
    }
    CHECK(t->pending.present);
    CHECK_EQ_U64(t->pending.height, 1201);
    CHECK_EQ_INT(t->pending.n, 2);
    CHECK_EQ_INT(t->pending.w[1], 12);
    CHECK_EQ_MEM(t->pending.tx.b, s->pending.tx.b, 32);
    CHECK_EQ_MEM(t->pending.salt, s->pending.salt, NEURON_VAL_SALT);
    /* saving again over it works, and no pending is "null" */
    t->pending.present = false;
    CHECK_EQ_INT(neuron_val_state_save(t, path, err), BASED_E_OK);
    CHECK(strstr(read_text(path), "\"pending\":null") != NULL);
    CHECK_EQ_INT(neuron_val_state_load(s, path, err), BASED_E_OK);
    CHECK(!s->pending.present);
    free(s);
    free(t);
}

TEST(val_state_missing_and_unwritable)
{
    char path[600], err[CLI_ERR_LEN] = "";
    neuron_val_state *s = sample_state();
    snprintf(path, sizeof path, "%s/none.state", test_tmpdir());
    CHECK_EQ_INT(neuron_val_state_load(s, path, err), BASED_E_NOT_FOUND);
    CHECK_EQ_INT(s->round, 41);   /* untouched */
    snprintf(path, sizeof path, "%s/no/such/dir/x.state", test_tmpdir());
    CHECK_EQ_INT(neuron_val_state_save(s, path, err), BASED_E_IO);
    CHECK(strstr(err, path) != NULL);
    free(s);
}

TEST(val_state_corrupt_named)
{
    static const struct { const char *text, *field; } cases[] = {
        { "", "line" },
        { "{\"version\":1,", "line" },
        { "[]", "top level" },
        { "{\"version\":2}", "version" },
        { "{\"version\":1,\"brain\":-1}", "brain" },
        { "{\"version\":1,\"brain\":7,\"validator\":\"0x12\"}", "validator" },
    };
    char path[600], err[CLI_ERR_LEN];
    neuron_val_state *s = sample_state(), *t = malloc(sizeof *t);
    snprintf(path, sizeof path, "%s/c.state", test_tmpdir());
    for (size_t i = 0; i < BASED_ARRAY_LEN(cases); i++) {
        write_text(path, cases[i].text);
        err[0] = '\0';
        neuron_val_state_init(t, 7, &s->validator);
        t->round = 5;
        CHECK_EQ_INT(neuron_val_state_load(t, path, err), BASED_E_DECODE);
        CHECK(strstr(err, path) != NULL);
        CHECK(strstr(err, "corrupt") != NULL);
        CHECK(strstr(err, cases[i].field) != NULL);
        CHECK_EQ_INT(t->round, 5);
    }
    /* a good file, then one field spoiled at a time */
    static const struct { const char *from, *to, *field; } edits[] = {
        { "\"round\":41", "\"round\":-41", "round" },
        { "\"round\":41", "\"round\":4294967296", "round" },
        { "\"ema\":0.2", "\"ema\":1.2", "ema" },
        { "\"uid\":6", "\"uid\":2", "uid" },      /* not ascending */
        { "\"missed\":1", "\"missed\":\"1\"", "missed" },
        { "\"height\":1201", "\"height\":true", "pending.height" },
        { "\"weights\":[65535,12]", "\"weights\":[65535]", "pending.weights" },
        { "\"salt\":\"0x", "\"salt\":\"0xzz", "pending.salt" },
        { "\"last_commit\":1200", "\"last_commit\":1200,\"last_commit\":3", "line" },
    };
    CHECK_EQ_INT(neuron_val_state_save(s, path, err), BASED_E_OK);
    char good[1 << 14];
    const char *txt = read_text(path);
    CHECK(strlen(txt) < sizeof good);
    memcpy(good, txt, strlen(txt) + 1);
    for (size_t i = 0; i < BASED_ARRAY_LEN(edits); i++) {
        char bad[1 << 15];
        char *at = strstr(good, edits[i].from);
        CHECK(at != NULL);
        snprintf(bad, sizeof bad, "%.*s%s%s", (int)(at - good), good, edits[i].to,
                 at + strlen(edits[i].from));
        write_text(path, bad);
        neuron_val_state_init(t, 7, &s->validator);
        CHECK_EQ_INT(neuron_val_state_load(t, path, err), BASED_E_DECODE);
        if (!strstr(err, edits[i].field))
            fprintf(stderr, "edit %zu: %s\n", i, err);
        CHECK(strstr(err, edits[i].field) != NULL);
    }
    free(s);
    free(t);
}

TEST(val_state_other_brain_or_key)
{
    char path[600], err[CLI_ERR_LEN];
    neuron_val_state *s = sample_state(), *t = malloc(sizeof *t);
    snprintf(path, sizeof path, "%s/o.state", test_tmpdir());
    CHECK_EQ_INT(neuron_val_state_save(s, path, err), BASED_E_OK);
    neuron_val_state_init(t, 8, &s->validator);
    CHECK_EQ_INT(neuron_val_state_load(t, path, err), BASED_E_BAD_PARAM);
    CHECK(strstr(err, "--state") != NULL);
    CHECK_EQ_INT(t->brain, 8);
    chain_addr other = addr_of(4);
    neuron_val_state_init(t, 7, &other);
    CHECK_EQ_INT(neuron_val_state_load(t, path, err), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(t->n, 0);
    free(s);
    free(t);
}

TEST(val_ema_missed_and_takeover)
{
    neuron_val_state *s = malloc(sizeof *s);
    chain_addr v = addr_of(2), a = addr_of(3), b = addr_of(4);
    neuron_val_state_init(s, 7, &v);
    neuron_val_miner *m = neuron_val_entry(s, 5, &a);
    neuron_val_record(m, 0.8, false, 0.3);
    CHECK_NEAR(m->ema, 0.8, 1e-15);        /* the first score as it is */
    neuron_val_record(m, 0.0, true, 0.3);
    CHECK_NEAR(m->ema, 0.56, 1e-15);       /* 0.3 x 0 + 0.7 x 0.8 */
    neuron_val_record(m, 1.0, false, 0.3);
    CHECK_NEAR(m->ema, 0.3 + 0.7 * 0.56, 1e-15);
    CHECK_EQ_INT(m->missed, 1);
    CHECK_EQ_INT(m->scored, 3);
    double before = m->ema;
    neuron_val_record(m, 0.0 / 0.0, true, 0.3);   /* NaN counts as 0 */
    CHECK_NEAR(m->ema, 0.7 * before, 1e-15);
    neuron_val_record(m, 7.0, false, 1.0);         /* clamped to 1 */
    CHECK_NEAR(m->ema, 1.0, 0);
    CHECK_EQ_INT(m->missed, 2);
    /* same uid, same account: the same entry */
    CHECK(neuron_val_entry(s, 5, &a) == m);
    CHECK_EQ_INT(m->scored, 5);
    /* the uid taken over by another account starts afresh */
    m = neuron_val_entry(s, 5, &b);
    CHECK_EQ_INT(s->n, 1);
    CHECK_EQ_INT(m->scored, 0);
    CHECK_EQ_INT(m->missed, 0);
    CHECK_NEAR(m->ema, 0, 0);
    CHECK_EQ_MEM(m->addr.b, b.b, 32);
    /* a full table gives NULL, never an overflow */
    for (unsigned u = 0; u < NEURON_VAL_MAX_UIDS; u++)
        neuron_val_entry(s, (uint16_t)u, &a);
    CHECK_EQ_INT(s->n, NEURON_VAL_MAX_UIDS);
    CHECK(neuron_val_entry(s, 60000, &a) == NULL);
    free(s);
}

TEST(val_forfeit_on_forgery)
{
    neuron_val_state *s = malloc(sizeof *s);
    chain_addr v = addr_of(2), a = addr_of(3), b = addr_of(4);
    neuron_val_state_init(s, 7, &v);
    neuron_val_miner *m = neuron_val_entry(s, 5, &a);
    neuron_val_record(m, 1.0, false, 0.3);
    CHECK_NEAR(m->ema, 1.0, 0);
    /* evidence of forgery zeroes the history; a timeout does not */
    CHECK(neuron_val_gate_forfeits(NEURON_GATE_CHALLENGE));
    CHECK(neuron_val_gate_forfeits(NEURON_GATE_SIGNATURE));
    CHECK(neuron_val_gate_forfeits(NEURON_GATE_DUPLICATE));
    CHECK(neuron_val_gate_forfeits(NEURON_GATE_SEAL));
    CHECK(!neuron_val_gate_forfeits(NEURON_GATE_TIMEOUT));
    CHECK(!neuron_val_gate_forfeits(NEURON_GATE_NO_ANSWER));
    CHECK(!neuron_val_gate_forfeits(NEURON_GATE_OK));
    neuron_val_forfeit(m);
    neuron_val_record(m, 0.0, false, 0.3);
    CHECK(m->ema == 0);
    CHECK_EQ_INT(m->scored, 2);
    /* a forfeit before any score: the next score is averaged into 0 */
    neuron_val_miner *fresh = neuron_val_entry(s, 9, &b);
    neuron_val_forfeit(fresh);
    neuron_val_record(fresh, 1.0, false, 0.3);
    CHECK_NEAR(fresh->ema, 0.3, 1e-15);
    free(s);
}

TEST(val_retain_drops_gone_miners)
{
    neuron_val_state *s = malloc(sizeof *s);
    chain_addr v = addr_of(2);
    neuron_val_state_init(s, 7, &v);
    for (unsigned u = 0; u < 4; u++) {
        chain_addr a = addr_of(3 + u);
        neuron_val_entry(s, (uint16_t)u, &a);
    }
    neuron_info l[3];
    memset(l, 0, sizeof l);
    l[0].uid = 0, l[0].addr = addr_of(3);                         /* still there */
    l[1].uid = 1, l[1].addr = addr_of(9);                         /* taken over */
    l[2].uid = 2, l[2].addr = addr_of(5), l[2].validator = true;  /* now a validator */
    neuron_val_retain(s, l, 3);                                   /* uid 3: gone */
    CHECK_EQ_INT(s->n, 1);
    CHECK_EQ_INT(s->m[0].uid, 0);
    free(s);
}

TEST(val_weights_normalised)
{
    neuron_val_state *s = malloc(sizeof *s);
    uint16_t uid[NEURON_VAL_MAX_UIDS], w[NEURON_VAL_MAX_UIDS];
    chain_addr v = addr_of(2), a = addr_of(3);
    static const double ema[] = { 0.5, 1.0, 0.25, 0.0, 0.9 / 65535.0, 0.4 / 65535.0 };
    neuron_val_state_init(s, 7, &v);
    CHECK_EQ_INT(neuron_val_weights(s, uid, w), 0);
    for (unsigned i = 0; i < BASED_ARRAY_LEN(ema); i++)
        neuron_val_entry(s, (uint16_t)(10 + i), &a)->ema = ema[i] * 0.8;   /* max 0.8 */
    size_t n = neuron_val_weights(s, uid, w);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(uid[0], 10);
    CHECK_EQ_INT(w[0], 32768);    /* 32767.5 rounds up */
    CHECK_EQ_INT(uid[1], 11);
    CHECK_EQ_INT(w[1], 65535);
    CHECK_EQ_INT(uid[2], 12);
    CHECK_EQ_INT(w[2], 16384);    /* 16383.75 */
    CHECK_EQ_INT(uid[3], 14);     /* 0 and a weight rounding to 0 omitted */
    CHECK_EQ_INT(w[3], 1);
    /* everyone at 0: nothing to post */
    for (size_t i = 0; i < s->n; i++)
        s->m[i].ema = 0;
    CHECK_EQ_INT(neuron_val_weights(s, uid, w), 0);
    /* one miner: the whole weight */
    s->m[3].ema = 1e-9;
    n = neuron_val_weights(s, uid, w);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(w[0], 65535);
    free(s);
}

TEST(val_duplicates_marked)
{
    static neuron_answer x[5];
    const neuron_answer *a[6];
    int gate[6] = { NEURON_GATE_OK, NEURON_GATE_OK, NEURON_GATE_OK, NEURON_GATE_SEAL,
                    NEURON_GATE_OK, NEURON_GATE_OK };
    for (int i = 0; i < 5; i++) {
        x[i].n = 32;
        for (int t = 0; t < 32; t++)
            x[i].tokens[t] = 'a' + t % 7;
        a[i] = &x[i];
    }
    x[1].tokens[31] = 'z';   /* differs in the last token */
    x[4].n = 31;             /* a prefix of the others */
    a[5] = NULL;             /* no answer */
    a[3] = &x[0];            /* identical but already gated: not counted */
    neuron_val_duplicates(a, gate, 6);
    CHECK_EQ_INT(gate[0], NEURON_GATE_DUPLICATE);
    CHECK_EQ_INT(gate[1], NEURON_GATE_OK);
    CHECK_EQ_INT(gate[2], NEURON_GATE_DUPLICATE);
    CHECK_EQ_INT(gate[3], NEURON_GATE_SEAL);
    CHECK_EQ_INT(gate[4], NEURON_GATE_OK);
    CHECK_EQ_INT(gate[5], NEURON_GATE_OK);
    /* three copies: all three */
    int g3[3] = { 0, 0, 0 };
    const neuron_answer *b[3] = { &x[0], &x[2], &x[0] };
    neuron_val_duplicates(b, g3, 3);
    CHECK(g3[0] == NEURON_GATE_DUPLICATE && g3[1] == NEURON_GATE_DUPLICATE &&
          g3[2] == NEURON_GATE_DUPLICATE);
}

TEST(val_commit_reveal_timing)
{
    neuron_val_state *s = malloc(sizeof *s);
    chain_addr v = addr_of(2);
    bool late;
    const uint64_t tempo = 9;
    neuron_val_state_init(s, 7, &v);
    /* nothing committed yet: a commit may go at once, nothing to reveal */
    CHECK(neuron_val_commit_due(s, tempo, 5, 3));
    CHECK(!neuron_val_reveal_due(s, tempo, 3, &late) && !late);
    /* a commit in flight (block unknown): neither */
    s->pending.present = true;
    CHECK(!neuron_val_commit_due(s, tempo, 5, 30));
    CHECK(!neuron_val_reveal_due(s, tempo, 30, &late) && !late);
    /* included at 12: revealable exactly in the next window of rewards/ */
    s->pending.height = 12;
    s->last_commit = 12;
    uint64_t wc = reward_window(tempo, 7, 12);
    int due = 0;
    for (uint64_t h = 13; h < 60; h++) {
        bool d = neuron_val_reveal_due(s, tempo, h, &late);
        CHECK_EQ_INT(d, reward_window(tempo, 7, h) == wc + 1);
        CHECK_EQ_INT(late, reward_window(tempo, 7, h) > wc + 1);
        due += d;
    }
    CHECK_EQ_INT(due, (int)tempo + 1);   /* one whole window */
    /* revealed: the next commit waits for both the rate limit and a new window */
    s->pending.present = false;
    for (uint64_t h = 13; h < 60; h++) {
        bool want = h - 12 >= 5 && reward_window(tempo, 7, h) != wc;
        CHECK_EQ_INT(neuron_val_commit_due(s, tempo, 5, h), want);
    }
    CHECK(!neuron_val_commit_due(s, tempo, 100, 59));
    CHECK(neuron_val_commit_due(s, tempo, 100, 112));
    free(s);
}

TEST(val_url_hosts)
{
    char url[300];
    CHECK(neuron_val_url("127.0.0.1", 8091, url, sizeof url));
    CHECK_EQ_STR(url, "http://127.0.0.1:8091/v1/challenge");
    CHECK(neuron_val_url("::1", 80, url, sizeof url));
    CHECK_EQ_STR(url, "http://[::1]:80/v1/challenge");
    CHECK(neuron_val_url("miner-3.example.org", 1, url, sizeof url));
    static const char *const bad[] = { "", "a/b", "user@host", "h?x", "h#x", "a b", "h\r\nX: y",
                                       "%41" };
    for (size_t i = 0; i < BASED_ARRAY_LEN(bad); i++)
        CHECK(!neuron_val_url(bad[i], 80, url, sizeof url));
    CHECK(!neuron_val_url("127.0.0.1", 0, url, sizeof url));
    CHECK(!neuron_val_url("127.0.0.1", 80, url, 10));   /* does not fit */
}
