/*
 * corpus.c: the training text, from Debian's fortunes package.
 *
 * Every regular file of the directory whose name has no dot (the .dat
 * indexes and .u8 links are skipped) is read in name order; each file is cut
 * into fortunes at lines holding only "%", and each fortune keeps its
 * trailing "%\n" separator. Fortune number i (counted across all files) goes
 * to the held-out split when i % 10 == 9, to the training split otherwise.
 * The result is the same on every machine with the same package version.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "model/model.h"
#include "chain/base.h"

#define MAX_FILES 1024
#define MAX_FILE_BYTES ((size_t)64 << 20)

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static based_err read_all(const char *path, uint8_t **out, size_t *len)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_FILE_BYTES)
        return BASED_E_IO;
    FILE *f = fopen(path, "rb");
    if (!f)
        return BASED_E_IO;
    uint8_t *b = malloc((size_t)st.st_size + 1);
    if (!b) {
        fclose(f);
        return BASED_E_NOMEM;
    }
    *len = fread(b, 1, (size_t)st.st_size, f);
    fclose(f);
    *out = b;
    return BASED_E_OK;
}

static void append(uint8_t *dst, size_t *n, size_t cap, const uint8_t *src, size_t len)
{
    if (len > cap - *n)
        len = cap - *n;
    memcpy(dst + *n, src, len);
    *n += len;
}

/* Split one file into fortunes and deal them out. */
static void deal(struct model_corpus *c, const uint8_t *b, size_t len, long *idx, size_t cap)
{
    size_t start = 0, i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && b[e] != '\n')
            e++;
        bool sep = e - i == 1 && b[i] == '%';
        size_t next = e < len ? e + 1 : e;
        if (sep || next >= len) {
            if (next > start) {
                if (*idx % 10 == 9)
                    append(c->heldout, &c->n_heldout, cap, b + start, next - start);
                else
                    append(c->train, &c->n_train, cap, b + start, next - start);
                (*idx)++;
            }
            start = next;
        }
        i = next;
    }
}

based_err model_corpus_load(const char *dir, size_t max_bytes, struct model_corpus *c,
                            char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s (install the fortunes package)", dir, strerror(errno));
        return BASED_E_IO;
    }
    char *names[MAX_FILES];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < MAX_FILES)
        if (de->d_name[0] != '.' && !strchr(de->d_name, '.'))
            names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    size_t cap = max_bytes ? max_bytes : ((size_t)256 << 20);
    c->train = malloc(cap + 1);
    c->heldout = malloc(cap + 1);
    based_err e = c->train && c->heldout ? BASED_E_OK : BASED_E_NOMEM;
    long idx = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        uint8_t *b;
        size_t len;
        snprintf(path, sizeof path, "%s/%s", dir, names[i] ? names[i] : "");
        if (!e && names[i] && read_all(path, &b, &len) == BASED_E_OK) {
            deal(c, b, len, &idx, cap);
            free(b);
        }
        free(names[i]);
    }
    if (!e && (c->n_train < 1024 || c->n_heldout < 256)) {
        snprintf(err, errlen, "%s: too little fortune text (%zu bytes)", dir, c->n_train);
        e = BASED_E_IO;
    }
    if (e)
        model_corpus_free(c);
    return e;
}

void model_corpus_free(struct model_corpus *c)
{
    free(c->train);
    free(c->heldout);
    memset(c, 0, sizeof *c);
}
