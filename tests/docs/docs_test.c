/* The documentation matches the code it describes. */
#include "tests/runner.h"
#include "node/node.h"
#include "node/rpcdoc.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = malloc(1 << 20);
    size_t n = b ? fread(b, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (b)
        b[n] = '\0';
    return b;
}

TEST(docs_rpc_md_matches_method_table)
{
    char *want = node_rpc_markdown(node_methods);
    char *have = slurp("docs/rpc.md");
    CHECK(want != NULL);
    if (!have || strcmp(have, want) != 0) {
        FILE *f = fopen("build/rpc.md", "w");
        if (f) {
            fputs(want, f);
            fclose(f);
        }
        fprintf(stderr, "    docs/rpc.md differs from the method table: run `make rpc-doc`\n");
    }
    CHECK(have != NULL);
    CHECK_EQ_STR(have, want);
    free(want);
    free(have);
}

TEST(docs_rpc_md_lists_every_method)
{
    char *have = slurp("docs/rpc.md");
    CHECK(have != NULL);
    for (const node_rpc_method *m = node_methods; m->name; m++) {
        char h[128];
        snprintf(h, sizeof h, "### `%s`", m->name);
        CHECK(strstr(have, h) != NULL);
    }
    free(have);
}

const struct test_case test_table[] = {
    { "docs_rpc_md_matches_method_table", test_docs_rpc_md_matches_method_table },
    { "docs_rpc_md_lists_every_method", test_docs_rpc_md_lists_every_method },
    { NULL, NULL },
};
