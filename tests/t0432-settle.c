/* Tests the net position: netting two statements to the micro-unit, the
 * direction of the debt, rounding half to even at the penny, and the
 * checks on the two statements. */
#include <stdlib.h>

#include "settle.h"
#include "tap.h"

static void test_rounding(void)
{
    const struct {
        uint64_t micro;
        uint64_t pence;
    } cases[] = {
        {0, 0},
        {1, 0},
        {4999, 0},
        {5000, 0},
        {5001, 1},
        {9999, 1},
        {10000, 1},
        {14999, 1},
        {15000, 2},
        {25000, 2},
        {35000, 4},
        {25001, 3},
        {1234565000, 123456},
        {1234575000, 123458},
        {999995000, 100000},
        {UINT64_MAX, UINT64_MAX / 10000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        is_int(settle_round_pence(cases[i].micro), cases[i].pence,
               "%llu micro-units round to %llu pence",
               (unsigned long long)cases[i].micro,
               (unsigned long long)cases[i].pence);
    char text[24];
    is_str(settle_format_pence(0, text), "0.00", "zero pence");
    is_str(settle_format_pence(7, text), "0.07", "seven pence");
    is_str(settle_format_pence(123456, text), "1234.56", "pounds and pence");
}

static statement_t s_statement(const char *serving, const char *requesting,
                               uint64_t count, uint64_t amount)
{
    statement_t s;
    statement_init(&s, serving, requesting, 1793491200000, 1796083200000);
    s.total.count = count;
    s.total.units = count * 48;
    s.total.amount = amount;
    return s;
}

static char *s_capture(void (*write)(const settle_t *, FILE *),
                       const settle_t *settle)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    write(settle, out);
    fclose(out);
    return text;
}

static void test_net(void)
{
    char error[512] = "";
    statement_t issued = s_statement("ALFA", "BRVO", 3, 1234565000);
    statement_t received = s_statement("BRVO", "ALFA", 2, 100000);
    settle_t settle;
    ok(settle_compute(&issued, &received, &settle, error, sizeof error) == 0,
       "two statements net: %s", error);
    is_int(settle.net, 1234465000, "net is the difference in micro-units");
    ok(settle.owed_to_own, "the counterparty owes us");
    is_str(settle.own, "ALFA", "own supplier");
    is_str(settle.counterparty, "BRVO", "counterparty");
    char *table = s_capture(settle_write_table, &settle);
    ok(strstr(table, "net: BRVO owes ALFA 1234465000 micro-units = "
                     "\u00a31234.46") != NULL,
       "table states who owes whom, in micro-units and pounds");
    ok(strstr(table, "half to even") != NULL, "table states the rounding");
    free(table);
    char *json = s_capture(settle_write_json, &settle);
    ok(strstr(json, "\"net_micro\": 1234465000, \"net\": \"1234.46\", "
                    "\"debtor\": \"BRVO\", \"creditor\": \"ALFA\"") != NULL,
       "JSON gives the net, debtor and creditor");
    free(json);

    /* The other side gets the same figure, reversed. */
    ok(settle_compute(&received, &issued, &settle, error, sizeof error) == 0,
       "netting from the other side");
    is_int(settle.net, 1234465000, "same size of net");
    ok(!settle.owed_to_own, "BRVO owes");
    table = s_capture(settle_write_table, &settle);
    ok(strstr(table, "net: BRVO owes ALFA") != NULL,
       "BRVO's table names the same debtor");
    free(table);

    statement_t even = s_statement("BRVO", "ALFA", 1, 1234565000);
    ok(settle_compute(&issued, &even, &settle, error, sizeof error) == 0 &&
           settle.net == 0,
       "equal totals net to zero");
    table = s_capture(settle_write_table, &settle);
    ok(strstr(table, "nothing is owed") != NULL, "table says nothing is owed");
    free(table);
}

static void test_checks(void)
{
    char error[512] = "";
    settle_t settle;
    statement_t issued = s_statement("ALFA", "BRVO", 1, 10);
    statement_t other = s_statement("CHRL", "ALFA", 1, 10);
    is_int(settle_compute(&issued, &other, &settle, error, sizeof error), -1,
           "statements of two different pairs are refused");
    ok(strstr(error, "not the two directions") != NULL, "error says why: %s",
       error);
    statement_t later = s_statement("BRVO", "ALFA", 1, 10);
    later.to_ms += 1;
    is_int(settle_compute(&issued, &later, &settle, error, sizeof error), -1,
           "different periods are refused");
    statement_t euro = s_statement("BRVO", "ALFA", 1, 10);
    strcpy(euro.currency, "EUR");
    is_int(settle_compute(&issued, &euro, &settle, error, sizeof error), -1,
           "different currencies are refused");
    ok(strstr(error, "GBP and EUR") != NULL, "error names both currencies");
}

int main(void)
{
    test_rounding();
    test_net();
    test_checks();
    return tap_done();
}
