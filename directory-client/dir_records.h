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
    DIR_REFUSED,     /* the directory answered with another error status */
    DIR_RATE_LIMITED /* the directory answered rate_limited: too many queries */
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
    /* True when the directory left the registrations out because the
     * requester neither installed the meter nor was ever registered. */
    bool registrations_withheld;
    int64_t issued_ms;  /* when the directory signed the answer */
    int64_t expires_ms; /* cache it no longer than this */
    uint64_t change;    /* directory change number the answer reflects */
    /* The signed answer as received, kept as evidence of why a request was
     * allowed: the answer bytes and the directory's Ed25519 signature. */
    size_t evidence_size; /* 0 when the answer did not fit */
    uint8_t evidence[DIR_EVIDENCE_MAX];
    uint8_t evidence_signature[64];
} dir_supply_point_t;

typedef enum { DIR_KEY_CURVE = 0, DIR_KEY_SIGN } dir_key_type_t;

/* A key's state: active until valid_to; retired (valid_to was set to end
 * it normally); revoked (compromised, refused from revoked_ms). */
typedef enum {
    DIR_KEY_ACTIVE = 0,
    DIR_KEY_RETIRED,
    DIR_KEY_REVOKED
} dir_key_state_t;

/* One CURVE or signing key of a supplier, with its validity. See
 * dir_keys.h for the rule that decides whether it may be used. */
typedef struct {
    dir_key_type_t type;
    char curve_key[DIR_CURVE_KEY_SIZE];  /* DIR_KEY_CURVE: Z85 text */
    uint8_t sign_key[DIR_SIGN_KEY_SIZE]; /* DIR_KEY_SIGN: Ed25519 public */
    int64_t valid_from_ms;               /* inclusive */
    int64_t valid_to_ms;                 /* exclusive, or DIR_OPEN_END */
    dir_key_state_t state;
    int64_t revoked_ms; /* DIR_KEY_REVOKED: refused from this time */
} dir_key_t;

/* Keys of both types that the directory keeps and sends for one supplier. */
#define DIR_MAX_KEYS 16

typedef struct {
    char mpid[DIR_MPID_SIZE];
    char name[DIR_NAME_SIZE];
    char endpoint[DIR_ENDPOINT_SIZE]; /* the supplier's node, tcp://host:port */
    /* The keys in use now: the valid CURVE and signing keys that started
     * last. Code that checks a key against a time uses keys instead. */
    char curve_key[DIR_CURVE_KEY_SIZE];
    uint8_t sign_key[DIR_SIGN_KEY_SIZE];
    /* Every key the directory lists. 0 from a directory that sends none;
     * curve_key and sign_key then count as keys valid at any time. */
    size_t key_count;
    dir_key_t keys[DIR_MAX_KEYS];
    int64_t issued_ms;
    int64_t expires_ms;
} dir_supplier_t;

#endif
