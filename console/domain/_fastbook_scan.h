/* _fastbook_scan.h: JSON scanning and exact decimal parsing for _fastbook.c (one translation unit). */
#ifndef EDGEDESK_FASTBOOK_SCAN_H
#define EDGEDESK_FASTBOOK_SCAN_H

#include "_fastbook.h"

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

#endif
