/* _fastbook: the hot path of the Kalshi order-book feed, in C.
 *
 * A DeltaFeed takes raw `orderbook_delta` WebSocket messages (a list of bytes/str, or one buffer of
 * newline-separated messages), parses them without building Python objects, checks them strictly and
 * applies them to the level arrays of `console.domain.book.Book` objects it was given (the very same
 * memory the Python code reads). The rules are the reference path's, message for message
 * (console/domain/fastbook.py, `_PythonPath`); tests/domain/test_fastbook.py feeds both the same random
 * stream, malformed messages included, and requires identical books and counters.
 *
 * Anything this parser does not handle itself goes back to Python *unprocessed* ("deferred"): every
 * message whose type is not orderbook_delta (snapshots, replies, other channels), and the rare shapes
 * where matching msgspec exactly would take more code than it is worth (string escapes, non-ASCII bytes,
 * repeated keys, integers of more than 18 digits, nesting deeper than 32). Everything else is decided
 * here: invalid JSON, a wrong or missing field, a bad decimal string, an unregistered sid, a stale or
 * gapped seq, an unknown market, an off-grid price, a count that would go negative.
 *
 * Numbers are parsed exactly from their digits: prices into pips (4 decimals, at most $1), counts into
 * hundredths of a contract (2 decimals, |count| <= 10^15); extra decimals must be zeros, as in
 * console/domain/units.py. No floating point anywhere.
 */
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

/* ------------------------------------------------------------------------------------------------ */
/* JSON scanning. Return codes: 0 ok, -1 invalid JSON (msgspec rejects it too), -2 defer to Python.   */

typedef struct {
    const uchar *p, *end;
    int defer; /* a shape we leave to Python (escape, non-ASCII, repeated key, long int) */
} Cur;

static inline void ws(Cur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static inline int ishex(uchar x) {
    return (x >= '0' && x <= '9') || (x >= 'a' && x <= 'f') || (x >= 'A' && x <= 'F');
}

/* c->p at the opening quote; on success (*s, *n) is the raw content and c->p is past the closing quote */
static int scan_string(Cur *c, const uchar **s, Py_ssize_t *n) {
    const uchar *p = c->p + 1, *end = c->end;
    *s = p;
    while (p < end) {
        uchar x = *p;
        if (x == '"') {
            *n = p - *s;
            c->p = p + 1;
            return 0;
        }
        if (x == '\\') {
            c->defer = 1;
            if (p + 1 >= end) return -1;
            uchar e = p[1];
            if (e == 'u') {
                if (p + 5 >= end || !ishex(p[2]) || !ishex(p[3]) || !ishex(p[4]) || !ishex(p[5])) return -1;
                p += 6;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
                p += 2;
            } else {
                return -1;
            }
            continue;
        }
        if (x < 0x20) return -1;
        if (x >= 0x80) c->defer = 1;
        p++;
    }
    return -1;
}

/* A JSON number. kind: 0 integer that fits (value in *v), 1 integer too long, 2 fraction or exponent */
static int scan_number(Cur *c, int64_t *v, int *kind) {
    const uchar *p = c->p, *end = c->end;
    int neg = 0, digits = 0;
    int64_t acc = 0;
    *kind = 0;
    if (p < end && *p == '-') { neg = 1; p++; }
    if (p >= end) return -1;
    if (*p == '0') {
        p++;
        digits = 1;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9') {
            if (digits < MAX_INT_DIGITS) acc = acc * 10 + (*p - '0');
            digits++;
            p++;
        }
    } else {
        return -1;
    }
    if (digits > MAX_INT_DIGITS) *kind = 1;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') return -1;
        while (p < end && *p >= '0' && *p <= '9') p++;
        *kind = 2;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') return -1;
        while (p < end && *p >= '0' && *p <= '9') p++;
        *kind = 2;
    }
    c->p = p;
    *v = neg ? -acc : acc;
    return 0;
}

static int skip_value(Cur *c, int depth);

static int skip_object(Cur *c, int depth) {
    const uchar *s;
    Py_ssize_t n;
    int r;
    if (depth > MAX_DEPTH) return -2;
    c->p++; /* '{' */
    ws(c);
    if (c->p < c->end && *c->p == '}') { c->p++; return 0; }
    for (;;) {
        if (c->p >= c->end || *c->p != '"') return -1;
        if ((r = scan_string(c, &s, &n))) return r;
        ws(c);
        if (c->p >= c->end || *c->p != ':') return -1;
        c->p++;
        ws(c);
        if ((r = skip_value(c, depth + 1))) return r;
        ws(c);
        if (c->p >= c->end) return -1;
        if (*c->p == ',') { c->p++; ws(c); continue; }
        if (*c->p == '}') { c->p++; return 0; }
        return -1;
    }
}

static int skip_array(Cur *c, int depth) {
    int r;
    if (depth > MAX_DEPTH) return -2;
    c->p++; /* '[' */
    ws(c);
    if (c->p < c->end && *c->p == ']') { c->p++; return 0; }
    for (;;) {
        if ((r = skip_value(c, depth + 1))) return r;
        ws(c);
        if (c->p >= c->end) return -1;
        if (*c->p == ',') { c->p++; ws(c); continue; }
        if (*c->p == ']') { c->p++; return 0; }
        return -1;
    }
}

static int literal(Cur *c, const char *word, Py_ssize_t n) {
    if (c->end - c->p < n || memcmp(c->p, word, n) != 0) return -1;
    c->p += n;
    return 0;
}

/* c->p at the first character of a value (whitespace already skipped) */
static int skip_value(Cur *c, int depth) {
    const uchar *s;
    Py_ssize_t n;
    int64_t v;
    int kind;
    if (c->p >= c->end) return -1;
    switch (*c->p) {
    case '"': return scan_string(c, &s, &n);
    case '{': return skip_object(c, depth);
    case '[': return skip_array(c, depth);
    case 't': return literal(c, "true", 4);
    case 'f': return literal(c, "false", 5);
    case 'n': return literal(c, "null", 4);
    default:
        if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9')) return scan_number(c, &v, &kind);
        return -1;
    }
}

/* Typed field readers. *st: 0 ok, 1 null, 2 wrong JSON type, 3 float (ints only) */
static int read_str(Cur *c, const uchar **s, Py_ssize_t *n, int *st) {
    *st = 0;
    if (c->p < c->end && *c->p == '"') return scan_string(c, s, n);
    if (c->p < c->end && *c->p == 'n') { *st = 1; return literal(c, "null", 4); }
    *st = 2;
    return skip_value(c, 1);
}

static int read_int(Cur *c, int64_t *v, int *st) {
    int kind, r;
    *st = 0;
    if (c->p < c->end && (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))) {
        if ((r = scan_number(c, v, &kind))) return r;
        if (kind == 1) c->defer = 1; /* Python has big ints; let it decide */
        if (kind == 2) *st = 3;
        return 0;
    }
    if (c->p < c->end && *c->p == 'n') { *st = 1; return literal(c, "null", 4); }
    *st = 2;
    return skip_value(c, 1);
}

/* ------------------------------------------------------------------------------------------------ */
/* Exact decimals, the grammar of units._parse_fixed: -?[0-9]+(\.[0-9]*)? or -?\.[0-9]+               */

static int parse_fixed(const uchar *s, Py_ssize_t n, int decimals, int is_signed, int64_t cap, int64_t *out) {
    Py_ssize_t i = 0;
    int neg = 0, whole_digits = 0, frac_digits = 0;
    int64_t whole = 0, frac = 0;
    if (i < n && s[i] == '-') { neg = 1; i++; }
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (whole <= cap) whole = whole * 10 + (s[i] - '0'); /* saturates just past cap */
        whole_digits++;
        i++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (frac_digits < decimals) frac = frac * 10 + (s[i] - '0');
            else if (s[i] != '0') return -1; /* finer than the unit */
            frac_digits++;
            i++;
        }
    }
    if (i != n) return -1;
    if (whole_digits == 0 && frac_digits == 0) return -1;
    if (neg && !is_signed) return -1;
    for (int d = frac_digits; d < decimals; d++) frac *= 10;
    int64_t scale = decimals == 4 ? 10000 : 100;
    if (whole > cap / scale + 1) return -1;
    int64_t value = whole * scale + frac;
    if (value > cap) return -1;
    *out = neg ? -value : value;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Markets: a small open-addressing table from ticker bytes to slot.                                  */

static uint64_t fnv1a(const uchar *s, Py_ssize_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < n; i++) { h ^= s[i]; h *= 1099511628211ULL; }
    return h;
}

static Py_ssize_t find_market(DeltaFeed *f, const uchar *s, Py_ssize_t n) {
    if (!f->table_cap) return -1;
    uint64_t h = fnv1a(s, n);
    Py_ssize_t mask = f->table_cap - 1, i = (Py_ssize_t)(h & mask);
    for (;;) {
        int32_t e = f->table[i];
        if (!e) return -1;
        Market *m = &f->markets[e - 1];
        if (m->hash == h && m->tlen == n && memcmp(m->ticker, s, n) == 0) return e - 1;
        i = (i + 1) & mask;
    }
}

static int rebuild_table(DeltaFeed *f, Py_ssize_t cap) {
    int32_t *t = PyMem_Calloc(cap, sizeof(int32_t));
    if (!t) { PyErr_NoMemory(); return -1; }
    for (Py_ssize_t k = 0; k < f->n_markets; k++) {
        Py_ssize_t i = (Py_ssize_t)(f->markets[k].hash & (cap - 1));
        while (t[i]) i = (i + 1) & (cap - 1);
        t[i] = (int32_t)(k + 1);
    }
    PyMem_Free(f->table);
    f->table = t;
    f->table_cap = cap;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Applying one change: exactly Book.apply_delta / Book._write                                         */

static int apply_delta(DeltaFeed *f, Market *m, int is_bid, int price, int64_t delta, int64_t ts_ms) {
    int32_t i = m->index[price];
    int64_t *meta = m->meta;
    if (i < 0) {
        meta[M_REFUSED]++;
        meta[M_DAMAGED] = 1;
        f->off_grid++;
        return O_OFF_GRID;
    }
    int64_t *levels = is_bid ? m->bids : m->asks;
    int64_t now = levels[i] + delta;
    if (now < 0 || now > MAX_LEVEL_COUNT) {
        meta[M_REFUSED]++;
        meta[M_DAMAGED] = 1;
        f->inconsistent++;
        return O_INCONSISTENT;
    }
    levels[i] = now;
    if (is_bid) {
        int64_t best = meta[M_BEST_BID];
        if (now && i > best) meta[M_BEST_BID] = i;
        else if (!now && i == best) {
            int64_t j = i - 1;
            while (j >= 0 && !levels[j]) j--;
            meta[M_BEST_BID] = j;
        }
    } else {
        int64_t best = meta[M_BEST_ASK];
        if (now && i < best) meta[M_BEST_ASK] = i;
        else if (!now && i == best) {
            int64_t j = i + 1, n = m->n;
            while (j < n && !levels[j]) j++;
            meta[M_BEST_ASK] = j;
        }
    }
    meta[M_VERSION]++;
    if (ts_ms) meta[M_LAST_TS] = ts_ms;
    if (f->recv_ns) meta[M_RECV_NS] = f->recv_ns;
    f->applied++;
    return O_APPLIED;
}

/* seq rule shared with Python (fastbook._PythonPath.seq): 0 in order, 1 gap (applied), 2 stale (skipped) */
static int check_seq(DeltaFeed *f, SidState *st, int64_t sid, int64_t seq) {
    if (st->last_seq >= 0 && seq <= st->last_seq) {
        st->stale++;
        return 2;
    }
    int r = 0;
    if (st->last_seq >= 0 && seq > st->last_seq + 1) {
        st->gaps++;
        st->missed += seq - st->last_seq - 1;
        f->gap_sid = sid;
        f->gap_expected = st->last_seq + 1;
        f->gap_got = seq;
        f->gap_pending = 1;
        r = 1;
    }
    st->last_seq = seq;
    return r;
}

/* ------------------------------------------------------------------------------------------------ */
/* One message                                                                                         */

#define KEY(s, n, lit) ((n) == (Py_ssize_t)sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)

enum { F_TICKER = 1, F_ID = 2, F_PRICE = 4, F_DELTA = 8, F_SIDE = 16, F_TS = 32, F_COID = 64, F_SUB = 128 };
#define F_REQUIRED (F_TICKER | F_ID | F_PRICE | F_DELTA | F_SIDE)

typedef struct {
    const uchar *ticker, *price, *delta;
    Py_ssize_t ticker_n, price_n, delta_n;
    int is_bid; /* side yes = bids */
    int64_t ts_ms;
    int seen;
    int bad; /* a field check failed: malformed if the message turns out to be an orderbook_delta */
} DeltaMsg;

static int parse_delta_msg(Cur *c, DeltaMsg *d) {
    const uchar *k, *s;
    Py_ssize_t kn, n;
    int r, st, bit;
    int64_t v;
    c->p++; /* '{' */
    ws(c);
    if (c->p < c->end && *c->p == '}') { c->p++; return 0; }
    for (;;) {
        if (c->p >= c->end || *c->p != '"') return -1;
        if ((r = scan_string(c, &k, &kn))) return r;
        ws(c);
        if (c->p >= c->end || *c->p != ':') return -1;
        c->p++;
        ws(c);
        bit = 0;
        if (KEY(k, kn, "market_ticker")) {
            bit = F_TICKER;
            if ((r = read_str(c, &d->ticker, &d->ticker_n, &st))) return r;
            if (st) d->bad = 1;
        } else if (KEY(k, kn, "market_id")) {
            bit = F_ID;
            if ((r = read_str(c, &s, &n, &st))) return r;
            if (st) d->bad = 1;
        } else if (KEY(k, kn, "price_dollars")) {
            bit = F_PRICE;
            if ((r = read_str(c, &d->price, &d->price_n, &st))) return r;
            if (st) d->bad = 1;
        } else if (KEY(k, kn, "delta_fp")) {
            bit = F_DELTA;
            if ((r = read_str(c, &d->delta, &d->delta_n, &st))) return r;
            if (st) d->bad = 1;
        } else if (KEY(k, kn, "side")) {
            bit = F_SIDE;
            if ((r = read_str(c, &s, &n, &st))) return r;
            if (st) d->bad = 1;
            else if (n == 3 && memcmp(s, "yes", 3) == 0) d->is_bid = 1;
            else if (n == 2 && memcmp(s, "no", 2) == 0) d->is_bid = 0;
            else d->bad = 1;
        } else if (KEY(k, kn, "ts_ms")) {
            bit = F_TS;
            if ((r = read_int(c, &v, &st))) return r;
            if (st || v < 0 || v > MAX_TS) d->bad = 1;
            else d->ts_ms = v;
        } else if (KEY(k, kn, "client_order_id")) {
            bit = F_COID;
            if ((r = read_str(c, &s, &n, &st))) return r;
            if (st == 2) d->bad = 1;
        } else if (KEY(k, kn, "subaccount")) {
            bit = F_SUB;
            if ((r = read_int(c, &v, &st))) return r;
            if (st == 2 || st == 3) d->bad = 1;
        } else {
            if ((r = skip_value(c, 2))) return r;
        }
        if (bit) {
            if (d->seen & bit) c->defer = 1; /* repeated key: msgspec keeps the last; let Python do it */
            d->seen |= bit;
        }
        ws(c);
        if (c->p >= c->end) return -1;
        if (*c->p == ',') { c->p++; ws(c); continue; }
        if (*c->p == '}') { c->p++; return 0; }
        return -1;
    }
}

enum { E_TYPE = 1, E_SID = 2, E_SEQ = 4, E_MSG = 8 };

static int process(DeltaFeed *f, const uchar *buf, Py_ssize_t len) {
    Cur c = {buf, buf + len, 0};
    const uchar *k, *type = NULL;
    Py_ssize_t kn, type_n = 0;
    int r, st, seen = 0, type_ok = 0, bad = 0, bit;
    int64_t sid = 0, seq = 0;
    DeltaMsg d;
    memset(&d, 0, sizeof d);

    ws(&c);
    if (c.p >= c.end || *c.p != '{') return O_DEFER; /* not an object: Python says what it is */
    c.p++;
    ws(&c);
    if (c.p < c.end && *c.p == '}') {
        c.p++;
        goto end_of_object;
    }
    for (;;) {
        if (c.p >= c.end || *c.p != '"') goto invalid;
        if ((r = scan_string(&c, &k, &kn))) goto fail;
        ws(&c);
        if (c.p >= c.end || *c.p != ':') goto invalid;
        c.p++;
        ws(&c);
        bit = 0;
        if (KEY(k, kn, "type")) {
            bit = E_TYPE;
            if ((r = read_str(&c, &type, &type_n, &st))) goto fail;
            type_ok = st == 0;
        } else if (KEY(k, kn, "sid")) {
            bit = E_SID;
            if ((r = read_int(&c, &sid, &st))) goto fail;
            if (st || sid < 0 || sid > MAX_TS) bad = 1;
        } else if (KEY(k, kn, "seq")) {
            bit = E_SEQ;
            if ((r = read_int(&c, &seq, &st))) goto fail;
            if (st || seq < 0 || seq > MAX_TS) bad = 1;
        } else if (KEY(k, kn, "msg")) {
            bit = E_MSG;
            if (c.p < c.end && *c.p == '{') {
                if ((r = parse_delta_msg(&c, &d))) goto fail;
            } else {
                bad = 1;
                if ((r = skip_value(&c, 1))) goto fail;
            }
        } else {
            if ((r = skip_value(&c, 1))) goto fail;
        }
        if (bit) {
            if (seen & bit) c.defer = 1;
            seen |= bit;
        }
        ws(&c);
        if (c.p >= c.end) goto invalid;
        if (*c.p == ',') { c.p++; ws(&c); continue; }
        if (*c.p == '}') { c.p++; break; }
        goto invalid;
    }
end_of_object:
    ws(&c);
    if (c.p != c.end) goto invalid; /* trailing characters */

    if (!type_ok || c.defer) return O_DEFER;
    if (!(type_n == 15 && memcmp(type, "orderbook_delta", 15) == 0)) return O_DEFER;
    if (bad || d.bad || (seen & (E_SID | E_SEQ | E_MSG)) != (E_SID | E_SEQ | E_MSG) ||
        (d.seen & F_REQUIRED) != F_REQUIRED)
        goto malformed;
    int64_t price, delta;
    if (parse_fixed(d.price, d.price_n, 4, 0, PRICE_MAX, &price)) goto malformed;
    if (parse_fixed(d.delta, d.delta_n, 2, 1, MAX_LEVEL_COUNT, &delta)) goto malformed;

    if (sid < 0 || sid >= f->n_sids || f->sids[sid].use_yes < 0) {
        f->unknown_sid++;
        return O_UNKNOWN_SID;
    }
    SidState *sst = &f->sids[sid];
    if (check_seq(f, sst, sid, seq) == 2) return O_STALE;
    Py_ssize_t slot = find_market(f, d.ticker, d.ticker_n);
    if (slot < 0) {
        f->unknown_market++;
        return O_UNKNOWN_MARKET;
    }
    int yes_price = (int)price;
    if (!d.is_bid && !sst->use_yes) yes_price = PRICE_MAX - yes_price; /* NO bid at NO price q = YES ask at 1 - q */
    return apply_delta(f, &f->markets[slot], d.is_bid, yes_price, delta, d.ts_ms);

fail:
    if (r == -2) return O_DEFER;
invalid:
    /* invalid JSON. With a deferred shape seen on the way, Python decides (it will agree: invalid) */
    if (c.defer) return O_DEFER;
malformed:
    f->malformed++;
    return O_MALFORMED;
}

/* ------------------------------------------------------------------------------------------------ */
/* Python type                                                                                         */

static int get_text(PyObject *item, const uchar **p, Py_ssize_t *n) {
    if (PyBytes_CheckExact(item)) {
        *p = (const uchar *)PyBytes_AS_STRING(item);
        *n = PyBytes_GET_SIZE(item);
        return 0;
    }
    if (PyUnicode_CheckExact(item)) {
        const char *s = PyUnicode_AsUTF8AndSize(item, n);
        if (!s) { PyErr_Clear(); return -1; } /* e.g. lone surrogates: Python decides */
        *p = (const uchar *)s;
        return 0;
    }
    return -1;
}

static PyObject *DeltaFeed_run(DeltaFeed *self, PyObject *args) {
    PyObject *list;
    Py_ssize_t start = 0;
    long long recv_ns = 0;
    if (!PyArg_ParseTuple(args, "O!|nL:run", &PyList_Type, &list, &start, &recv_ns)) return NULL;
    self->recv_ns = recv_ns;
    Py_ssize_t n = PyList_GET_SIZE(list);
    if (start < 0) start = 0;
    for (Py_ssize_t i = start; i < n; i++) {
        const uchar *p;
        Py_ssize_t len;
        int o = get_text(PyList_GET_ITEM(list, i), &p, &len) ? O_DEFER : process(self, p, len);
        if (o == O_DEFER) {
            self->deferred++;
            return Py_BuildValue("(ni)", i, R_DEFER);
        }
        if (self->gap_pending) {
            self->gap_pending = 0;
            return Py_BuildValue("(ni)", i + 1, R_GAP);
        }
    }
    return Py_BuildValue("(ni)", n, R_DONE);
}

/* run_lines(buffer, start, recv_ns) -> (code, resume_at, line_start, line_end); empty lines are skipped */
static PyObject *DeltaFeed_run_lines(DeltaFeed *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t start = 0;
    long long recv_ns = 0;
    if (!PyArg_ParseTuple(args, "y*|nL:run_lines", &view, &start, &recv_ns)) return NULL;
    self->recv_ns = recv_ns;
    const uchar *base = view.buf;
    Py_ssize_t total = view.len, pos = start < 0 ? 0 : start;
    PyObject *out = NULL;
    while (pos < total) {
        const uchar *nl = memchr(base + pos, '\n', total - pos);
        Py_ssize_t stop = nl ? nl - base : total;
        if (stop > pos) {
            int o = process(self, base + pos, stop - pos);
            if (o == O_DEFER) {
                self->deferred++;
                out = Py_BuildValue("(innn)", R_DEFER, stop + 1, pos, stop);
                break;
            }
            if (self->gap_pending) {
                self->gap_pending = 0;
                out = Py_BuildValue("(innn)", R_GAP, stop + 1, pos, stop);
                break;
            }
        }
        pos = stop + 1;
    }
    if (!out) out = Py_BuildValue("(innn)", R_DONE, total, total, total);
    PyBuffer_Release(&view);
    return out;
}

static int get_view(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, const char *fmt, const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) return -1;
    if (view->itemsize != itemsize || !view->format || strcmp(view->format, fmt) != 0) {
        PyErr_Format(PyExc_TypeError, "%s must be a writable array('%s')", what, fmt);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static void release_market(Market *m) {
    PyBuffer_Release(&m->bids_view);
    PyBuffer_Release(&m->asks_view);
    PyBuffer_Release(&m->meta_view);
    PyBuffer_Release(&m->index_view);
    PyMem_Free(m->ticker);
    m->ticker = NULL;
}

/* add_market(ticker: str, bids: array('q'), asks: array('q'), meta: array('q'), index: array('i')) -> slot */
static PyObject *DeltaFeed_add_market(DeltaFeed *self, PyObject *args) {
    PyObject *ticker, *bids, *asks, *meta, *index;
    if (!PyArg_ParseTuple(args, "UOOOO:add_market", &ticker, &bids, &asks, &meta, &index)) return NULL;
    Py_ssize_t tlen;
    const char *t = PyUnicode_AsUTF8AndSize(ticker, &tlen);
    if (!t) return NULL;
    Market m;
    memset(&m, 0, sizeof m);
    /* array('q') exports format "q", array('i') format "i" */
    if (get_view(bids, &m.bids_view, 8, "q", "bids") < 0) return NULL;
    if (get_view(asks, &m.asks_view, 8, "q", "asks") < 0) goto err1;
    if (get_view(meta, &m.meta_view, 8, "q", "meta") < 0) goto err2;
    if (get_view(index, &m.index_view, 4, "i", "index") < 0) goto err3;
    m.n = m.bids_view.len / 8;
    if (m.asks_view.len / 8 != m.n || m.meta_view.len / 8 < M_SIZE || m.index_view.len / 4 != PRICE_MAX + 1) {
        PyErr_SetString(PyExc_ValueError, "add_market: bids and asks must have one slot per level, meta "
                                          "at least 8 slots and index 10001 entries");
        goto err4;
    }
    m.bids = m.bids_view.buf;
    m.asks = m.asks_view.buf;
    m.meta = m.meta_view.buf;
    m.index = m.index_view.buf;
    for (Py_ssize_t p = 0; p <= PRICE_MAX; p++) {
        if (m.index[p] >= m.n || (m.index[p] >= 0 && (p == 0 || p == PRICE_MAX))) {
            PyErr_SetString(PyExc_ValueError, "add_market: index maps a price outside the book");
            goto err4;
        }
    }
    m.ticker = PyMem_Malloc(tlen ? tlen : 1);
    if (!m.ticker) { PyErr_NoMemory(); goto err4; }
    memcpy(m.ticker, t, tlen);
    m.tlen = tlen;
    m.hash = fnv1a((const uchar *)t, tlen);

    Py_ssize_t slot = find_market(self, (const uchar *)t, tlen);
    if (slot >= 0) { /* replace (a new grid, a new Book) */
        release_market(&self->markets[slot]);
        self->markets[slot] = m;
        return PyLong_FromSsize_t(slot);
    }
    if (self->n_markets == self->cap_markets) {
        Py_ssize_t cap = self->cap_markets ? self->cap_markets * 2 : 64;
        Market *grown = PyMem_Realloc(self->markets, cap * sizeof(Market));
        if (!grown) { PyMem_Free(m.ticker); PyErr_NoMemory(); goto err4; }
        self->markets = grown;
        self->cap_markets = cap;
    }
    self->markets[self->n_markets++] = m;
    if (self->n_markets * 2 > self->table_cap) {
        Py_ssize_t cap = self->table_cap ? self->table_cap : 128;
        while (self->n_markets * 2 > cap) cap *= 2;
        if (rebuild_table(self, cap) < 0) return NULL;
    } else {
        Py_ssize_t i = (Py_ssize_t)(m.hash & (self->table_cap - 1));
        while (self->table[i]) i = (i + 1) & (self->table_cap - 1);
        self->table[i] = (int32_t)self->n_markets;
    }
    return PyLong_FromSsize_t(self->n_markets - 1);
err4:
    PyBuffer_Release(&m.index_view);
err3:
    PyBuffer_Release(&m.meta_view);
err2:
    PyBuffer_Release(&m.asks_view);
err1:
    PyBuffer_Release(&m.bids_view);
    return NULL;
}

static SidState *sid_state(DeltaFeed *self, long long sid) {
    if (sid < 0 || sid >= self->n_sids || self->sids[sid].use_yes < 0) return NULL;
    return &self->sids[sid];
}

/* set_sid(sid, use_yes_price): register a subscription; its seq starts afresh */
static PyObject *DeltaFeed_set_sid(DeltaFeed *self, PyObject *args) {
    long long sid;
    int use_yes;
    if (!PyArg_ParseTuple(args, "Lp:set_sid", &sid, &use_yes)) return NULL;
    if (sid < 0 || sid >= MAX_SID) {
        PyErr_Format(PyExc_ValueError, "sid %lld outside 0..%d", sid, MAX_SID - 1);
        return NULL;
    }
    if (sid >= self->n_sids) {
        Py_ssize_t cap = self->n_sids ? self->n_sids : 16;
        while (cap <= sid) cap *= 2;
        SidState *grown = PyMem_Realloc(self->sids, cap * sizeof(SidState));
        if (!grown) return PyErr_NoMemory();
        for (Py_ssize_t i = self->n_sids; i < cap; i++) grown[i] = (SidState){-1, -1, 0, 0, 0};
        self->sids = grown;
        self->n_sids = cap;
    }
    self->sids[sid] = (SidState){(int8_t)use_yes, -1, 0, 0, 0};
    Py_RETURN_NONE;
}

static PyObject *DeltaFeed_drop_sid(DeltaFeed *self, PyObject *args) {
    long long sid;
    if (!PyArg_ParseTuple(args, "L:drop_sid", &sid)) return NULL;
    SidState *st = sid_state(self, sid);
    if (st) *st = (SidState){-1, -1, 0, 0, 0};
    Py_RETURN_NONE;
}

/* use_yes_price(sid) -> bool | None (None: not registered) */
static PyObject *DeltaFeed_use_yes_price(DeltaFeed *self, PyObject *args) {
    long long sid;
    if (!PyArg_ParseTuple(args, "L:use_yes_price", &sid)) return NULL;
    SidState *st = sid_state(self, sid);
    if (!st) Py_RETURN_NONE;
    return PyBool_FromLong(st->use_yes);
}

/* seq(sid, seq) -> 0 in order, 1 gap, 2 stale: the same rule for messages Python handles */
static PyObject *DeltaFeed_seq(DeltaFeed *self, PyObject *args) {
    long long sid, seq;
    if (!PyArg_ParseTuple(args, "LL:seq", &sid, &seq)) return NULL;
    SidState *st = sid_state(self, sid);
    if (!st) {
        PyErr_Format(PyExc_KeyError, "sid %lld is not registered", sid);
        return NULL;
    }
    int r = check_seq(self, st, sid, seq);
    self->gap_pending = 0;
    return PyLong_FromLong(r);
}

/* sid_state(sid) -> (last_seq | None, gaps, missed, stale) | None */
static PyObject *DeltaFeed_sid_state(DeltaFeed *self, PyObject *args) {
    long long sid;
    if (!PyArg_ParseTuple(args, "L:sid_state", &sid)) return NULL;
    SidState *st = sid_state(self, sid);
    if (!st) Py_RETURN_NONE;
    if (st->last_seq < 0)
        return Py_BuildValue("(OLLL)", Py_None, st->gaps, st->missed, st->stale);
    return Py_BuildValue("(LLLL)", st->last_seq, st->gaps, st->missed, st->stale);
}

static PyObject *DeltaFeed_last_gap(DeltaFeed *self, PyObject *Py_UNUSED(ignored)) {
    return Py_BuildValue("(LLL)", self->gap_sid, self->gap_expected, self->gap_got);
}

static PyObject *DeltaFeed_counters(DeltaFeed *self, PyObject *Py_UNUSED(ignored)) {
    return Py_BuildValue("{sLsLsLsLsLsLsL}", "applied", self->applied, "malformed", self->malformed,
                         "unknown_sid", self->unknown_sid, "unknown_market", self->unknown_market,
                         "off_grid", self->off_grid, "inconsistent", self->inconsistent,
                         "deferred", self->deferred);
}

static PyObject *DeltaFeed_parse_fixed(PyObject *Py_UNUSED(cls), PyObject *args) {
    /* exposed for tests: parse_fixed(text: bytes, decimals: 4|2, signed: bool) -> int | None */
    Py_buffer view;
    int decimals, is_signed;
    if (!PyArg_ParseTuple(args, "y*ip:parse_fixed", &view, &decimals, &is_signed)) return NULL;
    int64_t out;
    int bad = (decimals != 4 && decimals != 2) ||
              parse_fixed(view.buf, view.len, decimals, is_signed, decimals == 4 ? PRICE_MAX : MAX_LEVEL_COUNT, &out);
    PyBuffer_Release(&view);
    if (bad) Py_RETURN_NONE;
    return PyLong_FromLongLong(out);
}

static void DeltaFeed_dealloc(DeltaFeed *self) {
    for (Py_ssize_t i = 0; i < self->n_markets; i++) release_market(&self->markets[i]);
    PyMem_Free(self->markets);
    PyMem_Free(self->table);
    PyMem_Free(self->sids);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *DeltaFeed_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    if (PyTuple_GET_SIZE(args) || (kwds && PyDict_GET_SIZE(kwds))) {
        PyErr_SetString(PyExc_TypeError, "DeltaFeed() takes no arguments");
        return NULL;
    }
    DeltaFeed *self = (DeltaFeed *)type->tp_alloc(type, 0);
    return (PyObject *)self; /* tp_alloc zeroes every field */
}

static PyMethodDef DeltaFeed_methods[] = {
    {"run", (PyCFunction)DeltaFeed_run, METH_VARARGS,
     "run(messages: list[bytes | str], start=0, recv_ns=0) -> (next_index, code): code 0 done, 1 defer messages[next_index] "
     "to Python (not processed), 2 the message before next_index opened a seq gap (see last_gap())"},
    {"run_lines", (PyCFunction)DeltaFeed_run_lines, METH_VARARGS,
     "run_lines(buffer, start=0, recv_ns=0) -> (code, resume_at, line_start, line_end) over newline-separated messages"},
    {"add_market", (PyCFunction)DeltaFeed_add_market, METH_VARARGS,
     "add_market(ticker, bids, asks, meta, index) -> slot; the arrays are a Book's own"},
    {"set_sid", (PyCFunction)DeltaFeed_set_sid, METH_VARARGS, "set_sid(sid, use_yes_price)"},
    {"drop_sid", (PyCFunction)DeltaFeed_drop_sid, METH_VARARGS, "drop_sid(sid)"},
    {"use_yes_price", (PyCFunction)DeltaFeed_use_yes_price, METH_VARARGS, "use_yes_price(sid) -> bool | None"},
    {"seq", (PyCFunction)DeltaFeed_seq, METH_VARARGS, "seq(sid, seq) -> 0 in order, 1 gap, 2 stale"},
    {"sid_state", (PyCFunction)DeltaFeed_sid_state, METH_VARARGS,
     "sid_state(sid) -> (last_seq | None, gaps, missed, stale) | None"},
    {"last_gap", (PyCFunction)DeltaFeed_last_gap, METH_NOARGS, "last_gap() -> (sid, expected_seq, got_seq)"},
    {"counters", (PyCFunction)DeltaFeed_counters, METH_NOARGS, "counters() -> dict of message outcomes"},
    {"parse_fixed", (PyCFunction)DeltaFeed_parse_fixed, METH_VARARGS | METH_STATIC,
     "parse_fixed(text, decimals, signed) -> int | None (the exact decimal parser, for tests)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DeltaFeedType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "console.domain._fastbook.DeltaFeed",
    .tp_basicsize = sizeof(DeltaFeed),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Kalshi orderbook_delta messages parsed and applied to Book arrays in C (see fastbook.py).",
    .tp_new = DeltaFeed_new,
    .tp_dealloc = (destructor)DeltaFeed_dealloc,
    .tp_methods = DeltaFeed_methods,
};

static struct PyModuleDef fastbook_module = {
    PyModuleDef_HEAD_INIT, "_fastbook", "C hot path for Kalshi order-book deltas (see console/domain/fastbook.py).",
    -1, NULL,
};

PyMODINIT_FUNC PyInit__fastbook(void) {
    if (PyType_Ready(&DeltaFeedType) < 0) return NULL;
    PyObject *m = PyModule_Create(&fastbook_module);
    if (!m) return NULL;
    Py_INCREF(&DeltaFeedType);
    if (PyModule_AddObject(m, "DeltaFeed", (PyObject *)&DeltaFeedType) < 0) {
        Py_DECREF(&DeltaFeedType);
        Py_DECREF(m);
        return NULL;
    }
    PyModule_AddIntConstant(m, "DONE", R_DONE);
    PyModule_AddIntConstant(m, "DEFER", R_DEFER);
    PyModule_AddIntConstant(m, "GAP", R_GAP);
    PyModule_AddIntConstant(m, "MAX_SID", MAX_SID);
    return m;
}
