/* Reading node.conf. */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *s_trim(char *text)
{
    while (isspace((unsigned char)*text))
        text++;
    char *end = text + strlen(text);
    while (end > text && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return text;
}

static int s_set_number(const char *value, long long minimum, long long maximum,
                        long long *out)
{
    char *end;
    errno = 0;
    long long number = strtoll(value, &end, 10);
    if (errno || *end || end == value || number < minimum || number > maximum)
        return -1;
    *out = number;
    return 0;
}

static bool s_valid_mpid(const char *text)
{
    if (strlen(text) != 4)
        return false;
    for (int i = 0; i < 4; i++)
        if (!isupper((unsigned char)text[i]) &&
            !isdigit((unsigned char)text[i]))
            return false;
    return true;
}

/* A numeric setting: its key, allowed range and unit. */
typedef struct {
    const char *key;
    long long minimum;
    long long maximum;
    const char *unit;
} numeric_setting_t;

static const numeric_setting_t s_numeric[] = {
    {"max-skew-seconds", 1, 86400, "seconds"},
    {"agent-timeout-ms", 10, 600000, "milliseconds"},
    {"directory-timeout-ms", 10, 600000, "milliseconds"},
    {"request-timeout-ms", 10, 600000, "milliseconds"},
    {"max-frame-bytes", 1024, 64 << 20, "bytes"},
    {"checkpoint-interval-seconds", 1, 86400, "seconds"},
    {"recovery-interval-seconds", 1, 86400, "seconds"},
};

static void s_store_number(config_t *config, size_t index, long long number)
{
    switch (index) {
    case 0:
        config->max_skew_ms = number * 1000;
        break;
    case 1:
        config->agent_timeout_ms = (int)number;
        break;
    case 2:
        config->directory_timeout_ms = (int)number;
        break;
    case 3:
        config->request_timeout_ms = (int)number;
        break;
    case 5:
        config->checkpoint_interval_ms = number * 1000;
        break;
    case 6:
        config->recovery_interval_ms = number * 1000;
        break;
    default:
        config->max_frame = (size_t)number;
        break;
    }
}

static int s_apply_number(config_t *config, const char *key, const char *value,
                          char *reason, size_t reason_size)
{
    for (size_t i = 0; i < sizeof s_numeric / sizeof *s_numeric; i++) {
        const numeric_setting_t *setting = &s_numeric[i];
        if (strcmp(key, setting->key) != 0)
            continue;
        long long number;
        if (s_set_number(value, setting->minimum, setting->maximum, &number)) {
            snprintf(reason, reason_size,
                     "invalid %s '%s': expected a whole number of %s from "
                     "%lld to %lld",
                     key, value, setting->unit, setting->minimum,
                     setting->maximum);
            return -1;
        }
        s_store_number(config, i, number);
        return 0;
    }
    snprintf(reason, reason_size,
             "unknown key '%s'; the keys are mpid, bind, directory, "
             "directory-feed, max-skew-seconds, agent-timeout-ms, "
             "directory-timeout-ms, request-timeout-ms, max-frame-bytes, "
             "checkpoint-interval-seconds and recovery-interval-seconds",
             key);
    return -1;
}

/* Stores an endpoint setting; it must fit and start with tcp:// or
 * ipc://. */
static int s_set_endpoint(const char *key, const char *value, char *out,
                          size_t out_size, char *reason, size_t reason_size)
{
    bool known =
        strncmp(value, "tcp://", 6) == 0 || strncmp(value, "ipc://", 6) == 0;
    if (!known || strlen(value) <= 6 || strlen(value) >= out_size) {
        snprintf(reason, reason_size,
                 "invalid %s '%.64s': expected tcp://HOST:PORT or ipc://PATH "
                 "of at most %zu bytes",
                 key, value, out_size - 1);
        return -1;
    }
    snprintf(out, out_size, "%s", value);
    return 0;
}

/* Applies one key = value setting; returns 0 or -1 with a reason. */
static int s_apply(config_t *config, const char *key, const char *value,
                   char *reason, size_t reason_size)
{
    if (strcmp(key, "mpid") == 0) {
        if (!s_valid_mpid(value)) {
            snprintf(reason, reason_size,
                     "mpid '%s' must be 4 upper-case letters or digits", value);
            return -1;
        }
        snprintf(config->mpid, sizeof config->mpid, "%s", value);
    } else if (strcmp(key, "bind") == 0)
        snprintf(config->bind, sizeof config->bind, "%s", value);
    else if (strcmp(key, "directory") == 0)
        snprintf(config->directory, sizeof config->directory, "%s", value);
    else if (strcmp(key, "directory-feed") == 0)
        return s_set_endpoint(key, value, config->directory_feed,
                              sizeof config->directory_feed, reason,
                              reason_size);
    else
        return s_apply_number(config, key, value, reason, reason_size);
    return 0;
}

static void s_defaults(config_t *config, const char *home)
{
    memset(config, 0, sizeof *config);
    snprintf(config->home, sizeof config->home, "%s", home);
    config->max_skew_ms = 300 * 1000;
    config->agent_timeout_ms = 5000;
    config->directory_timeout_ms = 1000;
    config->request_timeout_ms = 10000;
    config->max_frame = 1024 * 1024;
    config->checkpoint_interval_ms = 60 * 1000;
    config->recovery_interval_ms = 30 * 1000;
}

int config_load(const char *home, config_t *config, char *error,
                size_t error_size)
{
    s_defaults(config, home);
    char path[PATH_MAX];
    config_path(config, "node.conf", path);
    FILE *file = fopen(path, "r");
    if (!file) {
        snprintf(error, error_size, "cannot open %s: %s; is %s a node home?",
                 path, strerror(errno), home);
        return -1;
    }
    char line[1024];
    char seen[1024] = " "; /* keys read so far, each followed by a space */
    int number = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, file)) {
        number++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *text = s_trim(line);
        if (!*text)
            continue;
        char *equals = strchr(text, '=');
        char reason[512];
        if (!equals) {
            snprintf(error, error_size,
                     "%s:%d: expected 'key = value', got '%s'", path, number,
                     text);
            rc = -1;
            break;
        }
        *equals = '\0';
        char *key = s_trim(text);
        if (strlen(seen) + strlen(key) + 3 < sizeof seen) {
            char marked[80];
            snprintf(marked, sizeof marked, " %s ", key);
            if (strstr(seen, marked)) {
                snprintf(error, error_size,
                         "%s:%d: %s is given again; keep one line for it", path,
                         number, key);
                rc = -1;
                break;
            }
            strcat(seen, marked + 1);
        }
        if (s_apply(config, key, s_trim(equals + 1), reason, sizeof reason)) {
            snprintf(error, error_size, "%s:%d: %s", path, number, reason);
            rc = -1;
        }
    }
    fclose(file);
    if (rc == 0 &&
        (!config->mpid[0] || !config->bind[0] || !config->directory[0])) {
        snprintf(error, error_size, "%s: mpid, bind and directory are required",
                 path);
        rc = -1;
    }
    return rc;
}

char *config_path(const config_t *config, const char *name, char *path)
{
    snprintf(path, PATH_MAX, "%s/%s", config->home, name);
    return path;
}

void config_control_endpoint(const char *home, char *endpoint, size_t size)
{
    snprintf(endpoint, size, "ipc://%s/run/control", home);
}

void config_agent_endpoint(const char *home, char *endpoint, size_t size)
{
    snprintf(endpoint, size, "ipc://%s/run/agents", home);
}
