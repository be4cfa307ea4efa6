/* The records the central lookup (sdx-directory) returns, as the node uses
 * them after the directory client has checked their signature.
 *
 * Times are UTC milliseconds since the epoch. A registration that has not
 * ended has to_ms == DIR_OPEN_END.
 */
#ifndef SDX_DIR_RECORDS_H
#define SDX_DIR_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIR_OPEN_END INT64_MAX

#define DIR_MPID_SIZE      5  /* 4 characters and a NUL */
#define DIR_MPXN_SIZE      16 /* 13-digit MPAN core or 6-10 digit MPRN, NUL */
#define DIR_NAME_SIZE      96
#define DIR_ENDPOINT_SIZE  256
#define DIR_CURVE_KEY_SIZE 41 /* Z85 text of a 32-byte key, NUL */
#define DIR_SIGN_KEY_SIZE  32

/* How a lookup ended. */
typedef enum {
    DIR_OK = 0,
    DIR_NOT_FOUND,   /* the directory has no such record */
    DIR_UNAVAILABLE, /* no answer in time, and no unexpired cached answer */
    DIR_BAD_ANSWER,  /* bad signature, expired on arrival, or malformed */
    DIR_REFUSED      /* the directory answered with another error status */
} dir_status_t;

/* One period during which a supplier was the registered supplier. */
typedef struct {
    char supplier[DIR_MPID_SIZE];
    int64_t from_ms; /* inclusive */
    int64_t to_ms;   /* exclusive, or DIR_OPEN_END */
} dir_registration_t;

#define DIR_MAX_REGISTRATIONS 64
/* Larger than the longest supply point answer: 64 registrations of about
 * 25 bytes each plus about 250 bytes of other fields. */
#define DIR_EVIDENCE_MAX 4096

typedef struct {
    char mpxn[DIR_MPXN_SIZE];
    char fuel[16];     /* "electricity" or "gas" */
    char meter_id[64]; /* meter serial number */
    bool smart;
    char installing[DIR_MPID_SIZE]; /* installing supplier, runs the agent */
    char head_end[32];              /* head-end type, chooses the agent */
    size_t registration_count;      /* ordered by from_ms */
    dir_registration_t registrations[DIR_MAX_REGISTRATIONS];
    int64_t issued_ms;  /* when the directory signed the answer */
    int64_t expires_ms; /* cache it no longer than this */
    uint64_t change;    /* directory change number the answer reflects */
    /* The signed answer as received, kept as evidence of why a request was
     * allowed: the answer bytes and the directory's Ed25519 signature. */
    size_t evidence_size; /* 0 when the answer did not fit */
    uint8_t evidence[DIR_EVIDENCE_MAX];
    uint8_t evidence_signature[64];
} dir_supply_point_t;

typedef struct {
    char mpid[DIR_MPID_SIZE];
    char name[DIR_NAME_SIZE];
    char endpoint[DIR_ENDPOINT_SIZE]; /* the supplier's node, tcp://host:port */
    char curve_key[DIR_CURVE_KEY_SIZE];
    uint8_t sign_key[DIR_SIGN_KEY_SIZE];
    int64_t issued_ms;
    int64_t expires_ms;
} dir_supplier_t;

#endif
