/* _fastbook: the hot path of the Kalshi order-book feed, in C.
 *
 * A DeltaFeed takes raw `orderbook_delta` WebSocket messages (a list of bytes/str, or one buffer of
 * newline-separated messages), parses them without building Python objects, checks them strictly and
 * applies them to the level arrays of `console.domain.book.Book` objects it was given (the very same
 * memory the Python code reads). The rules are the reference path's, message for message
 * (console/domain/fastbook.py, `KalshiBookFeed(pure=True)`); tests/domain/test_fastbook.py feeds both the same random
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
#include "_fastbook_apply.h"

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
