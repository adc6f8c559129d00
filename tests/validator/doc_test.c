/*
 * docs/validating.md against the program it documents: the page quotes
 * `based-validator --help` exactly (byte for byte, in one code block), and
 * every flag that --help lists is also explained in the page's prose (it
 * appears in backquotes outside the quote). A flag added, renamed or
 * reworded in the program without the page following fails here.
 */
#include <stdlib.h>
#include <unistd.h>

#include "tests/runner.h"
#include "tests/validator/node.h"
#include "tests/validator/tests.h"

#define DOC "docs/validating.md"
#define BUF (1u << 18)

/* The whole file into a malloc'd string (NULL when unreadable). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *b = f ? malloc(BUF) : NULL;
    size_t n = b ? fread(b, 1, BUF - 1, f) : 0;
    if (f)
        fclose(f);
    if (b)
        b[n] = '\0';
    return b;
}

/* stdout of `based-validator --help` (its exit status into *st). */
static char *help_text(int *st)
{
    char out[700];
    const char *argv[] = { test_bin("based-validator"), "--help", NULL };
    snprintf(out, sizeof out, "%s/help.out", test_tmpdir());
    unlink(out);
    *st = vt_wait(tsup_spawn(argv, out, "/dev/null", true), 60);
    return slurp(out);
}

/* doc with every occurrence of quote blanked out. */
static void blank(char *doc, const char *quote)
{
    size_t n = strlen(quote);
    for (char *p = strstr(doc, quote); p; p = strstr(p + n, quote))
        memset(p, ' ', n);
}

TEST(val_doc_quotes_help)
{
    int st = -1;
    char *help = help_text(&st), *doc = slurp(DOC);
    CHECK(help != NULL && doc != NULL);
    CHECK_EQ_INT(st, 0);
    CHECK(strlen(help) > 200);
    if (!strstr(doc, help))
        fprintf(stderr, "    " DOC " does not quote `based-validator --help` as it prints now:\n%s",
                help);
    CHECK(strstr(doc, help) != NULL);
    char *prose = strdup(doc);
    CHECK(prose != NULL);
    blank(prose, help);
    int flags = 0;
    for (const char *p = help; p && *p;) {
        char name[48], want[52];
        const char *line = p;
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
        if (sscanf(line, "  --%40[a-z-]", name) != 1)
            continue;
        flags++;
        snprintf(want, sizeof want, "`--%s", name);
        if (!strstr(prose, want))
            fprintf(stderr, "    " DOC ": --%s is in --help but explained nowhere\n", name);
        CHECK(strstr(prose, want) != NULL);
    }
    CHECK(flags >= 18);
    free(prose);
    free(help);
    free(doc);
}
