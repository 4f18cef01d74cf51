/* _fastbook_apply.h: the market table, seq checks and one message parsed and applied, for _fastbook.c. */
#ifndef EDGEDESK_FASTBOOK_APPLY_H
#define EDGEDESK_FASTBOOK_APPLY_H

#include "_fastbook_scan.h"

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

/* seq rule shared with Python (fastbook._SidTable.seq): 0 in order, 1 gap (applied), 2 stale (skipped) */
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

#endif
