/* The wrk load generator, shared by the HTTP benches (bench/rpc_http.c,
 * bench/rpc_account_get.c): a POST script with cookie auth, and a run
 * whose summary is parsed. */
#ifndef BASED_BENCH_WRK_H
#define BASED_BENCH_WRK_H

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes a wrk Lua script that POSTs body with HTTP Basic auth `cookie`
 * ("user:password") into a fresh /tmp file; its path into path[cap].
 * Returns 0 on success. */
static inline int wrk_write_script(char *path, size_t cap, const char *body, const char *cookie)
{
    char b64[sodium_base64_ENCODED_LEN(256, sodium_base64_VARIANT_ORIGINAL)];
    size_t cl = strlen(cookie);
    if (cl > 256)
        return -1;
    snprintf(path, cap, "/tmp/based-bench-wrk-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)cookie, cl,
                      sodium_base64_VARIANT_ORIGINAL);
    fprintf(f, "wrk.method = \"POST\"\n"
               "wrk.body = '%s'\n"
               "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
               "wrk.headers[\"Authorization\"] = \"Basic %s\"\n", body, b64);
    return fclose(f) == 0 ? 0 : -1;
}

typedef struct {
    double rps;
    char latency[160];
    long non2xx;
    int socket_errors;
} wrk_result;

/* Runs `wrk args` and parses its summary. Returns 0 when it ran and
 * measured a rate. */
static inline int wrk_run(const char *args, wrk_result *r)
{
    char cmd[1024], line[512];
    memset(r, 0, sizeof *r);
    snprintf(cmd, sizeof cmd, "wrk %s 2>&1", args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    while (fgets(line, sizeof line, p)) {
        char *v;
        if ((v = strstr(line, "Requests/sec:")))
            r->rps = strtod(v + 13, NULL);
        else if ((v = strstr(line, "Latency")) && !r->latency[0])
            snprintf(r->latency, sizeof r->latency, "%s", v);
        else if ((v = strstr(line, "Non-2xx or 3xx responses:")))
            r->non2xx = strtol(v + 26, NULL, 10);
        else if (strstr(line, "Socket errors:"))
            r->socket_errors = 1;
    }
    int rc = pclose(p);
    r->latency[strcspn(r->latency, "\n")] = '\0';
    return rc == 0 && r->rps > 0 ? 0 : -1;
}

#endif
