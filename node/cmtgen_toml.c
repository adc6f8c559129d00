/*
 * cmtgen_toml.c: replacing `key = value` lines of CometBFT's config.toml
 * inside their [section] (see cmtgen.h).
 *
 * Not a TOML parser: `cometbft init` writes one key per line, section
 * headers alone on their line, and every value we set is a single-line
 * string, boolean or number. A line is a section header when its first
 * non-blank character is '['; a line sets `key` when, after leading blanks,
 * it is the key followed by blanks and '='. Comments and every other line
 * are left as they are.
 */
#include "node/cmtgen.h"

typedef struct {
    const char *p;     /* start of the line */
    size_t len;        /* without the '\n' */
} line;

static const char *skip_blank(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* Is ln the header of `section`? */
static bool is_header(line ln, bool *header, const char *section)
{
    const char *end = ln.p + ln.len, *p = skip_blank(ln.p, end);
    *header = p < end && *p == '[';
    if (!*header)
        return false;
    p = skip_blank(p + 1, end);
    size_t n = strlen(section);
    if ((size_t)(end - p) < n || memcmp(p, section, n) != 0)
        return false;
    p = skip_blank(p + n, end);
    return p < end && *p == ']';
}

/* Offset just past '=' when ln sets key, else 0. */
static size_t sets_key(line ln, const char *key)
{
    const char *end = ln.p + ln.len, *p = skip_blank(ln.p, end);
    size_t n = strlen(key);
    if ((size_t)(end - p) < n || memcmp(p, key, n) != 0)
        return 0;
    p = skip_blank(p + n, end);
    return p < end && *p == '=' ? (size_t)(p + 1 - ln.p) : 0;
}

/* Finds the line of key in section: its offset and length in text. */
static bool find_key(const char *text, const char *section, const char *key, line *found)
{
    bool in = section[0] == '\0';
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        line ln = { p, nl ? (size_t)(nl - p) : strlen(p) };
        bool header;
        if (is_header(ln, &header, section))
            in = true;
        else if (header)
            in = false;
        else if (in && sets_key(ln, key)) {
            *found = ln;
            return true;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return false;
}

based_err cmtgen_toml_set(char **text, const char *section, const char *key, const char *value,
                          char *err, size_t errlen)
{
    line ln;
    size_t tlen = strlen(*text), vlen = strlen(value);
    if (tlen > CMTGEN_TOML_MAX) {
        snprintf(err, errlen, "config.toml: larger than %u bytes", CMTGEN_TOML_MAX);
        return BASED_E_TOO_LARGE;
    }
    if (!key[0] || strchr(value, '\n')) {
        snprintf(err, errlen, "config.toml: bad key or multi-line value for \"%s\"", key);
        return BASED_E_BAD_PARAM;
    }
    if (!find_key(*text, section, key, &ln)) {
        snprintf(err, errlen, "config.toml: no \"%s = ...\" line in %s%s%s", key,
                 section[0] ? "[" : "the top section", section, section[0] ? "]" : "");
        return BASED_E_NOT_FOUND;
    }
    size_t off = (size_t)(ln.p - *text), keep = sets_key(ln, key);
    size_t nlen = tlen - ln.len + keep + 1 + vlen;
    if (nlen > CMTGEN_TOML_MAX) {
        snprintf(err, errlen, "config.toml: larger than %u bytes", CMTGEN_TOML_MAX);
        return BASED_E_TOO_LARGE;
    }
    char *out = malloc(nlen + 1);
    if (!out) {
        snprintf(err, errlen, "out of memory editing config.toml");
        return BASED_E_NOMEM;
    }
    memcpy(out, *text, off + keep);
    out[off + keep] = ' ';
    memcpy(out + off + keep + 1, value, vlen);
    memcpy(out + off + keep + 1 + vlen, ln.p + ln.len, tlen - off - ln.len + 1);
    free(*text);
    *text = out;
    return BASED_E_OK;
}
