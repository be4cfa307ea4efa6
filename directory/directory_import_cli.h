/* The import command of sdx-directory: its help text, the progress line
 * and the final report. */
#ifndef SDX_DIRECTORY_IMPORT_CLI_H
#define SDX_DIRECTORY_IMPORT_CLI_H

#include "directory_import.h"

/* The help text of 'sdx-directory import'. */
extern const char directory_import_usage[];

/* Runs an import into the database at db_path from paths (indexed by
 * directory_table_t; NULL skips a table). rejects_path (may be NULL) is
 * the rejects file to write; batch_text (may be NULL) the --batch value.
 * Prints the report on stdout and returns the exit status: 0, 1 when the
 * import failed or rejected rows, 2 for a usage error. */
int directory_import_command(const char *db_path,
                             const char *const paths[DIRECTORY_TABLE_COUNT],
                             const char *rejects_path, const char *batch_text);

#endif
