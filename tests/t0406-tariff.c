/* Tests tariff files: parsing errors with line numbers, effective-dated
 * prices, overflow, the file hash and folders of tariffs. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "tariff.h"
#include "tap.h"

static char s_dir[] = "/tmp/sdx-t0406-XXXXXX";

static const char *s_write(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    FILE *file = fopen(path, "w");
    if (!file)
        bail_out("cannot write %s", path);
    fputs(text, file);
    fclose(file);
    return path;
}

static const char *s_header = "# Alfa charges Bravo\n"
                              "tariff-id = ALFA-BRVO-2013\n"
                              "serving = ALFA\n"
                              "requesting = BRVO\n"
                              "currency = GBP\n";

static int64_t s_ms(const char *iso)
{
    int64_t ms;
    if (clock_parse_iso(iso, &ms) != 0)
        bail_out("bad time %s", iso);
    return ms;
}

static void test_pricing(void)
{
    char text[1024];
    char error[512] = "";
    snprintf(text, sizeof text,
             "%s\n"
             "# price TYPE EFFECTIVE_FROM FIXED_MICRO PER_UNIT_MICRO\n"
             "price read.profile 2013-01-01T00:00:00Z 2000 150\r\n"
             "price read.profile 2013-07-01 1000 100\n"
             "\tprice   read.registers 2013-01-01 5000 0  \n",
             s_header);
    tariff_t *t = tariff_load(s_write("a.tariff", text), error, sizeof error);
    ok(t != NULL, "valid tariff loads %s", error);
    if (!t)
        return;
    is_str(tariff_id(t), "ALFA-BRVO-2013", "id");
    is_str(tariff_serving(t), "ALFA", "serving");
    is_str(tariff_requesting(t), "BRVO", "requesting");
    is_str(tariff_currency(t), "GBP", "currency");

    uint64_t price = 0;
    ok(tariff_price(t, "read.profile", s_ms("2013-06-30T23:59:59Z"), 336,
                    &price) == 0,
       "profile priced before the change");
    is_int(price, 2000 + 150 * 336, "old price the second before");
    ok(tariff_price(t, "read.profile", s_ms("2013-07-01"), 336, &price) == 0,
       "profile priced at the change");
    is_int(price, 1000 + 100 * 336, "new price from the effective time");
    ok(tariff_price(t, "read.registers", s_ms("2013-03-01"), 1, &price) == 0,
       "registers priced");
    is_int(price, 5000, "fixed price only");
    is_int(tariff_price(t, "read.profile", s_ms("2012-12-31T23:59:59Z"), 1,
                        &price),
           -1, "no price before the first line");
    is_int(tariff_price(t, "read.events", s_ms("2013-03-01"), 1, &price), -1,
           "no price for an unlisted type");
    is_int(
        tariff_price(t, "read.profile", s_ms("2013-03-01"), UINT64_MAX, &price),
        -1, "multiplication overflow detected");
    tariff_destroy(&t);
    ok(t == NULL, "destroy nulls the pointer");
    tariff_destroy(&t);

    snprintf(text, sizeof text,
             "%sprice read.supply 2013-01-01 18446744073709551615 0\n",
             s_header);
    t = tariff_load(s_write("max.tariff", text), error, sizeof error);
    ok(t != NULL, "uint64 max fixed price loads %s", error);
    ok(t &&
           tariff_price(t, "read.supply", s_ms("2013-02-01"), 0, &price) == 0 &&
           price == UINT64_MAX,
       "uint64 max with no units");
    snprintf(text, sizeof text,
             "%sprice read.supply 2013-01-01 18446744073709551615 1\n",
             s_header);
    tariff_destroy(&t);
    t = tariff_load(s_write("max.tariff", text), error, sizeof error);
    is_int(t ? tariff_price(t, "read.supply", s_ms("2013-02-01"), 1, &price)
             : 0,
           -1, "addition overflow detected");
    tariff_destroy(&t);
}

static void test_hash(void)
{
    char text[1024];
    char error[512];
    snprintf(text, sizeof text, "%sprice meter.info 2013-01-01 1 0\n",
             s_header);
    tariff_t *a = tariff_load(s_write("h1.tariff", text), error, sizeof error);
    snprintf(text, sizeof text, "%sprice meter.info 2013-01-01 1 0\n#\n",
             s_header);
    tariff_t *b = tariff_load(s_write("h2.tariff", text), error, sizeof error);
    ok(a && b, "both load");
    if (!a || !b)
        return;
    uint8_t expected[HASH_SIZE];
    snprintf(text, sizeof text, "%sprice meter.info 2013-01-01 1 0\n",
             s_header);
    hash_blake2b(text, strlen(text), expected);
    is_mem(tariff_hash(a), expected, HASH_SIZE, "hash is BLAKE2b of the bytes");
    ok(memcmp(tariff_hash(a), tariff_hash(b), HASH_SIZE) != 0,
       "a comment changes the hash");
    tariff_destroy(&a);
    tariff_destroy(&b);
}

/* Loads text (after the header when with_header) and expects an error
 * containing each of the words. */
static void s_expect_error(const char *name, bool with_header, const char *body,
                           const char *word1, const char *word2)
{
    char text[2048];
    char error[512] = "";
    snprintf(text, sizeof text, "%s%s", with_header ? s_header : "", body);
    tariff_t *t = tariff_load(s_write("bad.tariff", text), error, sizeof error);
    ok(t == NULL, "%s rejected", name);
    ok(strstr(error, word1) != NULL, "%s: error has '%s': %s", name, word1,
       error);
    if (word2)
        ok(strstr(error, word2) != NULL, "%s: error has '%s'", name, word2);
    tariff_destroy(&t);
}

static void test_errors(void)
{
    s_expect_error("bad date", true, "price read.profile 2013-13-01 1 1\n",
                   "bad.tariff:6:", "'2013-13-01'");
    s_expect_error("time without Z", true,
                   "\nprice read.profile 2013-01-01T00:00:00 1 1\n",
                   "bad.tariff:7:", "EFFECTIVE_FROM");
    s_expect_error("negative price", true,
                   "price read.profile 2013-01-01 -1 1\n", ":6:", "'-1'");
    s_expect_error("decimal price", true,
                   "price read.profile 2013-01-01 1.50 1\n", ":6:", "'1.50'");
    s_expect_error("price overflow", true,
                   "price read.profile 2013-01-01 18446744073709551616 1\n",
                   ":6:", "larger than the maximum");
    s_expect_error("missing field", true, "price read.profile 2013-01-01 1\n",
                   ":6:", "4 fields");
    s_expect_error("extra field", true, "price read.profile 2013-01-01 1 1 1\n",
                   ":6:", "more than 5");
    s_expect_error("bad type", true, "price READ 2013-01-01 1 1\n",
                   ":6:", "'READ'");
    s_expect_error("unknown type", true, "price read.bogus 2013-01-01 1 1\n",
                   ":6:", "unknown request type 'read.bogus'");
    s_expect_error("duplicate line", true,
                   "price read.profile 2013-01-01 1 1\n"
                   "price read.profile 2013-01-01 2 2\n",
                   ":7:", "line 6");
    s_expect_error("unknown key", true, "colour = blue\n", ":6:", "'colour'");
    s_expect_error("not a key", true, "hello\n", ":6:", "'hello'");
    s_expect_error("key twice", true, "serving = ALFA\n", ":6:", "line 3");
    s_expect_error("bad MPID", false, "tariff-id = X\nserving = alfa\n",
                   ":2:", "'alfa'");
    s_expect_error("bad currency", false, "currency = pounds\n",
                   ":1:", "'pounds'");
    s_expect_error("bad id", false, "tariff-id = has space\n",
                   ":1:", "'has space'");
    s_expect_error("missing requesting", false,
                   "tariff-id = X\nserving = ALFA\ncurrency = GBP\n"
                   "price meter.info 2013-01-01 1 0\n",
                   "'requesting", NULL);
    s_expect_error("no prices", true, "", "no price lines", NULL);

    char error[512];
    ok(tariff_load("/nonexistent/x.tariff", error, sizeof error) == NULL,
       "missing file rejected");
    ok(strstr(error, "/nonexistent/x.tariff") != NULL,
       "error names the path: %s", error);
}

static void test_set(void)
{
    char error[512] = "";
    char sub[600];
    snprintf(sub, sizeof sub, "%s/set", s_dir);
    mkdir(sub, 0700);
    const char *files[][2] = {
        {"set/alfa-brvo.tariff",
         "tariff-id = AB\nserving = ALFA\nrequesting = BRVO\ncurrency = "
         "GBP\nprice meter.info 2013-01-01 1 0\n"},
        {"set/alfa-chrl.tariff",
         "tariff-id = AC\nserving = ALFA\nrequesting = CHRL\ncurrency = "
         "GBP\nprice meter.info 2013-01-01 2 0\n"},
        {"set/notes.txt", "not a tariff\n"},
    };
    for (size_t i = 0; i < 3; i++)
        s_write(files[i][0], files[i][1]);
    tariff_set_t *set = tariff_set_load(sub, error, sizeof error);
    ok(set != NULL, "folder loads %s", error);
    if (!set)
        return;
    is_int(tariff_set_size(set), 2, "only *.tariff files are read");
    is_str(tariff_id(tariff_set_get(set, 0)), "AB", "name order");
    const tariff_t *t = tariff_set_find(set, "ALFA", "CHRL");
    ok(t && strcmp(tariff_id(t), "AC") == 0, "find by pair");
    ok(tariff_set_find(set, "CHRL", "ALFA") == NULL,
       "the reverse pair is another tariff");
    tariff_set_destroy(&set);
    ok(set == NULL, "destroy nulls the set");

    s_write("set/copy.tariff", files[0][1]);
    set = tariff_set_load(sub, error, sizeof error);
    ok(set == NULL, "two tariffs for one pair rejected");
    ok(strstr(error, "alfa-brvo.tariff") && strstr(error, "copy.tariff"),
       "error names both files: %s", error);
    tariff_set_destroy(&set);

    s_write("set/copy.tariff", "serving = ALFA\nserving = BRVO\n");
    set = tariff_set_load(sub, error, sizeof error);
    ok(set == NULL && strstr(error, "copy.tariff:2:"),
       "a bad file fails the folder: %s", error);
    ok(tariff_set_load("/nonexistent", error, sizeof error) == NULL,
       "missing folder rejected");
}

int main(void)
{
    if (!mkdtemp(s_dir))
        bail_out("mkdtemp failed");
    test_pricing();
    test_hash();
    test_errors();
    test_set();
    char command[600];
    snprintf(command, sizeof command, "rm -rf '%s'", s_dir);
    if (system(command) != 0)
        diag("could not remove %s", s_dir);
    return tap_done();
}
