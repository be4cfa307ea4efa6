/* The node's home as the finance commands of sdx use it. */
#include "cli_home.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#include "dirclient.h"
#include "keys.h"

/* How long the CLI waits for the directory's list of suppliers. */
#define CLI_DIRECTORY_TIMEOUT_MS 3000

int cli_home_open(const cli_options_t *options, config_t *config,
                  ledger_t **ledger)
{
    char error[1024], path[PATH_MAX];
    if (!options->home)
        return cli_fail(CLI_USAGE,
                        "no node home: give --home DIR or set SDX_HOME");
    if (config_load(options->home, config, error, sizeof error))
        return cli_fail(CLI_FAILED, "%s", error);
    *ledger = ledger_open_readonly(config_path(config, "ledger.db", path),
                                   error, sizeof error);
    if (!*ledger)
        return cli_fail(CLI_FAILED, "%s", error);
    return CLI_OK;
}

signer_t *cli_home_signer(const config_t *config)
{
    char error[1024], path[PATH_MAX];
    signer_t *signer = keys_load_signer(
        config_path(config, "node.sign_secret", path), error, sizeof error);
    if (!signer)
        cli_fail(CLI_FAILED, "cannot load the node's signing key: %s", error);
    return signer;
}

tariff_set_t *cli_home_tariffs(const config_t *config)
{
    char error[1024], path[PATH_MAX];
    tariff_set_t *tariffs = tariff_set_load(
        config_path(config, "tariffs", path), error, sizeof error);
    if (!tariffs)
        fprintf(stderr,
                "sdx: warning: tariffs not loaded, currency unknown: "
                "%s\n",
                error);
    return tariffs;
}

char *cli_home_statements(const config_t *config, char *path)
{
    return config_path(config, "statements", path);
}

/* Creates a directory client from the node's certificate and the
 * directory's keys in HOME. */
static dirclient_t *s_directory(const config_t *config, char *error,
                                size_t error_size)
{
    char path[PATH_MAX], directory_key[41];
    uint8_t directory_sign[SIGN_PUBLIC_SIZE];
    zcert_t *cert = keys_load_cert(config_path(config, "node.cert", path),
                                   error, error_size);
    if (!cert ||
        keys_load_curve_public(config_path(config, "directory.cert", path),
                               directory_key, error, error_size) ||
        keys_load_sign_public(config_path(config, "directory.sign", path),
                              directory_sign, error, error_size)) {
        zcert_destroy(&cert);
        return NULL;
    }
    dirclient_t *client =
        dirclient_new(config->directory, directory_key, directory_sign, cert,
                      CLI_DIRECTORY_TIMEOUT_MS);
    zcert_destroy(&cert);
    if (!client)
        snprintf(error, error_size, "cannot create a directory client");
    return client;
}

int cli_keys_load(const config_t *config, cli_keys_t *keys)
{
    char error[1024] = "";
    memset(keys, 0, sizeof *keys);
    dirclient_t *client = s_directory(config, error, sizeof error);
    dir_status_t status =
        client ? dirclient_suppliers(client, &keys->list, &keys->count, error,
                                     sizeof error)
               : DIR_UNAVAILABLE;
    dirclient_destroy(&client);
    if (status != DIR_OK)
        return cli_fail(CLI_FAILED,
                        "cannot fetch the suppliers' signing keys from the "
                        "directory at %s: %s",
                        config->directory, error);
    return CLI_OK;
}

/* NOTE: this gives each supplier's signing key in use now. Reconcile checks
 * receipts and acknowledgements by time against every key
 * (reconcile_run_timed), but a statement file's own signature, and
 * `statement --show`, use this key, so they fail once the issuer's key
 * that signed it has been retired. */
int cli_keys_lookup(const char *mpid, uint8_t key[SIGN_PUBLIC_SIZE], void *keys)
{
    const cli_keys_t *table = keys;
    for (size_t i = 0; i < table->count; i++)
        if (strcmp(table->list[i].mpid, mpid) == 0) {
            memcpy(key, table->list[i].sign_key, SIGN_PUBLIC_SIZE);
            return 0;
        }
    return -1;
}

void cli_keys_clear(cli_keys_t *keys)
{
    free(keys->list);
    keys->list = NULL;
    keys->count = 0;
}
