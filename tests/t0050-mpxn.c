/* MPAN core and MPRN classification and check digits. */
#include "mpxn.h"
#include "tap.h"

static void test_valid_mpan_cores(void)
{
    char error[256] = "";
    is_int(mpxn_classify("1312345678907", error, sizeof error), MPXN_MPAN,
           "1312345678907 is an MPAN core");
    is_int(mpxn_classify("2200011955152", error, sizeof error), MPXN_MPAN,
           "2200011955152 is an MPAN core");
    is_int(mpan_check_digit("131234567890"), 7, "check digit of 1312345678907");
    is_int(mpan_check_digit("220001195515"), 2, "check digit of 2200011955152");
}

static void test_bad_check_digit(void)
{
    char error[256] = "";
    is_int(mpxn_classify("2499999999990", error, sizeof error), MPXN_INVALID,
           "2499999999990 is rejected");
    is_str(error,
           "invalid MPAN core '2499999999990': check digit is 0, expected 1",
           "bad check digit error names value and expected digit");
    is_int(mpxn_classify("1312345678906", NULL, 0), MPXN_INVALID,
           "one-off check digit is rejected without an error buffer");
}

static void test_valid_mprns(void)
{
    char error[256] = "";
    is_int(mpxn_classify("3938424403", error, sizeof error), MPXN_MPRN,
           "3938424403 is an MPRN");
    is_int(mprn_check_value("39384244", 8), 3, "check value of 3938424403");
    is_int(mpxn_classify("13678903", error, sizeof error), MPXN_MPRN,
           "13678903 is an MPRN");
    is_int(mprn_check_value("136789", 6), 3, "check value of 13678903");
}

static void test_bad_mprn(void)
{
    char error[256] = "";
    is_int(mpxn_classify("3938424404", error, sizeof error), MPXN_INVALID,
           "3938424404 is rejected");
    is_str(error, "invalid MPRN '3938424404': check digits are 04, expected 03",
           "bad MPRN error names value and expected digits");
    is_int(mprn_check_value("12a4", 4), -1, "MPRN body with a letter");
}

static void test_non_digits(void)
{
    char error[256] = "";
    const char *cases[] = {"131234567890A", "1312 45678907", "-312345678907",
                           "39384244O3", "1312345678907 "};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        error[0] = '\0';
        is_int(mpxn_classify(cases[i], error, sizeof error), MPXN_INVALID,
               "'%s' is rejected", cases[i]);
        ok(strstr(error, "use digits only") != NULL,
           "'%s' error says digits only", cases[i]);
    }
    is_int(mpan_check_digit("13123456789X"), -1, "MPAN digits with a letter");
}

static void test_wrong_lengths(void)
{
    char error[256] = "";
    const char *cases[] = {"",
                           "12345",
                           "13123456789",
                           "131234567890",
                           "13123456789070",
                           "12345678901234567890"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        error[0] = '\0';
        is_int(mpxn_classify(cases[i], error, sizeof error), MPXN_INVALID,
               "length %zu is rejected", strlen(cases[i]));
        ok(strstr(error, "MPAN core has 13") != NULL,
           "length %zu error gives the lengths", strlen(cases[i]));
    }
    is_str(error,
           "invalid supply point number '12345678901234567890': it has 20 "
           "digits, but an MPAN core has 13 and an MPRN 6 to 10",
           "wrong length error names the value and its length");
}

static void test_core_make(void)
{
    char core[14];
    is_int(mpan_core_make("120000000210", core), 0, "make core from 12 digits");
    is_str(core, "1200000002107", "made core has its check digit");
    is_int(mpxn_classify(core, NULL, 0), MPXN_MPAN, "made core is valid");
    is_int(mpan_core_make("12000000021", core), -1, "11 digits are rejected");
    is_int(mpan_core_make("1200000002100", core), -1, "13 digits are rejected");
    is_int(mpan_core_make("12000000021x", core), -1, "a letter is rejected");
}

int main(void)
{
    test_valid_mpan_cores();
    test_bad_check_digit();
    test_valid_mprns();
    test_bad_mprn();
    test_non_digits();
    test_wrong_lengths();
    test_core_make();
    return tap_done();
}
