/*
 * jsonpos.c: locate a value in a JSON text by path (see jsonpos.h).
 * A small cursor over text that jansson has already validated; it only
 * skips values and compares keys, never builds anything.
 */
#include "chain/jsonpos.h"

typedef struct {
    const char *s;
    size_t len, pos;
} cur;

/* Ends a scalar. Not strchr: strchr(set, '\0') finds the terminator, and
 * jansson accepts texts with a NUL byte after a scalar. */
static bool scalar_end(char ch)
{
    return ch == ',' || ch == ']' || ch == '}' || ch == ' ' || ch == '\t' || ch == '\r' ||
           ch == '\n';
}

static void skip_ws(cur *c)
{
    while (c->pos < c->len && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' ||
                               c->s[c->pos] == '\n' || c->s[c->pos] == '\r'))
        c->pos++;
}

/* Skips a string starting at '"'; returns the offset of its first content
 * byte and sets *n to the raw content length. */
static size_t skip_string(cur *c, size_t *n)
{
    size_t start = ++c->pos;
    while (c->pos < c->len && c->s[c->pos] != '"') {
        if (c->s[c->pos] == '\\')
            c->pos++;
        c->pos++;
    }
    *n = c->pos - start;
    if (c->pos < c->len)
        c->pos++;
    return start;
}

static void skip_value(cur *c, int depth)
{
    size_t n;
    skip_ws(c);
    if (c->pos >= c->len)
        return;
    char ch = c->s[c->pos];
    if (ch == '"') {
        skip_string(c, &n);
    } else if (ch == '{' || ch == '[') {
        char close = ch == '{' ? '}' : ']';
        c->pos++;
        for (;;) {
            skip_ws(c);
            size_t at = c->pos;
            if (c->pos >= c->len || c->s[c->pos] == close || depth > 512)
                break;
            if (ch == '{') {
                skip_string(c, &n);
                skip_ws(c);
                c->pos++; /* ':' */
            }
            skip_value(c, depth + 1);
            skip_ws(c);
            if (c->pos < c->len && c->s[c->pos] == ',')
                c->pos++;
            if (c->pos == at)   /* a text this cursor does not follow: stop */
                break;
        }
        if (c->pos < c->len)
            c->pos++;
    } else {
        while (c->pos < c->len && !scalar_end(c->s[c->pos]))
            c->pos++;
    }
}

/* Moves the cursor to the member `key` of the object at the cursor;
 * returns 0 if found (cursor on the key's opening quote). */
static int enter_key(cur *c, const char *key)
{
    size_t n, klen = strlen(key);
    skip_ws(c);
    if (c->pos >= c->len || c->s[c->pos] != '{')
        return -1;
    c->pos++;
    for (;;) {
        skip_ws(c);
        if (c->pos >= c->len || c->s[c->pos] != '"')
            return -1;
        size_t keypos = c->pos;
        size_t start = skip_string(c, &n);
        skip_ws(c);
        c->pos++; /* ':' */
        if (n == klen && memcmp(c->s + start, key, n) == 0) {
            c->pos = keypos;
            return 0;
        }
        skip_value(c, 0);
        skip_ws(c);
        if (c->pos < c->len && c->s[c->pos] == ',')
            c->pos++;
        else
            return -1;
    }
}

static int enter_index(cur *c, unsigned long idx)
{
    skip_ws(c);
    if (c->pos >= c->len || c->s[c->pos] != '[')
        return -1;
    c->pos++;
    for (unsigned long i = 0;; i++) {
        skip_ws(c);
        if (c->pos >= c->len || c->s[c->pos] == ']')
            return -1;
        if (i == idx)
            return 0;
        skip_value(c, 0);
        skip_ws(c);
        if (c->pos < c->len && c->s[c->pos] == ',')
            c->pos++;
        else
            return -1;
    }
}

void chain_jsonpos_find(const char *text, size_t len, const chain_jsonpath *path,
                        int *line, int *col)
{
    cur c = { text, len, 0 };
    size_t best = 0, n;
    skip_ws(&c);
    best = c.pos;
    for (int i = 0; i < path->depth; i++) {
        const char *e = path->elem[i];
        size_t save = c.pos;
        int rc;
        if (e[0] == '#') {
            rc = enter_index(&c, strtoul(e + 1, NULL, 10));
        } else {
            rc = enter_key(&c, e);
            if (rc == 0) {
                best = c.pos;           /* the key itself */
                skip_string(&c, &n);
                skip_ws(&c);
                c.pos++;                /* ':' */
                skip_ws(&c);
                continue;
            }
        }
        if (rc != 0) {
            c.pos = save;
            break;
        }
        best = c.pos;
    }
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < best && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}
