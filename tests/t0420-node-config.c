/* Tests reading node.conf, the audit log's JSON lines and request checks. */
#include <stdlib.h>
#include <unistd.h>

#include "audit.h"
#include "config.h"
#include "request.h"
#include "tap.h"

static char s_home[] = "/tmp/sdx-t0420-XXXXXX";

static int s_load(const char *text, config_t *config, char *error)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/node.conf", s_home);
    FILE *file = fopen(path, "w");
    fputs(text, file);
    fclose(file);
    return config_load(s_home, config, error, 512);
}

static void test_config(void)
{
    config_t config;
    char error[512];
    ok(s_load("# comment\nmpid = ALFA\nbind = tcp://127.0.0.1:7101\n"
              "directory = tcp://127.0.0.1:7000 # trailing comment\n"
              "agent-timeout-ms = 250\n",
              &config, error) == 0,
       "valid configuration loads");
    is_str(config.mpid, "ALFA", "mpid");
    is_str(config.directory, "tcp://127.0.0.1:7000", "comment stripped");
    is_int(config.agent_timeout_ms, 250, "agent timeout set");
    is_int(config.max_skew_ms, 300000, "skew default is 300 s");
    is_int(config.max_frame, 1048576, "frame default is 1 MiB");

    ok(s_load("mpid = alfa\nbind = x\ndirectory = y\n", &config, error) == -1,
       "lower-case mpid rejected");
    ok(strstr(error, "node.conf:1") && strstr(error, "'alfa'"),
       "error names line and value: %s", error);
    ok(s_load("mpid = ALFA\nbind = x\ndirectory = y\nagent-timeout-ms = "
              "soon\n",
              &config, error) == -1,
       "non-numeric timeout rejected");
    ok(strstr(error, ":4:") != NULL, "error names line 4: %s", error);
    ok(s_load("mpid = ALFA\nbind = x\ndirectory = y\nfrobnicate = 1\n", &config,
              error) == -1,
       "unknown key rejected");
    ok(s_load("mpid = ALFA\nbind = x\ndirectory = y\nmpid = BRVO\n", &config,
              error) == -1,
       "repeated key rejected");
    ok(strstr(error, ":4: mpid is given again") != NULL,
       "error names the repeated key: %s", error);
    ok(s_load("mpid = ALFA\nbind x\n", &config, error) == -1,
       "line without '=' rejected");
    ok(s_load("mpid = ALFA\n", &config, error) == -1,
       "missing required keys rejected");
    ok(strstr(error, "required") != NULL, "error says what is required");
    ok(config_load("/nonexistent/home", &config, error, sizeof error) == -1,
       "missing home rejected");
    ok(strstr(error, "/nonexistent/home") != NULL, "error names the home");
}

static void test_intervals(void)
{
    config_t config;
    char error[512];
    ok(s_load("mpid = ALFA\nbind = x\ndirectory = y\n", &config, error) == 0,
       "configuration without intervals loads %s", error);
    is_int(config.checkpoint_interval_ms, 60000,
           "checkpoint interval default is 60 s");
    is_int(config.recovery_interval_ms, 30000,
           "recovery interval default is 30 s");
    ok(s_load("mpid = ALFA\nbind = x\ndirectory = y\n"
              "checkpoint-interval-seconds = 2\n"
              "recovery-interval-seconds = 1\n",
              &config, error) == 0,
       "both intervals load %s", error);
    is_int(config.checkpoint_interval_ms, 2000, "checkpoint interval set");
    is_int(config.recovery_interval_ms, 1000, "recovery interval set");
    is_int(config.max_frame, 1048576, "frame size keeps its default");
    ok(s_load("mpid = ALFA\nbind = x\ndirectory = y\n"
              "recovery-interval-seconds = 0\n",
              &config, error) == -1,
       "recovery interval 0 rejected");
    ok(strstr(error, "from 1 to 86400") != NULL, "error gives the range: %s",
       error);
    ok(s_load("mpid = ALFA\nbind = x\ndirectory = y\n"
              "checkpoint-interval-seconds = 86401\n",
              &config, error) == -1,
       "checkpoint interval above a day rejected");
    ok(strstr(error, "checkpoint-interval-seconds") != NULL,
       "error names the key: %s", error);
}

static void test_audit(void)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/audit.log", s_home);
    audit_t *audit = audit_open(path);
    ok(audit != NULL, "audit log opens");
    uint8_t id[16] = {0xab};
    audit_record(audit, 0, "BRVO", "1312345678907", "read.profile", id, false,
                 "not_registered", "say \"no\"\nplease");
    ok(audit_flush(audit) == 0, "audit log flushes");
    audit_destroy(&audit);
    ok(audit == NULL, "destroy nulls the pointer");
    FILE *file = fopen(path, "r");
    char line[1024] = "";
    ok(fgets(line, sizeof line, file) != NULL, "one line written");
    fclose(file);
    ok(strstr(line, "\"decision\":\"deny\"") != NULL, "decision recorded");
    ok(strstr(line, "\"at\":\"1970-01-01T00:00:00Z\"") != NULL,
       "time in ISO 8601");
    ok(strstr(line, "say \\\"no\\\"\\nplease") != NULL,
       "quotes and newlines escaped");
    ok(strstr(line, "\"request_id\":\"ab000000") != NULL, "request id hex");
}

static void test_request_types(void)
{
    ok(request_type_is_meter("read.profile"), "read.profile is a meter type");
    ok(!request_type_is_meter("receipt.ack"), "receipt.ack is not");
    ok(request_type_is_ranged("read.daily"), "read.daily is ranged");
    ok(!request_type_is_ranged("read.registers"), "registers are not ranged");
}

int main(void)
{
    if (!mkdtemp(s_home))
        bail_out("cannot create a temporary folder");
    test_config();
    test_intervals();
    test_audit();
    test_request_types();
    char command[PATH_MAX + 16];
    snprintf(command, sizeof command, "rm -rf %s", s_home);
    if (system(command) != 0)
        diag("could not remove %s", s_home);
    return tap_done();
}
