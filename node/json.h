/* Writing JSON text: string escaping for the audit log and CLI output. */
#ifndef SDX_JSON_H
#define SDX_JSON_H

#include <msgpack.h>
#include <stdio.h>

/* Writes text as a quoted JSON string, escaping quotes, backslashes and
 * control characters. */
void json_write_string(FILE *out, const char *text);

/* Writes a decoded msgpack object as JSON: binary values as lower-case hex
 * strings, map keys that are not strings as their JSON text in quotes. */
void json_write_msgpack(FILE *out, const msgpack_object *object);

#endif
