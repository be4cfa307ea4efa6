/* The audit log: one JSON line per permission decision, appended to
 * HOME/audit.log, with requester, supply point, request type, request id,
 * decision and reason. Lines are flushed with each group commit. */
#ifndef SDX_AUDIT_H
#define SDX_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct audit audit_t;

/* Opens path for appending. Returns NULL (errno set) on failure. */
audit_t *audit_open(const char *path);

void audit_destroy(audit_t **self_p);

/* Appends one decision. code is a short reason code ("allowed",
 * "not_registered", ...), reason a sentence for people. */
void audit_record(audit_t *self, int64_t at_ms, const char *requester,
                  const char *mpxn, const char *type,
                  const uint8_t request_id[16], bool allowed, const char *code,
                  const char *reason);

/* Writes buffered lines to the file. Returns 0 or -1. */
int audit_flush(audit_t *self);

#endif
