/* _fastbook.h: constants and structs shared by the parts of the _fastbook extension.
 *
 * The extension is one translation unit (_fastbook.c includes the .h files), split by job so each
 * file stays short: _fastbook_scan.h (JSON scanning, exact decimals), _fastbook_apply.h (markets,
 * seq checks, one message parsed and applied), _fastbook.c (the Python type).
 */
#ifndef EDGEDESK_FASTBOOK_H
#define EDGEDESK_FASTBOOK_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define PRICE_MAX 10000
#define MAX_LEVEL_COUNT 1000000000000000LL /* book.MAX_LEVEL_COUNT */
#define MAX_TS (1LL << 53)                 /* sid, seq, ts_ms upper bound (fastbook.MAX_WIRE_INT) */
#define MAX_SID (1 << 20)
#define MAX_DEPTH 32
#define MAX_INT_DIGITS 18

/* Book.meta layout: keep in step with console/domain/book.py */
enum { M_BEST_BID = 0, M_BEST_ASK = 1, M_VERSION = 2, M_LAST_TS = 3, M_REFUSED = 4, M_DAMAGED = 5, M_RECV_NS = 6,
       M_SIZE = 8 };

/* run() result codes */
enum { R_DONE = 0, R_DEFER = 1, R_GAP = 2 };

/* per-message outcomes */
enum { O_APPLIED, O_DEFER, O_MALFORMED, O_UNKNOWN_SID, O_STALE, O_UNKNOWN_MARKET, O_OFF_GRID, O_INCONSISTENT };

typedef unsigned char uchar;

typedef struct {
    char *ticker;
    Py_ssize_t tlen;
    uint64_t hash;
    Py_buffer bids_view, asks_view, meta_view, index_view;
    int64_t *bids, *asks, *meta;
    int32_t *index; /* YES price (0..10000) -> level, -1 when off the grid */
    int64_t n;
} Market;

typedef struct {
    int8_t use_yes; /* -1: not registered */
    int64_t last_seq; /* -1: nothing seen yet */
    int64_t gaps, missed, stale;
} SidState;

typedef struct {
    PyObject_HEAD
    Market *markets;
    Py_ssize_t n_markets, cap_markets;
    int32_t *table; /* open addressing: market slot + 1, 0 = empty */
    Py_ssize_t table_cap;
    SidState *sids;
    Py_ssize_t n_sids;
    int64_t applied, malformed, unknown_sid, unknown_market, off_grid, inconsistent, deferred;
    int64_t gap_sid, gap_expected, gap_got;
    int gap_pending;
    int64_t recv_ns; /* receive time of the batch being applied (0: not given) */
} DeltaFeed;

#endif
