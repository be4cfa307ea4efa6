/* Access to the node's home for the finance commands of sdx: the
 * configuration, a read-only ledger, the node's signing key, the tariffs
 * and the suppliers' signing keys from the directory. */
#ifndef SDX_CLI_HOME_H
#define SDX_CLI_HOME_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "config.h"
#include "dir_records.h"
#include "ledger.h"
#include "sign.h"
#include "tariff.h"

/* The suppliers' signing keys, fetched from the directory. */
typedef struct {
    dir_supplier_t *list; /* malloc'd, freed by cli_keys_clear */
    size_t count;
} cli_keys_t;

/* Loads HOME/node.conf and opens HOME/ledger.db read-only into *ledger
 * (caller destroys it). Returns CLI_OK, or an exit code after printing
 * the error. */
int cli_home_open(const cli_options_t *options, config_t *config,
                  ledger_t **ledger);

/* Loads the node's signing key from HOME/node.sign_secret. Caller owns
 * it. Returns NULL after printing the error. */
signer_t *cli_home_signer(const config_t *config);

/* Loads HOME/tariffs. Caller owns the result. Returns NULL after printing
 * a warning; the finance commands then go on without tariffs. */
tariff_set_t *cli_home_tariffs(const config_t *config);

/* Writes HOME/statements into path (PATH_MAX bytes). Returns path. */
char *cli_home_statements(const config_t *config, char *path);

/* Fetches every supplier's signing key from the directory. Returns CLI_OK,
 * or CLI_FAILED after printing the error. */
int cli_keys_load(const config_t *config, cli_keys_t *keys);

/* A ledger_key_fn over a cli_keys_t: copies the key of mpid into key.
 * Returns 0, or -1 when the directory does not list mpid. */
int cli_keys_lookup(const char *mpid, uint8_t key[SIGN_PUBLIC_SIZE],
                    void *keys);

/* Frees the key list. */
void cli_keys_clear(cli_keys_t *keys);

#endif
