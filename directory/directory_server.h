/* The directory's query server: an actor that answers dir.lookup,
 * dir.supplier, dir.suppliers and dir.changes requests on a CURVE ROUTER
 * socket, signs every ok answer, and admits only the CURVE keys of the
 * suppliers in its database. It checks every 100 ms whether another
 * process (sdx-directory load, change-supplier) has committed to the
 * database, and then re-reads that list and publishes each new entry of
 * the change log on its CURVE PUB socket, the change feed, when it has
 * one. The feed also sends a dir.head heartbeat every second.
 *
 * The allow-list holds every supplier CURVE key valid now (dir_keys.h), and
 * is re-read when a key starts or ends as well. Each query is checked
 * against its supplier's rate limit, answered, and written to the query
 * log. A supply point's registrations go only to its installing supplier
 * and to suppliers that are or were registered for it.
 */
#ifndef SDX_DIRECTORY_SERVER_H
#define SDX_DIRECTORY_SERVER_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "sign.h"

/* Largest request frame accepted. Valid requests are under 100 bytes. */
#define DIRECTORY_MAX_REQUEST 65536

typedef struct {
    const char *db_path;        /* an initialised directory database */
    zcert_t *cert;              /* the directory's CURVE certificate */
    const signer_t *signer;     /* the directory's Ed25519 signing key */
    const char *endpoint;       /* to bind, such as tcp://127.0.0.1:* */
    const char *feed_endpoint;  /* the PUB socket to bind, or NULL */
    int ttl_seconds;            /* how long answers may be cached */
    const char *query_log_path; /* the query log file, or NULL for none */
    uint32_t rate_per_second;   /* queries a second per supplier, 0: none */
    uint32_t rate_burst;        /* queries above the rate, 1 or more */
    int64_t key_warning_ms;     /* warn of keys ending this soon, 0: never */
} directory_server_config_t;

typedef struct directory_server directory_server_t;

/* Starts the server and returns once it is bound and serving. The server
 * copies config; cert and signer are borrowed and must outlive it, while
 * the strings are only read before this returns. Returns NULL with a
 * sentence in error when the database cannot be opened, the ZAP handler
 * cannot start or the bind fails. */
directory_server_t *
directory_server_new(const directory_server_config_t *config, char *error,
                     size_t error_size);

/* Stops the server and sets *self_p to NULL; NULL is allowed. */
void directory_server_destroy(directory_server_t **self_p);

/* The endpoint actually bound (with the port chosen for "*"); the server
 * owns it. */
const char *directory_server_endpoint(const directory_server_t *self);

/* The change feed's endpoint actually bound, or "" without a feed; the
 * server owns it. */
const char *directory_server_feed_endpoint(const directory_server_t *self);

#endif
