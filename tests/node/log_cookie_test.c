/* Tests of node/log.c and node/cookie.c: line format, levels, the log
 * file, the cookie file's mode, content and atomic replacement. */
#include <sys/stat.h>
#include <unistd.h>

#include "tests/runner.h"
#include "node/cookie.h"
#include "node/log.h"
#include "chain/base.h"

TEST(node_log_format_line)
{
    char line[128];
    struct timespec ts = { .tv_sec = 1795428000, .tv_nsec = 123456789 };
    size_t n = node_log_format(line, sizeof line, NODE_LOG_INFO, &ts, "message");
    CHECK_EQ_STR(line, "2026-11-23T10:00:00.123Z INFO  message\n");
    CHECK_EQ_INT(n, strlen(line));
    node_log_format(line, sizeof line, NODE_LOG_ERROR, &ts, "x");
    CHECK_EQ_STR(line, "2026-11-23T10:00:00.123Z ERROR x\n");
    node_log_format(line, sizeof line, NODE_LOG_WARN, &ts, "y");
    CHECK_EQ_STR(line, "2026-11-23T10:00:00.123Z WARN  y\n");
    n = node_log_format(line, 20, NODE_LOG_DEBUG, &ts, "long message");
    CHECK_EQ_INT(n, 19);
    CHECK_EQ_INT(line[18], '\n');
}

TEST(node_log_levels)
{
    node_log_level l = NODE_LOG_ERROR;
    CHECK_EQ_INT(node_log_parse_level("debug", &l), BASED_E_OK);
    CHECK_EQ_INT(l, NODE_LOG_DEBUG);
    CHECK_EQ_INT(node_log_parse_level("warn", &l), BASED_E_OK);
    CHECK_EQ_INT(l, NODE_LOG_WARN);
    CHECK_EQ_INT(node_log_parse_level("error", &l), BASED_E_OK);
    CHECK_EQ_INT(node_log_parse_level("info", &l), BASED_E_OK);
    CHECK_EQ_INT(l, NODE_LOG_INFO);
    CHECK_EQ_INT(node_log_parse_level("INFO", &l), BASED_E_CONFIG);
    CHECK_EQ_INT(node_log_parse_level("verbose", &l), BASED_E_CONFIG);
    CHECK_EQ_INT(node_log_parse_level("", &l), BASED_E_CONFIG);
    CHECK_EQ_INT(l, NODE_LOG_INFO);
    CHECK_EQ_INT(node_log_get_level(), NODE_LOG_INFO);
    node_log_set_level(NODE_LOG_WARN);
    CHECK_EQ_INT(node_log_get_level(), NODE_LOG_WARN);
}

static size_t read_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    if (f) {
        n = fread(buf, 1, cap - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return n;
}

TEST(node_log_file)
{
    char path[512], text[1024];
    snprintf(path, sizeof path, "%s/basedd.log", test_tmpdir());
    node_log_set_stderr(false);
    CHECK_EQ_INT(node_log_open(path), BASED_E_OK);
    node_log_set_level(NODE_LOG_INFO);
    node_log(NODE_LOG_INFO, "height %d", 7);
    node_log(NODE_LOG_DEBUG, "dropped");
    node_log(NODE_LOG_ERROR, "bad %s", "thing");
    node_log_close();
    node_log(NODE_LOG_ERROR, "not in the file");
    read_text(path, text, sizeof text);
    /* two lines, each "YYYY-MM-DDTHH:MM:SS.mmmZ LEVEL msg" */
    char *second = strchr(text, '\n');
    CHECK(second != NULL);
    second++;
    CHECK_EQ_INT(strlen(text), 2 * 25 + strlen("INFO  height 7\n") + strlen("ERROR bad thing\n"));
    CHECK(text[4] == '-' && text[10] == 'T' && text[19] == '.' && text[23] == 'Z');
    CHECK(strncmp(text + 25, "INFO  height 7\n", 15) == 0);
    CHECK(strncmp(second + 25, "ERROR bad thing\n", 16) == 0);
    CHECK_EQ_INT(node_log_open("/nonexistent-dir/x.log"), BASED_E_IO);
}

TEST(node_cookie_file)
{
    char cookie[NODE_COOKIE_BUFSZ], again[NODE_COOKIE_BUFSZ], path[512], text[600];
    struct stat st;
    const char *dir = test_tmpdir();
    CHECK_EQ_INT(node_cookie_write(dir, cookie, sizeof cookie), BASED_E_OK);
    CHECK_EQ_INT(strlen(cookie), 75);
    CHECK(strncmp(cookie, "__cookie__:", 11) == 0);
    for (int i = 11; i < 75; i++)
        CHECK(strchr("0123456789abcdef", cookie[i]) != NULL);
    CHECK_EQ_INT(node_cookie_path(dir, path, sizeof path), BASED_E_OK);
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    CHECK_EQ_INT(read_text(path, text, sizeof text), 75);
    CHECK_EQ_STR(text, cookie);
    CHECK_EQ_INT(node_cookie_read(path, again, sizeof again), BASED_E_OK);
    CHECK_EQ_STR(again, cookie);
    /* regenerated on every start, no temporary left behind */
    chmod(path, 0644);
    CHECK_EQ_INT(node_cookie_write(dir, again, sizeof again), BASED_E_OK);
    CHECK(strcmp(again, cookie) != 0);
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    snprintf(text, sizeof text, "%s.tmp", path);
    CHECK(access(text, F_OK) != 0);
    CHECK_EQ_INT(node_cookie_remove(dir), BASED_E_OK);
    CHECK(access(path, F_OK) != 0);
    CHECK_EQ_INT(node_cookie_remove(dir), BASED_E_OK);
    CHECK_EQ_INT(node_cookie_write("/nonexistent-dir", cookie, sizeof cookie), BASED_E_IO);
    CHECK_EQ_STR(cookie, "");
    CHECK_EQ_INT(node_cookie_write(dir, cookie, 10), BASED_E_TOO_LARGE);
}

TEST(node_cookie_read_rejects)
{
    char path[512], out[NODE_COOKIE_BUFSZ];
    snprintf(path, sizeof path, "%s/c", test_tmpdir());
    CHECK_EQ_INT(node_cookie_read(path, out, sizeof out), BASED_E_IO);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("user:pass\n", f);
    fclose(f);
    CHECK_EQ_INT(node_cookie_read(path, out, sizeof out), BASED_E_DECODE);
    f = fopen(path, "w");
    fputs("__cookie__:abc\n", f);
    fclose(f);
    CHECK_EQ_INT(node_cookie_read(path, out, sizeof out), BASED_E_OK);
    CHECK_EQ_STR(out, "__cookie__:abc");
}
