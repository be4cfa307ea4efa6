/* The key commands of sdx-directory: add-key, retire-key, revoke-key and
 * keys. Each returns the exit status (DIRECTORY_EXIT_*) after printing
 * its result on stdout or its error on stderr. */
#ifndef SDX_DIRECTORY_KEYS_CLI_H
#define SDX_DIRECTORY_KEYS_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Help texts. */
extern const char directory_add_key_usage[];
extern const char directory_retire_key_usage[];
extern const char directory_revoke_key_usage[];
extern const char directory_keys_usage[];

/* Parses the value of option --name: an ISO 8601 UTC time or "now".
 * Prints a usage error for command and returns false when it is neither. */
bool directory_cli_parse_time(const char *command, const char *name,
                              const char *text, int64_t *ms);

/* Exactly one of curve_key and sign_key is non-NULL; to may be NULL. */
int directory_add_key_command(const char *db_path, const char *mpid,
                              const char *curve_key, const char *sign_key,
                              const char *from, const char *to);
int directory_retire_key_command(const char *db_path, const char *mpid,
                                 const char *key, const char *at);
/* at may be NULL, meaning now. */
int directory_revoke_key_command(const char *db_path, const char *mpid,
                                 const char *key, const char *reason,
                                 const char *at);
/* mpid may be NULL for every supplier. */
int directory_keys_command(const char *db_path, const char *mpid);

#endif
