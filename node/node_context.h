/* The state shared by the node's event loop and its request handlers.
 * Only the actor thread touches it. */
#ifndef SDX_NODE_CONTEXT_H
#define SDX_NODE_CONTEXT_H

#include <czmq.h>
#include <stdbool.h>

#include "agent_pool.h"
#include "audit.h"
#include "config.h"
#include "dir_feed.h"
#include "dirclient.h"
#include "ledger.h"
#include "sign.h"
#include "tariff.h"
#include "zap.h"

typedef struct {
    config_t config;
    zap_t *zap;
    zcert_t *cert;
    signer_t *signer;
    dirclient_t *directory;
    dir_feed_t *feed; /* the directory's change feed, or NULL */
    ledger_t *ledger;
    tariff_set_t *tariffs;
    audit_t *audit;
    agent_pool_t *agents;
    zsock_t *server;  /* CURVE ROUTER: requests from other suppliers */
    zsock_t *control; /* ipc ROUTER: requests from the local CLI */
    zpoller_t *poller;
    zhashx_t *served;   /* hex cid -> served_t, waiting for an agent */
    zhashx_t *outgoing; /* hex request id -> outgoing_t, waiting for a peer */
    zhashx_t *peers;    /* MPID -> peer_t, open connections to peer nodes */
    zlistx_t *outbox;   /* outbox_t, sent after the next ledger commit */
    bool in_batch;      /* a ledger transaction is open */
    int64_t allow_list_refreshed;
    int64_t key_change_ms; /* UTC: when a supplier's key next starts or ends */
    bool keys_stale;       /* a feed change may have changed suppliers' keys */
    dir_feed_sink_t client_sink; /* the feed's sink of the directory client */
    zhashx_t *recovering;  /* serving MPID -> outstanding receipt.pending */
    zhashx_t *checkpoints; /* requesting MPID -> latest checkpoint issued */
    int64_t recovery_ticked;
    int64_t checkpoint_ticked;
} node_t;

/* Opens the ledger batch if none is open. Returns 0 or -1. */
int node_batch_begin(node_t *node);

/* Queues msg (routing frame first for a ROUTER) for socket, to be sent
 * after the batch commits; takes ownership of msg. */
void node_send_after_commit(node_t *node, zsock_t *socket, zmsg_t **msg);

#endif
