/* Human-readable supply point view. */
#include "directory_show.h"

#include "clock.h"

static void s_print_supplier(directory_db_t *db, FILE *out, const char *label,
                             const char *mpid)
{
    dir_supplier_t supplier;
    char error[256];
    if (directory_db_get_supplier(db, mpid, &supplier, error, sizeof error) ==
        1)
        fprintf(out, "  %-12s %s (%s)\n", label, mpid, supplier.name);
    else
        fprintf(out, "  %-12s %s\n", label, mpid);
}

static void s_print_registrations(const dir_supply_point_t *point, FILE *out)
{
    fprintf(out, "  registrations (latest %zu, times UTC):\n",
            point->registration_count);
    if (point->registration_count == 0)
        fprintf(out, "    none\n");
    for (size_t i = 0; i < point->registration_count; i++) {
        const dir_registration_t *registration = &point->registrations[i];
        char from[CLOCK_ISO_SIZE], to[CLOCK_ISO_SIZE];
        clock_format_iso(registration->from_ms, from);
        if (registration->to_ms == DIR_OPEN_END)
            snprintf(to, sizeof to, "(open)");
        else
            clock_format_iso(registration->to_ms, to);
        fprintf(out, "    %-4s  from %-24s to %s\n", registration->supplier,
                from, to);
    }
}

int directory_show_supply_point(directory_db_t *db, const char *mpxn, FILE *out,
                                char *error, size_t error_size)
{
    dir_supply_point_t point;
    int found =
        directory_db_get_supply_point(db, mpxn, &point, error, error_size);
    if (found != 1)
        return found;
    if (directory_db_get_registrations(db, &point, error, error_size) != 0)
        return -1;
    fprintf(out, "supply point %s\n", point.mpxn);
    fprintf(out, "  %-12s %s\n", "fuel", point.fuel);
    fprintf(out, "  %-12s %s\n", "meter id", point.meter_id);
    fprintf(out, "  %-12s %s\n", "smart", point.smart ? "yes" : "no");
    s_print_supplier(db, out, "installing", point.installing);
    fprintf(out, "  %-12s %s\n", "head end", point.head_end);
    s_print_registrations(&point, out);
    return 1;
}
