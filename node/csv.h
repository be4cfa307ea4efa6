/* Writing CSV as RFC 4180 defines it: fields separated by commas, records
 * ended by CRLF, and a field quoted when it contains a comma, a double
 * quote or a line break, with each double quote inside doubled. */
#ifndef SDX_CSV_H
#define SDX_CSV_H

#include <stdio.h>

/* Writes one field, quoted when RFC 4180 requires it. */
void csv_write_field(FILE *out, const char *text);

#endif
