/* gen_register: writes a synthetic national register as the three CSV
 * files that `sdx-directory import` reads, for the directory benchmark.
 *
 * Supply point i (from 0) is a function of the seed and i alone, so the
 * files are the same on every run with the same options, and --sample can
 * name existing supply points without reading the files. MPAN cores start
 * with a distributor id from 10 to 23 and MPRNs have 10 digits; both have
 * valid check digits, and each kind is written in ascending order. A
 * share of the supply points (--history-percent) has two to four
 * contiguous registrations, each with another supplier, and the others
 * one; the latest registration is always open.
 *
 * Supplier keys are real: CURVE (X25519) and Ed25519 key pairs made from
 * seeds derived from --seed, so their public keys are deterministic too.
 * --keys DIR also writes each supplier's CURVE certificate there, so that
 * a benchmark client can connect as that supplier.
 */
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"
#include "clock.h"
#include "hex.h"
#include "mpxn.h"
#include "sign.h"

#define S_DEFAULT_ROWS  30000000L
#define S_MAX_SUPPLIERS 999
/* MPRN bodies are 8 digits from 10000000, so supply point i gets its own
 * slot of at least one value only while rows stay below this. */
#define S_MAX_ROWS 90000000L
/* MPAN core bodies (12 digits) from 10 00000000 00 to 23 99999999 99. */
#define S_MPAN_FIRST 100000000000LL
#define S_MPAN_SPAN  140000000000LL
#define S_MPRN_FIRST 10000000LL
#define S_MPRN_SPAN  90000000LL

/* Registrations start between 2010-01-01 and 2014-12-31; each change of
 * supplier comes 90 to 1089 days after the last one, and none after the
 * end of the date table. */
#define S_FIRST_YEAR   2010
#define S_START_DAYS   1826
#define S_DATE_COUNT   (17 * 366)
#define S_SUPPLIER_GAP 90
#define S_SUPPLIER_RUN 1000

static const char s_usage[] =
    "Usage: gen_register --out DIR [--rows N] [--suppliers N] [--seed N]\n"
    "                    [--gas-percent P] [--history-percent P]\n"
    "                    [--keys DIR]\n"
    "       gen_register --sample K [--rows N] [--seed N] [--gas-percent P]\n"
    "\n"
    "Writes DIR/suppliers.csv, DIR/supply_points.csv and\n"
    "DIR/registrations.csv, a synthetic register of N supply points\n"
    "(default 30000000, at most 90000000), and prints one line:\n"
    "  generated suppliers=S supply_points=N registrations=R bytes=B\n"
    "With --sample, prints K random mpxns of that register instead, one a\n"
    "line, without writing files.\n"
    "\n"
    "  --out DIR              folder for the CSV files (it must exist)\n"
    "  --rows N               supply points (default 30000000)\n"
    "  --suppliers N          suppliers, 2 to 999 (default 60)\n"
    "  --seed N               seed of every random choice (default 1)\n"
    "  --gas-percent P        share of gas supply points (default 40)\n"
    "  --history-percent P    share with 2 to 4 registrations (default 30)\n"
    "  --keys DIR             write DIR/MPID.cert and DIR/MPID.cert_secret\n"
    "                         for every supplier\n"
    "  --sample K             print K mpxns of the register\n";

typedef struct {
    const char *out;
    const char *keys;
    long rows;
    long suppliers;
    long seed;
    long gas_percent;
    long history_percent;
    long sample;
} s_options_t;

/* Random numbers */

/* The splitmix64 finaliser: a bijection of 64-bit values whose outputs
 * pass as independent uniform numbers for consecutive inputs. */
static uint64_t s_mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* Returns random number `stream` of item i. */
static uint64_t s_random(const s_options_t *options, uint64_t i,
                         unsigned stream)
{
    return s_mix((uint64_t)options->seed * 0x100000001B3ULL ^
                 s_mix(i * 16 + stream));
}

/* Output */

typedef struct {
    FILE *file;
    uint64_t bytes;
} s_out_t;

static void s_put(s_out_t *out, const char *text, size_t size)
{
    fwrite(text, 1, size, out->file);
    out->bytes += size;
}

static void s_puts(s_out_t *out, const char *text)
{
    s_put(out, text, strlen(text));
}

/* Writes value in decimal, zero-padded to width digits. */
static void s_put_number(s_out_t *out, uint64_t value, int width)
{
    char digits[24];
    int at = (int)sizeof digits;
    do {
        digits[--at] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0 || (int)sizeof digits - at < width);
    s_put(out, digits + at, sizeof digits - (size_t)at);
}

static FILE *s_create(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "w");
    if (!file) {
        fprintf(stderr, "gen_register: cannot create %s: %s\n", path,
                strerror(errno));
        return NULL;
    }
    setvbuf(file, NULL, _IOFBF, 4 * 1024 * 1024);
    return file;
}

static int s_close(FILE *file, const char *name)
{
    if (!file)
        return 0;
    bool failed = ferror(file) != 0;
    if (fclose(file) != 0 || failed) {
        fprintf(stderr, "gen_register: writing %s failed: %s\n", name,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* Supply points */

/* Writes supply point i's mpxn into out (16 bytes). */
static void s_mpxn(const s_options_t *options, long i, char out[16])
{
    bool gas =
        (long)(s_random(options, (uint64_t)i, 0) % 100) < options->gas_percent;
    uint64_t jitter = s_random(options, (uint64_t)i, 1);
    if (!gas) {
        int64_t stride = S_MPAN_SPAN / options->rows;
        int64_t body = S_MPAN_FIRST + i * stride + (int64_t)(jitter % stride);
        char digits[13];
        snprintf(digits, sizeof digits, "%012" PRId64, body);
        mpan_core_make(digits, out);
        return;
    }
    int64_t stride = S_MPRN_SPAN / options->rows;
    int64_t body = S_MPRN_FIRST + i * stride + (int64_t)(jitter % stride);
    snprintf(out, 16, "%08" PRId64, body);
    int check = mprn_check_value(out, 8);
    snprintf(out + 8, 8, "%02d", check);
}

static void s_mpid(long supplier, char out[5])
{
    snprintf(out, 5, "S%03ld", supplier + 1);
}

static void s_write_supply_point(const s_options_t *options, s_out_t *out,
                                 long i, const char *mpxn)
{
    bool gas = strlen(mpxn) == 10;
    uint64_t r = s_random(options, (uint64_t)i, 2);
    char installing[5];
    s_mpid((long)(r % (uint64_t)options->suppliers), installing);
    bool smart = (r >> 32) % 100 < 70;

    s_puts(out, mpxn);
    s_puts(out, gas ? ",gas,G" : ",electricity,E");
    s_put_number(out, (uint64_t)i, 10);
    s_puts(out, smart ? ",true," : ",false,");
    s_puts(out, installing);
    s_puts(out, ",sim\n");
}

/* Registrations */

typedef struct {
    char dates[S_DATE_COUNT][11]; /* YYYY-MM-DD from S_FIRST_YEAR-01-01 */
} s_calendar_t;

static void s_calendar_fill(s_calendar_t *calendar)
{
    int64_t first = clock_days_from_civil(S_FIRST_YEAR, 1, 1);
    for (int day = 0; day < S_DATE_COUNT; day++) {
        int year, month, mday;
        clock_civil_from_days(first + day, &year, &month, &mday);
        snprintf(calendar->dates[day], sizeof calendar->dates[day],
                 "%04d-%02d-%02d", year, month, mday);
    }
}

static void s_write_registration(s_out_t *out, const char *mpxn, long supplier,
                                 const char *from, const char *to)
{
    char mpid[5];
    s_mpid(supplier, mpid);
    s_puts(out, mpxn);
    s_put(out, ",", 1);
    s_puts(out, mpid);
    s_put(out, ",", 1);
    s_puts(out, from);
    s_put(out, ",", 1);
    s_puts(out, to);
    s_put(out, "\n", 1);
}

/* Writes supply point i's registrations and returns how many. */
static long s_write_registrations(const s_options_t *options,
                                  const s_calendar_t *calendar, s_out_t *out,
                                  long i, const char *mpxn)
{
    uint64_t r = s_random(options, (uint64_t)i, 3);
    long count = 1;
    if ((long)(r % 100) < options->history_percent)
        count = 2 + (long)((r >> 8) % 3);
    long supplier = (long)((r >> 16) % (uint64_t)options->suppliers);
    long day = (long)((r >> 32) % S_START_DAYS);
    long written = 0;
    for (long k = 0; k < count; k++) {
        uint64_t step = s_random(options, (uint64_t)i, 4 + (unsigned)k);
        long next = day + S_SUPPLIER_GAP + (long)(step % S_SUPPLIER_RUN);
        bool last = k == count - 1 || next >= S_DATE_COUNT;
        s_write_registration(out, mpxn, supplier, calendar->dates[day],
                             last ? "" : calendar->dates[next]);
        written++;
        if (last)
            break;
        long offset =
            1 + (long)((step >> 32) % (uint64_t)(options->suppliers - 1));
        supplier = (supplier + offset) % options->suppliers;
        day = next;
    }
    return written;
}

/* Suppliers */

/* Derives supplier j's 32-byte key seed for purpose ("curve" or "sign"). */
static void s_key_seed(const s_options_t *options, long j, const char *purpose,
                       uint8_t seed[32])
{
    char text[96];
    snprintf(text, sizeof text, "gen_register %ld %s %ld", options->seed,
             purpose, j);
    hash_blake2b(text, strlen(text), seed);
}

static int s_save_cert(const char *dir, const char *mpid,
                       const uint8_t public_key[32],
                       const uint8_t secret_key[32])
{
    zcert_t *cert = zcert_new_from(public_key, secret_key);
    if (!cert)
        return -1;
    char path[4096], secret[4200];
    snprintf(path, sizeof path, "%s/%s.cert", dir, mpid);
    snprintf(secret, sizeof secret, "%s_secret", path);
    zcert_set_meta(cert, "name", "%s", mpid);
    int rc = zcert_save_public(cert, path) == 0 &&
                     zcert_save_secret(cert, secret) == 0 &&
                     chmod(secret, 0600) == 0
                 ? 0
                 : -1;
    zcert_destroy(&cert);
    if (rc != 0)
        fprintf(stderr, "gen_register: cannot write %s: %s\n", path,
                strerror(errno));
    return rc;
}

static int s_write_supplier(const s_options_t *options, s_out_t *out, long j)
{
    uint8_t seed[32], curve_public[32], curve_secret[32];
    s_key_seed(options, j, "curve", seed);
    crypto_box_seed_keypair(curve_public, curve_secret, seed);
    s_key_seed(options, j, "sign", seed);
    signer_t *signer = signer_new(seed);
    sodium_memzero(seed, sizeof seed);
    if (!signer)
        return -1;
    char mpid[5], z85[41], sign_hex[65], line[512];
    s_mpid(j, mpid);
    zmq_z85_encode(z85, curve_public, 32);
    hex_encode(signer_public_key(signer), 32, sign_hex);
    signer_destroy(&signer);
    snprintf(line, sizeof line,
             "%s,Supplier %03ld Energy,tcp://10.0.%ld.%ld:7001,%s,%s\n", mpid,
             j + 1, (j + 1) / 250, (j + 1) % 250 + 1, z85, sign_hex);
    s_puts(out, line);
    int rc = options->keys
                 ? s_save_cert(options->keys, mpid, curve_public, curve_secret)
                 : 0;
    sodium_memzero(curve_secret, sizeof curve_secret);
    return rc;
}

/* Runs */

static int s_generate(const s_options_t *options)
{
    static s_calendar_t calendar;
    s_calendar_fill(&calendar);
    s_out_t suppliers = {s_create(options->out, "suppliers.csv"), 0};
    s_out_t points = {s_create(options->out, "supply_points.csv"), 0};
    s_out_t registrations = {s_create(options->out, "registrations.csv"), 0};
    int rc = -1;
    if (!suppliers.file || !points.file || !registrations.file)
        goto cleanup;

    s_puts(&suppliers, "mpid,name,endpoint,curve_key,sign_key\n");
    for (long j = 0; j < options->suppliers; j++)
        if (s_write_supplier(options, &suppliers, j) != 0)
            goto cleanup;
    s_puts(&points, "mpxn,fuel,meter_id,smart,installing,head_end\n");
    s_puts(&registrations, "mpxn,supplier,from,to\n");
    long registration_count = 0;
    for (long i = 0; i < options->rows; i++) {
        char mpxn[16];
        s_mpxn(options, i, mpxn);
        s_write_supply_point(options, &points, i, mpxn);
        registration_count +=
            s_write_registrations(options, &calendar, &registrations, i, mpxn);
    }
    rc = 0;
    printf("generated suppliers=%ld supply_points=%ld registrations=%ld "
           "bytes=%" PRIu64 "\n",
           options->suppliers, options->rows, registration_count,
           suppliers.bytes + points.bytes + registrations.bytes);
cleanup:
    if (s_close(suppliers.file, "suppliers.csv") != 0 ||
        s_close(points.file, "supply_points.csv") != 0 ||
        s_close(registrations.file, "registrations.csv") != 0)
        rc = -1;
    return rc;
}

static void s_print_sample(const s_options_t *options)
{
    for (long k = 0; k < options->sample; k++) {
        uint64_t i = s_mix((uint64_t)options->seed ^ s_mix((uint64_t)k)) %
                     (uint64_t)options->rows;
        char mpxn[16];
        s_mpxn(options, (long)i, mpxn);
        puts(mpxn);
    }
}

/* Options */

static int s_parse_percent(const char *option, const char *text, long *out)
{
    if (bench_parse_count(option, text, out) != 0)
        return -1;
    if (*out > 100) {
        fprintf(stderr, "invalid value '%s' for %s: expected 0 to 100\n", text,
                option);
        return -1;
    }
    return 0;
}

static int s_parse_option(int code, const char *value, s_options_t *options)
{
    switch (code) {
    case 'o':
        options->out = value;
        return 0;
    case 'k':
        options->keys = value;
        return 0;
    case 'n':
        return bench_parse_count("--rows", value, &options->rows);
    case 's':
        return bench_parse_count("--suppliers", value, &options->suppliers);
    case 'e':
        return bench_parse_count("--seed", value, &options->seed);
    case 'g':
        /* 0 is allowed, so "0" is read before the positive-count check. */
        if (strcmp(value, "0") == 0) {
            options->gas_percent = 0;
            return 0;
        }
        return s_parse_percent("--gas-percent", value, &options->gas_percent);
    case 'y':
        if (strcmp(value, "0") == 0) {
            options->history_percent = 0;
            return 0;
        }
        return s_parse_percent("--history-percent", value,
                               &options->history_percent);
    case 'm':
        return bench_parse_count("--sample", value, &options->sample);
    default:
        return -1;
    }
}

static int s_parse_options(int argc, char **argv, s_options_t *options)
{
    static const struct option long_options[] = {
        {"out", required_argument, NULL, 'o'},
        {"keys", required_argument, NULL, 'k'},
        {"rows", required_argument, NULL, 'n'},
        {"suppliers", required_argument, NULL, 's'},
        {"seed", required_argument, NULL, 'e'},
        {"gas-percent", required_argument, NULL, 'g'},
        {"history-percent", required_argument, NULL, 'y'},
        {"sample", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int code;
    while ((code = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        if (code == 'h') {
            fputs(s_usage, stdout);
            exit(0);
        }
        if (code == '?' || s_parse_option(code, optarg, options) != 0)
            return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "gen_register: unexpected argument '%s'\n",
                argv[optind]);
        return -1;
    }
    if (options->rows > S_MAX_ROWS || options->suppliers < 2 ||
        options->suppliers > S_MAX_SUPPLIERS) {
        fprintf(stderr,
                "gen_register: use --rows up to %ld and --suppliers "
                "from 2 to %d\n",
                S_MAX_ROWS, S_MAX_SUPPLIERS);
        return -1;
    }
    if (!options->out && !options->sample) {
        fprintf(stderr, "gen_register: give --out DIR or --sample K\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    s_options_t options = {.rows = S_DEFAULT_ROWS,
                           .suppliers = 60,
                           .seed = 1,
                           .gas_percent = 40,
                           .history_percent = 30};
    if (s_parse_options(argc, argv, &options) != 0) {
        fputs(s_usage, stderr);
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "gen_register: libsodium failed to start\n");
        return 1;
    }
    if (options.sample) {
        s_print_sample(&options);
        return 0;
    }
    return s_generate(&options) == 0 ? 0 : 1;
}
