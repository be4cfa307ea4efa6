/* The directory-feed key of node.conf: optional, an endpoint that must
 * be tcp:// or ipc://, and given once. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static char s_home[] = "/tmp/sdx-t0425-XXXXXX";

static const char s_required[] = "mpid = ALFA\nbind = tcp://127.0.0.1:7101\n"
                                 "directory = tcp://127.0.0.1:7000\n";

/* Writes node.conf with the required keys and then extra, and loads it. */
static int s_load(const char *extra, config_t *config, char *error)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/node.conf", s_home);
    FILE *file = fopen(path, "w");
    if (!file)
        bail_out("cannot write %s", path);
    fputs(s_required, file);
    fputs(extra, file);
    fclose(file);
    return config_load(s_home, config, error, 512);
}

static void s_expect_rejected(const char *extra, const char *message,
                              const char *name)
{
    config_t config;
    char error[512] = "";
    is_int(s_load(extra, &config, error), -1, "%s is rejected", name);
    ok(strstr(error, message) != NULL, "%s: error '%s' contains '%s'", name,
       error, message);
}

int main(void)
{
    if (!mkdtemp(s_home))
        bail_out("mkdtemp failed");
    config_t config;
    char error[512] = "";
    is_int(s_load("", &config, error), 0, "no feed loads: %s", error);
    is_str(config.directory_feed, "", "and leaves the feed empty");
    is_int(s_load("directory-feed = tcp://127.0.0.1:7002\n", &config, error), 0,
           "a tcp feed loads: %s", error);
    is_str(config.directory_feed, "tcp://127.0.0.1:7002", "its endpoint");
    is_int(s_load("directory-feed = ipc:///run/sdx/feed\n", &config, error), 0,
           "an ipc feed loads: %s", error);
    is_str(config.directory_feed, "ipc:///run/sdx/feed", "its endpoint");

    s_expect_rejected("directory-feed = udp://127.0.0.1:7002\n",
                      "invalid directory-feed 'udp://127.0.0.1:7002'",
                      "another transport");
    s_expect_rejected("directory-feed = tcp://\n", "expected tcp://HOST:PORT",
                      "an endpoint without a host");
    s_expect_rejected("directory-feed =\n", "invalid directory-feed ''",
                      "an empty value");
    char longer[400];
    snprintf(longer, sizeof longer, "directory-feed = tcp://%0300d:1\n", 0);
    s_expect_rejected(longer, "at most 255 bytes", "a 300-byte endpoint");
    s_expect_rejected(
        "directory-feed = tcp://a:1\ndirectory-feed = tcp://b:1\n",
        "directory-feed is given again", "a second line");
    s_expect_rejected("directory-fed = tcp://a:1\n", "directory-feed,",
                      "a misspelt key, whose error lists the keys");

    char command[512];
    snprintf(command, sizeof command, "rm -rf '%s'", s_home);
    if (system(command) != 0)
        diag("could not remove %s", s_home);
    return tap_done();
}
