/* sdx-node: the supplier's data exchange daemon. */
#include <czmq.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "node.h"

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: sdx-node --home DIR [-v]\n"
            "\n"
            "Runs a supplier's sdx node from the home folder DIR, which\n"
            "holds node.conf, the node's keys, the directory's public keys,\n"
            "tariffs/ and the ledger (see docs/operations.md).\n"
            "\n"
            "  --home DIR   the node's home folder\n"
            "  -v           log every message at debug level\n"
            "\n"
            "Prints 'sdx-node ready endpoint=ENDPOINT' when it\n"
            "serves, and stops cleanly on SIGTERM or SIGINT.\n");
}

int main(int argc, char **argv)
{
    const char *home = NULL;
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--home") == 0 && i + 1 < argc)
            home = argv[++i];
        else if (strcmp(argv[i], "-v") == 0)
            verbose = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "sdx-node: unknown argument '%s'\n", argv[i]);
            s_usage(stderr);
            return 2;
        }
    }
    if (!home) {
        fprintf(stderr, "sdx-node: --home DIR is required\n");
        s_usage(stderr);
        return 2;
    }
    zsys_init();
    log_init("sdx-node", verbose);
    char error[1024];
    node_actor_t *node = node_new(home, error, sizeof error);
    if (!node) {
        log_error("node failed to start: %s", error);
        return 1;
    }
    printf("sdx-node ready endpoint=%s\n", node_endpoint(node));
    fflush(stdout);
    while (!zsys_interrupted)
        zclock_sleep(100);
    node_destroy(&node);
    log_info("sdx-node stopped");
    return 0;
}
