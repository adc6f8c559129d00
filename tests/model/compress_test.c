/*
 * compress_test.c: the compression methods (on a tiny model, and the bands
 * the default model is held to), the @huggingface/gguf interop check, and
 * the based-model command line.
 */
#include <math.h>
#include <unistd.h>

#include "tests/runner.h"
#include "tests/model/util.h"
#include "model/gguf.h"
#include "model/quant.h"
#include "chain/base.h"

static model_t *load_or_null(const char *p)
{
    model_t *m = NULL;
    char err[256];
    if (p && model_load(p, &m, err, sizeof err))
        fprintf(stderr, "%s\n", err);
    return m;
}

TEST(model_compress_all_methods_tiny)
{
    model_t *m = load_or_null(tiny_model("tiny.gguf", 2));
    CHECK(m);
    struct model_corpus c;
    char err[256];
    CHECK_EQ_INT(model_corpus_load(MODEL_FORTUNES_DIR, 200000, &c, err, sizeof err), BASED_E_OK);
    static const char *const methods[] = { "f32", "q8_0", "q4_0", "cerberus", "heads", "consensus", "prime" };
    for (size_t i = 0; i < BASED_ARRAY_LEN(methods); i++) {
        struct model_compress_opts o;
        model_compress_defaults(&o);
        o.method = methods[i];
        o.calib = c.train;
        o.n_calib = 32 * 64;
        o.shards = 3;
        struct model_gguf *g;
        model_t *q;
        CHECK_EQ_INT(model_compress(m, &o, &g, err, sizeof err), BASED_E_OK);
        CHECK_EQ_STR(model_gguf_get_str(g, "based.compression.method"), methods[i]);
        CHECK_EQ_INT(model_from_gguf(g, &q, err, sizeof err), BASED_E_OK);
        struct model_eval_row row;
        CHECK_EQ_INT(model_eval_pair(m, q, c.heldout, c.n_heldout, 1024, &row), BASED_E_OK);
        CHECK(row.positions >= 1024);
        if (i == 0) {
            CHECK_NEAR(row.kld, 0, 0);
            CHECK_NEAR(row.top1, 1, 0);
        }
        CHECK(row.kld >= 0 && isfinite(row.kld));
        CHECK(model_weight_bytes(q) <= model_weight_bytes(m));
        model_free(q);
    }
    struct model_compress_opts o;
    model_compress_defaults(&o);
    o.method = "zip";
    struct model_gguf *g;
    CHECK_EQ_INT(model_compress(m, &o, &g, err, sizeof err), BASED_E_BAD_PARAM);
    o.method = "heads";   /* needs calibration text */
    CHECK_EQ_INT(model_compress(m, &o, &g, err, sizeof err), BASED_E_BAD_PARAM);
    model_corpus_free(&c);
    model_free(m);
}

/*
 * The vote rule on its own: m = 9 shards, keep a weight with >= 6 votes.
 * Whatever f = 2 (< m/3) corrupted shards vote, a weight every honest
 * shard votes for stays, and one no honest shard votes for stays out.
 */
TEST(model_consensus_vote_rule)
{
    int m = 9, need = (2 * m + 2) / 3;
    CHECK_EQ_INT(need, 6);
    for (int honest_for = 0; honest_for <= 1; honest_for++)
        for (int bad_votes = 0; bad_votes <= 2; bad_votes++) {
            int votes = honest_for * (m - 2) + bad_votes;
            CHECK_EQ_INT(votes >= need, honest_for);
        }
    /* and for m = 3, 6, 12 the same margin holds with f < m/3 */
    for (m = 3; m <= 30; m += 3) {
        int f = (m - 1) / 3;
        need = (2 * m + 2) / 3;
        CHECK((m - f) >= need && f < need);
    }
}

TEST(model_prime_mask)
{
    model_t *m = load_or_null(tiny_model("tiny.gguf", 2));
    CHECK(m);
    struct model_compress_opts o;
    model_compress_defaults(&o);
    o.method = "prime";
    struct model_gguf *g;
    char err[256];
    CHECK_EQ_INT(model_compress(m, &o, &g, err, sizeof err), BASED_E_OK);
    const struct model_gguf_tensor *t = model_gguf_find_tensor(g, "blk.0.ffn_gate.weight");
    CHECK(t && t->type == MODEL_T_SQ8);
    int rows = (int)t->dims[1], cols = (int)t->dims[0], kept = 0;
    float *row = malloc((size_t)cols * sizeof(float));
    uint64_t off[64];
    CHECK(rows <= 64);
    CHECK(model_sq8_bytes(t->data, t->nbytes, (uint64_t)rows, (uint64_t)cols, off) == t->nbytes);
    static const int primes[] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61 };
    for (int r = 0; r < rows; r++) {
        model_dequant_row(MODEL_T_SQ8, t->data + off[r], (size_t)cols, row);
        for (int c = 0; c < cols; c++) {
            if (row[c] == 0)
                continue;
            kept++;
            bool pr = false, pc = false;
            for (size_t k = 0; k < BASED_ARRAY_LEN(primes); k++) {
                pr |= primes[k] == r;
                pc |= primes[k] == c;
            }
            CHECK(pr && pc);
        }
    }
    CHECK(kept > 0 && kept < rows * cols / 20);
    free(row);
    model_gguf_free(g);
    model_free(m);
}

TEST(model_heads_removes)
{
    model_t *m = load_or_null(tiny_model("tiny.gguf", 2));
    CHECK(m);
    struct model_corpus c;
    char err[256];
    CHECK_EQ_INT(model_corpus_load(MODEL_FORTUNES_DIR, 200000, &c, err, sizeof err), BASED_E_OK);
    struct model_compress_opts o;
    model_compress_defaults(&o);
    o.method = "heads";
    o.calib = c.train;
    o.n_calib = 32 * 16;
    o.theta = 1e9f;   /* every head is below: all removed */
    struct model_gguf *g;
    model_t *q;
    CHECK_EQ_INT(model_compress(m, &o, &g, err, sizeof err), BASED_E_OK);
    CHECK(model_gguf_find_tensor(g, "blk.0.attn_q.weight") == NULL);
    const struct model_gguf_value *s = model_gguf_find(g, "based.heads.significance");
    CHECK(s && s->count == 4);
    CHECK_EQ_INT(model_from_gguf(g, &q, err, sizeof err), BASED_E_OK);
    /* exactly the attention matrices are gone: each layer keeps its FFN */
    const struct model_config *cf = model_config(m);
    uint64_t kvd = (uint64_t)(cf->dim / cf->n_heads * cf->n_kv_heads), D = (uint64_t)cf->dim;
    CHECK_EQ_U64(model_weight_count(q),
                 model_weight_count(m) - (uint64_t)cf->n_layers * (2 * D * D + 2 * D * kvd));
    /* and a prefill is still token-by-token decoding */
    int V = cf->vocab, tk[12];
    float *all = malloc(12 * (size_t)V * sizeof(float)), *one = malloc((size_t)V * sizeof(float));
    model_state *sa = model_state_new(q), *sb = model_state_new(q);
    for (int i = 0; i < 12; i++)
        tk[i] = c.train[i];
    CHECK_EQ_INT(model_forward(sa, tk, 12, 0, all, false), BASED_E_OK);
    for (int i = 0; i < 12; i++) {
        CHECK_EQ_INT(model_forward(sb, tk + i, 1, i, one, true), BASED_E_OK);
        CHECK_EQ_MEM(one, all + (size_t)i * V, (size_t)V * sizeof(float));
    }
    model_state_free(sa);
    model_state_free(sb);
    free(all);
    free(one);
    model_free(q);
    o.theta = -1;      /* none removed: same logits as the original */
    CHECK_EQ_INT(model_compress(m, &o, &g, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(model_from_gguf(g, &q, err, sizeof err), BASED_E_OK);
    struct model_eval_row row;
    CHECK_EQ_INT(model_eval_pair(m, q, c.heldout, c.n_heldout, 256, &row), BASED_E_OK);
    CHECK_NEAR(row.kld, 0, 0);
    model_free(q);
    model_corpus_free(&c);
    model_free(m);
}

/* The bands of issue 5, on the shipped default model, 20,480 positions. */
TEST(model_default_bands)
{
    model_t *m = load_or_null(MODEL_DEFAULT_PATH);
    CHECK(m);
    struct model_corpus c;
    char err[256];
    CHECK_EQ_INT(model_corpus_load(MODEL_FORTUNES_DIR, 0, &c, err, sizeof err), BASED_E_OK);
    static const struct { const char *m; double kld_max, kld_min, top1_min; } band[] = {
        { "q8_0", 0.005, 0, 0.97 }, { "cerberus", 0.01, 0, 0 },
        { "q4_0", 0.08, 0, 0.85 }, { "prime", 1e9, 1.0, 0 } };
    long n;
    float *ref = model_eval_reference(m, c.heldout, c.n_heldout, 20480, &n);
    CHECK(ref && n >= 20000);
    for (size_t i = 0; i < BASED_ARRAY_LEN(band); i++) {
        struct model_compress_opts o;
        model_compress_defaults(&o);
        o.method = band[i].m;
        struct model_gguf *g;
        model_t *q;
        CHECK_EQ_INT(model_compress(m, &o, &g, err, sizeof err), BASED_E_OK);
        CHECK_EQ_INT(model_from_gguf(g, &q, err, sizeof err), BASED_E_OK);
        struct model_eval_row row;
        CHECK_EQ_INT(model_eval_against(ref, n, q, c.heldout, c.n_heldout, &row), BASED_E_OK);
        printf("    %-9s kld %.6f top1 %.4f ppl_ratio %.4f (%ld positions)\n", band[i].m, row.kld,
               row.top1, row.ppl_ratio, row.positions);
        CHECK(row.positions >= 20000);
        CHECK(row.kld <= band[i].kld_max);
        CHECK(row.kld >= band[i].kld_min);
        CHECK(row.top1 >= band[i].top1_min);
        model_free(q);
    }
    free(ref);
    model_corpus_free(&c);
    model_free(m);
}

/* An independent parser (@huggingface/gguf, run with node) reads our file. */
TEST(model_interop_hf_gguf)
{
    const char *dir = "build/npm";
    char cmd[4096];
    if (access("build/npm/node_modules/@huggingface/gguf/package.json", R_OK) != 0) {
        snprintf(cmd, sizeof cmd, "mkdir -p %s && cd %s && npm install --no-audit --no-fund "
                 "--silent @huggingface/gguf >/dev/null 2>&1", dir, dir);
        int rc = run_cmd(cmd);
        if (rc != 0)
            printf("    npm install @huggingface/gguf failed (exit %d): needs node, npm and the registry\n", rc);
        CHECK_EQ_INT(rc, 0);
    }
    FILE *f = fopen("build/npm/based-check.mjs", "w");
    CHECK(f);
    fputs("import { gguf } from \"@huggingface/gguf\";\n"
          "const { metadata, tensorInfos } = await gguf(process.argv[2], { allowLocalFile: true });\n"
          "console.log(\"arch \" + metadata[\"general.architecture\"]);\n"
          "for (const t of tensorInfos) console.log(t.name + \" \" + t.shape.map(String).join(\"x\") + \" \" + t.dtype);\n",
          f);
    fclose(f);
    /* our default model, and its Q8_0 and Q4_0 compressions */
    static const char *const methods[] = { "f32", "q8_0", "q4_0" };
    for (size_t i = 0; i < BASED_ARRAY_LEN(methods); i++) {
        char path[512], out[512];
        snprintf(path, sizeof path, "%s/%s.gguf", test_tmpdir(), methods[i]);
        snprintf(out, sizeof out, "%s/%s.txt", test_tmpdir(), methods[i]);
        snprintf(cmd, sizeof cmd, "%s compress --method %s %s %s >/dev/null && node build/npm/based-check.mjs %s > %s",
                 test_bin("based-model"), methods[i], MODEL_DEFAULT_PATH, path, path, out);
        CHECK_EQ_INT(run_cmd(cmd), 0);
        char *txt = slurp(out, NULL);
        CHECK(txt);
        CHECK(strstr(txt, "arch llama\n") != NULL);
        struct model_gguf *g;
        char err[256];
        CHECK_EQ_INT(model_gguf_load(path, &g, err, sizeof err), BASED_E_OK);
        for (size_t k = 0; k < model_gguf_tensor_count(g); k++) {
            const struct model_gguf_tensor *t = model_gguf_tensor_at(g, k);
            char line[256];
            if (t->n_dims == 2)
                snprintf(line, sizeof line, "\n%s %" PRIu64 "x%" PRIu64 " %u\n", t->name, t->dims[0], t->dims[1], t->type);
            else
                snprintf(line, sizeof line, "\n%s %" PRIu64 " %u\n", t->name, t->dims[0], t->type);
            if (!strstr(txt, line))
                printf("    missing in the node output: %s", line + 1);
            CHECK(strstr(txt, line) != NULL);
        }
        model_gguf_free(g);
        free(txt);
    }
}

TEST(model_cli_help_and_usage)
{
    char cmd[4096];
    static const char *const sub[] = { "train", "compress", "eval", "generate", "info" };
    const char *bin = test_bin("based-model");
    snprintf(cmd, sizeof cmd, "%s --help >/dev/null", bin);
    CHECK_EQ_INT(run_cmd(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s --version | grep -q based-model", bin);
    CHECK_EQ_INT(run_cmd(cmd), 0);
    for (size_t i = 0; i < BASED_ARRAY_LEN(sub); i++) {
        snprintf(cmd, sizeof cmd, "%s %s --help | grep -q usage", bin, sub[i]);
        CHECK_EQ_INT(run_cmd(cmd), 0);
        snprintf(cmd, sizeof cmd, "%s %s --bogus 2>/dev/null", bin, sub[i]);
        CHECK_EQ_INT(run_cmd(cmd), 2);
    }
    snprintf(cmd, sizeof cmd, "%s frobnicate 2>/dev/null", bin);
    CHECK_EQ_INT(run_cmd(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s compress --method zip a b 2>/dev/null", bin);
    CHECK_EQ_INT(run_cmd(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s info /nonexistent.gguf 2>&1 | grep -q nonexistent", bin);
    CHECK_EQ_INT(run_cmd(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s info /nonexistent.gguf 2>/dev/null", bin);
    CHECK_EQ_INT(run_cmd(cmd), 1);
    snprintf(cmd, sizeof cmd, "%s info %s | grep -q 'general.architecture'", bin, MODEL_DEFAULT_PATH);
    CHECK_EQ_INT(run_cmd(cmd), 0);
}

TEST(model_cli_generate_seed)
{
    char cmd[4096], a[512], b[512], c[512];
    const char *bin = test_bin("based-model");
    snprintf(a, sizeof a, "%s/a.txt", test_tmpdir());
    snprintf(b, sizeof b, "%s/b.txt", test_tmpdir());
    snprintf(c, sizeof c, "%s/c.txt", test_tmpdir());
    snprintf(cmd, sizeof cmd, "%s generate --prompt 'The ' -n 200 --seed 1 > %s && "
             "%s generate --prompt 'The ' -n 200 --seed 1 > %s && %s generate --prompt 'The ' -n 60 --seed 2 > %s",
             bin, a, bin, b, bin, c);
    CHECK_EQ_INT(run_cmd(cmd), 0);
    char *x = slurp(a, NULL), *y = slurp(b, NULL), *z = slurp(c, NULL);
    CHECK(x && y && z);
    CHECK_EQ_STR(x, y);
    CHECK(strcmp(x, z) != 0);
    CHECK(strncmp(x, "The ", 4) == 0 && strlen(x) == 4 + 200 + 1);
    free(x);
    free(y);
    free(z);
}
