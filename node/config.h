/* A node's configuration: HOME/node.conf plus the fixed layout of files
 * under HOME.
 *
 * node.conf holds "key = value" lines ('#' starts a comment):
 *   mpid                 this supplier's MPID (required)
 *   bind                 endpoint served to other suppliers (required),
 *                        for example tcp://127.0.0.1:7101
 *   directory            the directory's endpoint (required)
 *   directory-feed       the directory's change feed (optional); without
 *                        it cached answers expire only by their lifetime
 *   max-skew-seconds     accepted difference of a request's ts (300)
 *   agent-timeout-ms     time an agent has to answer (5000)
 *   directory-timeout-ms time the directory has to answer (1000)
 *   request-timeout-ms   time a peer node has to answer (10000)
 *   max-frame-bytes      largest frame accepted (1048576)
 *   checkpoint-interval-seconds  how often chain checkpoints are issued
 *                        and sent to requesting nodes (60)
 *   recovery-interval-seconds    how often serving nodes are asked for
 *                        receipts this node may have missed (30)
 *
 * Files under HOME: node.cert/node.cert_secret and node.sign/
 * node.sign_secret (from `sdx keygen`), directory.cert and directory.sign
 * (the directory's public keys), tariffs/ (bilateral tariffs), ledger.db,
 * audit.log, and run/ (mode 0700: the control and agent sockets).
 */
#ifndef SDX_CONFIG_H
#define SDX_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char home[PATH_MAX];
    char mpid[5];
    char bind[256];
    char directory[256];
    char directory_feed[256]; /* "" when not configured */
    int64_t max_skew_ms;
    int agent_timeout_ms;
    int directory_timeout_ms;
    int request_timeout_ms;
    size_t max_frame;
    int64_t checkpoint_interval_ms;
    int64_t recovery_interval_ms;
} config_t;

/* Reads HOME/node.conf into config. Returns 0, or -1 with a sentence
 * naming the file, line and value in error. */
int config_load(const char *home, config_t *config, char *error,
                size_t error_size) __attribute__((warn_unused_result));

/* Writes HOME/NAME into path (PATH_MAX bytes). Returns path. */
char *config_path(const config_t *config, const char *name, char *path);

/* Returns the endpoints of the control and agent sockets under HOME/run
 * ("ipc://HOME/run/control", "ipc://HOME/run/agents"). */
void config_control_endpoint(const char *home, char *endpoint, size_t size);
void config_agent_endpoint(const char *home, char *endpoint, size_t size);

#endif
