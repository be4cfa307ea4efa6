/* Audit log of permission decisions, as JSON lines. */
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "hex.h"
#include "json.h"

struct audit {
    FILE *file;
};

audit_t *audit_open(const char *path)
{
    FILE *file = fopen(path, "a");
    if (!file)
        return NULL;
    audit_t *self = calloc(1, sizeof *self);
    if (!self) {
        fclose(file);
        return NULL;
    }
    self->file = file;
    return self;
}

void audit_destroy(audit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    fclose((*self_p)->file);
    free(*self_p);
    *self_p = NULL;
}

void audit_record(audit_t *self, int64_t at_ms, const char *requester,
                  const char *mpxn, const char *type,
                  const uint8_t request_id[16], bool allowed, const char *code,
                  const char *reason)
{
    char at[CLOCK_ISO_SIZE];
    char id[33];
    hex_encode(request_id, 16, id);
    fprintf(self->file,
            "{\"at\":\"%s\",\"requester\":", clock_format_iso(at_ms, at));
    json_write_string(self->file, requester);
    fputs(",\"mpxn\":", self->file);
    json_write_string(self->file, mpxn);
    fputs(",\"type\":", self->file);
    json_write_string(self->file, type);
    fprintf(self->file,
            ",\"request_id\":\"%s\",\"decision\":\"%s\",\"code\":", id,
            allowed ? "allow" : "deny");
    json_write_string(self->file, code);
    fputs(",\"reason\":", self->file);
    json_write_string(self->file, reason);
    fputs("}\n", self->file);
}

int audit_flush(audit_t *self)
{
    return fflush(self->file) == 0 ? 0 : -1;
}
