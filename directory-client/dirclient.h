/* The node's client of the central lookup (sdx-directory).
 *
 * It sends one request at a time over a CURVE DEALER socket pinned to the
 * directory's public key, checks the Ed25519 signature of every answer
 * against the directory's signing key, and caches answers until their
 * expires time. While an unexpired answer is cached the client returns it
 * without asking the directory.
 *
 * Every call is synchronous and blocks for at most timeout_ms; the node
 * calls it from its request pipeline and denies when it does not return
 * DIR_OK. A client is not thread-safe: use one per thread.
 */
#ifndef SDX_DIRCLIENT_H
#define SDX_DIRCLIENT_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "dir_changes.h"
#include "dir_records.h"

typedef struct dirclient dirclient_t;

/* Creates a client of the directory at endpoint, whose CURVE public key is
 * directory_curve_key (Z85) and whose answers are signed with
 * directory_sign_key. The client keeps its own copy of own_cert. Returns
 * NULL, with one log line, when a key is malformed or the socket cannot be
 * created. */
dirclient_t *dirclient_new(const char *endpoint,
                           const char *directory_curve_key,
                           const uint8_t directory_sign_key[32],
                           zcert_t *own_cert, int timeout_ms);

/* Closes the socket, frees the cache and sets *self_p to NULL; NULL is
 * allowed. */
void dirclient_destroy(dirclient_t **self_p);

/* Looks up a supply point by MPAN core or MPRN. On DIR_OK fills out; on
 * any other status error gets a sentence saying why. An mpxn that fails
 * its check digit is DIR_REFUSED without a query. */
dir_status_t dirclient_supply_point(dirclient_t *self, const char *mpxn,
                                    dir_supply_point_t *out, char *error,
                                    size_t error_size);

/* Looks up a supplier by MPID, as dirclient_supply_point does. An MPID
 * that is not 4 upper-case letters or digits is DIR_REFUSED. */
dir_status_t dirclient_supplier(dirclient_t *self, const char *mpid,
                                dir_supplier_t *out, char *error,
                                size_t error_size);

/* Fetches every supplier. On DIR_OK the caller owns *list (free() it);
 * *list is NULL when *count is 0. */
dir_status_t dirclient_suppliers(dirclient_t *self, dir_supplier_t **list,
                                 size_t *count, char *error, size_t error_size);

/* Drops every cached answer, so the next call asks the directory. */
void dirclient_flush(dirclient_t *self);

/* Drops the cached answer about supply point mpxn, if there is one. */
void dirclient_forget(dirclient_t *self, const char *mpxn);

/* Drops the cached answer about supplier mpid (none when mpid is NULL)
 * and the cached list of every supplier. */
void dirclient_forget_supplier(dirclient_t *self, const char *mpid);

/* Fetches the directory's changes numbered above since, at most
 * DIR_CHANGES_MAX; out->more says whether later ones remain. Never
 * cached. On DIR_OK the caller frees out with dir_change_list_clear. */
dir_status_t dirclient_changes(dirclient_t *self, uint64_t since,
                               dir_change_list_t *out, char *error,
                               size_t error_size);

/* Returns a constant name for status, such as "not_found". */
const char *dir_status_name(dir_status_t status);

#endif
