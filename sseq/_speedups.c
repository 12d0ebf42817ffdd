/* sseq._speedups: the compiled core of sseq's hot loops.
 *
 * Optional: setup.py builds it when a C compiler is there, and every caller
 * falls back to pure Python without it (sseq/speedups.py says which is in
 * use; SSEQ_PURE_PYTHON=1 turns it off).  Both give the same bytes: the test
 * suite runs the parser and record tests against each.
 *
 * Three things live here, each the C twin of a Python function:
 *
 *   json_check(buf)        is buf one JSON text?  1 yes, 0 no, -1 "ask
 *                          orjson" -- the cases where orjson's answer is not
 *                          plain RFC 8259 (a lone surrogate escape, a number
 *                          that overflows a double, nesting past 1,000).
 *                          Nothing is built: sseq only needs to know that a
 *                          payload is JSON to embed its bytes.
 *   encode_blocks(...)     sseq.blockscan.scan_blocks + records.encode_items
 *                          for a run of common blocks (an optional event line,
 *                          one data line, a blank line): NDJSON out, in one
 *                          call per run instead of a Python loop per event.
 *   record_types(line)     records.parse_record_types for the plain record
 *                          {"event":...,"data":...}; None for anything else,
 *                          which Python then reads (and explains, if bad).
 *
 * Whenever this code is unsure it declines, and Python decides: it never
 * guesses.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define J_INVALID 0
#define J_VALID 1
#define J_UNSURE (-1)
/* orjson refuses nesting past 1,024 levels; below this bound the two agree. */
#define MAX_DEPTH 1000

typedef const unsigned char *cptr;

/* Byte classes inside a JSON string. */
enum { C_PLAIN = 0, C_QUOTE, C_ESCAPE, C_CONTROL, C_U2, C_E0, C_U3, C_ED, C_F0, C_U4, C_F4, C_BAD };
static unsigned char string_class[256];

static void init_tables(void) {
    for (int c = 0; c < 256; c++) {
        unsigned char k;
        if (c < 0x20) k = C_CONTROL;
        else if (c == '"') k = C_QUOTE;
        else if (c == '\\') k = C_ESCAPE;
        else if (c < 0x80) k = C_PLAIN;
        else if (c < 0xC2) k = C_BAD;
        else if (c < 0xE0) k = C_U2;
        else if (c == 0xE0) k = C_E0;
        else if (c == 0xED) k = C_ED;
        else if (c < 0xF0) k = C_U3;
        else if (c == 0xF0) k = C_F0;
        else if (c < 0xF4) k = C_U4;
        else if (c == 0xF4) k = C_F4;
        else k = C_BAD;
        string_class[c] = k;
    }
}

#define CONT(p) (((p) & 0xC0) == 0x80)

/* One UTF-8 sequence at p whose lead byte has class k: its length, or 0
 * when it is not well-formed (overlong, a surrogate, past U+10FFFF, cut). */
static inline Py_ssize_t utf8_sequence(cptr p, cptr end, unsigned char k) {
    Py_ssize_t left = end - p;
    switch (k) {
    case C_U2:
        return left >= 2 && CONT(p[1]) ? 2 : 0;
    case C_E0:
        return left >= 3 && p[1] >= 0xA0 && p[1] <= 0xBF && CONT(p[2]) ? 3 : 0;
    case C_U3:
        return left >= 3 && CONT(p[1]) && CONT(p[2]) ? 3 : 0;
    case C_ED:
        return left >= 3 && p[1] >= 0x80 && p[1] <= 0x9F && CONT(p[2]) ? 3 : 0;
    case C_F0:
        return left >= 4 && p[1] >= 0x90 && p[1] <= 0xBF && CONT(p[2]) && CONT(p[3]) ? 4 : 0;
    case C_U4:
        return left >= 4 && CONT(p[1]) && CONT(p[2]) && CONT(p[3]) ? 4 : 0;
    case C_F4:
        return left >= 4 && p[1] >= 0x80 && p[1] <= 0x8F && CONT(p[2]) && CONT(p[3]) ? 4 : 0;
    default:
        return 0;
    }
}

/* Whether p..end is well-formed UTF-8. */
static int utf8_valid(cptr p, cptr end) {
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        Py_ssize_t n = utf8_sequence(p, end, string_class[*p]);
        if (!n) return 0;
        p += n;
    }
    return 1;
}

static inline int hex4(cptr p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

/* The string whose opening quote is at *pp: on success *pp is past its
 * closing quote.  *escaped is set when it holds a backslash. */
static int scan_string(cptr *pp, cptr end, int *escaped) {
    cptr p = *pp + 1;
    for (;;) {
        /* The common run: printable ASCII. */
        while (p < end && string_class[*p] == C_PLAIN) p++;
        if (p >= end) return J_INVALID;
        unsigned char k = string_class[*p];
        if (k == C_QUOTE) {
            *pp = p + 1;
            return J_VALID;
        }
        if (k == C_ESCAPE) {
            *escaped = 1;
            if (end - p < 2) return J_INVALID;
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p += 2;
                continue;
            case 'u': {
                unsigned v, w;
                if (end - p < 6 || !hex4(p + 2, &v)) return J_INVALID;
                p += 6;
                if (v >= 0xD800 && v <= 0xDBFF) {
                    /* A pair is plain JSON; a lone half orjson refuses and
                     * the standard library takes: Python decides. */
                    if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, &w) && w >= 0xDC00 && w <= 0xDFFF) {
                        p += 6;
                        continue;
                    }
                    return J_UNSURE;
                }
                if (v >= 0xDC00 && v <= 0xDFFF) return J_UNSURE;
                continue;
            }
            default:
                return J_INVALID;
            }
        }
        if (k == C_CONTROL || k == C_BAD) return J_INVALID;
        Py_ssize_t n = utf8_sequence(p, end, k);
        if (!n) return J_INVALID;
        p += n;
    }
}

static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* The number at *pp (RFC 8259's grammar).  One that could overflow a
 * double (orjson refuses infinity) is left to orjson; one that underflows
 * is 0.0 to it, and fine. */
static int scan_number(cptr *pp, cptr end) {
    cptr p = *pp, digits;
    if (p < end && *p == '-') p++;
    if (p >= end) return J_INVALID;
    digits = p;
    if (*p == '0') p++;
    else if (is_digit(*p)) while (p < end && is_digit(*p)) p++;
    else return J_INVALID;
    Py_ssize_t whole = p - digits; /* the magnitude is below 10^(whole + exponent) */
    if (p < end && *p == '.') {
        p++;
        cptr frac = p;
        while (p < end && is_digit(*p)) p++;
        if (p == frac) return J_INVALID;
    }
    long exponent = 0;
    int negative = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) negative = *p++ == '-';
        cptr exp = p;
        while (p < end && is_digit(*p)) {
            if (p - exp < 6) exponent = exponent * 10 + (*p - '0');
            p++;
        }
        if (p == exp) return J_INVALID;
        if (p - exp > 6) return J_UNSURE;
    }
    *pp = p;
    if (whole > 300 || (!negative && whole + exponent > 307)) return J_UNSURE;
    return J_VALID;
}

static inline cptr skip_ws(cptr p, cptr end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

static inline int literal(cptr *pp, cptr end, const char *word, Py_ssize_t n) {
    if (end - *pp < n || memcmp(*pp, word, n) != 0) return J_INVALID;
    *pp += n;
    return J_VALID;
}

/* Exactly one JSON value at *pp (no whitespace before it); *pp is moved
 * past it. */
static int scan_value(cptr *pp, cptr end) {
    unsigned char stack[MAX_DEPTH];
    int depth = 0, r, escaped = 0;
    cptr p = *pp;

value:
    if (p >= end) return J_INVALID;
    switch (*p) {
    case '{':
        if (depth == MAX_DEPTH) return J_UNSURE;
        stack[depth++] = '}';
        p = skip_ws(p + 1, end);
        if (p < end && *p == '}') {
            p++;
            depth--;
            goto after;
        }
        goto key;
    case '[':
        if (depth == MAX_DEPTH) return J_UNSURE;
        stack[depth++] = ']';
        p = skip_ws(p + 1, end);
        if (p < end && *p == ']') {
            p++;
            depth--;
            goto after;
        }
        goto value;
    case '"':
        r = scan_string(&p, end, &escaped);
        break;
    case 't':
        r = literal(&p, end, "true", 4);
        break;
    case 'f':
        r = literal(&p, end, "false", 5);
        break;
    case 'n':
        r = literal(&p, end, "null", 4);
        break;
    default:
        r = scan_number(&p, end);
        break;
    }
    if (r != J_VALID) return r;

after:
    if (depth == 0) {
        *pp = p;
        return J_VALID;
    }
    p = skip_ws(p, end);
    if (p >= end) return J_INVALID;
    if (*p == ',') {
        p = skip_ws(p + 1, end);
        if (stack[depth - 1] == '}') goto key;
        goto value;
    }
    if (*p == stack[depth - 1]) {
        p++;
        depth--;
        goto after;
    }
    return J_INVALID;

key:
    if (p >= end || *p != '"') return J_INVALID;
    r = scan_string(&p, end, &escaped);
    if (r != J_VALID) return r;
    p = skip_ws(p, end);
    if (p >= end || *p != ':') return J_INVALID;
    p = skip_ws(p + 1, end);
    goto value;
}

/* A whole JSON text: one value, whitespace around it allowed. */
static int check_text(cptr p, cptr end) {
    p = skip_ws(p, end);
    int r = scan_value(&p, end);
    if (r != J_VALID) return r;
    return skip_ws(p, end) == end ? J_VALID : J_INVALID;
}

static int get_span(Py_buffer *view, Py_ssize_t *start, Py_ssize_t *end) {
    if (*end < 0 || *end > view->len) *end = view->len;
    if (*start < 0) *start = 0;
    if (*start > *end) *start = *end;
    return 0;
}

static PyObject *json_check(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t start = 0, end = -1;
    if (!PyArg_ParseTuple(args, "y*|nn:json_check", &view, &start, &end)) return NULL;
    get_span(&view, &start, &end);
    cptr base = (cptr)view.buf;
    int r = check_text(base + start, base + end);
    PyBuffer_Release(&view);
    return PyLong_FromLong(r);
}

/* -- output buffer ---------------------------------------------------------- */

typedef struct {
    char *buf;
    Py_ssize_t len, cap;
} Out;

static int out_reserve(Out *o, Py_ssize_t more) {
    if (o->len + more <= o->cap) return 0;
    Py_ssize_t cap = o->cap ? o->cap : 1 << 16;
    while (cap < o->len + more) cap *= 2;
    char *buf = PyMem_Realloc(o->buf, cap);
    if (!buf) {
        PyErr_NoMemory();
        return -1;
    }
    o->buf = buf;
    o->cap = cap;
    return 0;
}

static inline void out_put(Out *o, const void *src, Py_ssize_t n) {
    memcpy(o->buf + o->len, src, n);
    o->len += n;
}

static const char HEX[] = "0123456789abcdef";

/* A JSON string of valid UTF-8 bytes, escaped as orjson.dumps escapes a
 * str: quote, backslash and the C0 controls, nothing else.  The worst case
 * is six bytes out per byte in, plus the quotes. */
static int out_json_string(Out *o, cptr p, cptr end) {
    if (out_reserve(o, 6 * (end - p) + 2)) return -1;
    char *w = o->buf + o->len;
    *w++ = '"';
    while (p < end) {
        unsigned char c = *p++;
        if (c >= 0x20 && c != '"' && c != '\\') {
            *w++ = (char)c;
            continue;
        }
        *w++ = '\\';
        switch (c) {
        case '"': *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case '\n': *w++ = 'n'; break;
        case '\r': *w++ = 'r'; break;
        case '\t': *w++ = 't'; break;
        case '\b': *w++ = 'b'; break;
        case '\f': *w++ = 'f'; break;
        default:
            *w++ = 'u';
            *w++ = '0';
            *w++ = '0';
            *w++ = HEX[c >> 4];
            *w++ = HEX[c & 15];
        }
    }
    *w++ = '"';
    o->len = w - o->buf;
    return 0;
}

/* -- the block encoder --------------------------------------------------------- */

/* The line at p: its end (the LF, or the CR of a CRLF), and where the next
 * line starts; 0 when no complete line is left before end. */
static inline int next_line(cptr p, cptr end, int crlf, cptr *line_end, cptr *next) {
    cptr lf = memchr(p, '\n', end - p);
    if (!lf) return 0;
    *next = lf + 1;
    *line_end = lf;
    if (crlf) {
        if (lf == p || lf[-1] != '\r') return -1; /* (cannot happen in a CRLF read) */
        *line_end = lf - 1;
    }
    return 1;
}

static inline cptr field_value(cptr p, cptr line_end, const char *name, Py_ssize_t n) {
    /* The value of a line "name:" or "name: ", else NULL. */
    if (line_end - p < n + 1 || memcmp(p, name, n) != 0 || p[n] != ':') return NULL;
    p += n + 1;
    if (p < line_end && *p == ' ') p++;
    return p;
}

/* encode_blocks(chunk, pos, end, crlf, mid, limit, raw_data) -> (out, pos, lines)
 *
 * From pos, the run of common blocks in chunk[pos:end] (whole lines, ending
 * in LF, or CRLF when crlf): each made its NDJSON record.  ``mid`` is what
 * goes between the event and the data (the encoded id and t, or b"");
 * ``limit`` is the event size limit, 0 when the read is too small to reach
 * it.  Stops at the first line that is not part of a common block, or at a
 * block Python must decide (a type in sseq's namespace or of bad UTF-8, a
 * payload after blanks, JSON that json_check is unsure of, data of bad
 * UTF-8), and says how far it got and how many lines it took. */
static PyObject *encode_blocks(PyObject *self, PyObject *args) {
    Py_buffer chunk, mid;
    Py_ssize_t pos, stop, limit;
    int crlf, raw_data;
    if (!PyArg_ParseTuple(args, "y*nnpy*np:encode_blocks", &chunk, &pos, &stop, &crlf, &mid, &limit, &raw_data))
        return NULL;
    PyObject *result = NULL;
    Out o = {NULL, 0, 0};
    Py_ssize_t lines = 0;
    cptr base = (cptr)chunk.buf;
    if (stop > chunk.len) stop = chunk.len;
    if (pos < 0) pos = 0;
    cptr p = base + (pos < stop ? pos : stop), end = base + stop;

    while (p < end) {
        /* p is the start of a block; q reads through it. */
        cptr q = p, line_end, next, type = NULL, type_end = NULL, data, data_end, after;
        Py_ssize_t taken = 2;
        if (next_line(q, end, crlf, &line_end, &next) != 1) break;
        cptr value = field_value(q, line_end, "event", 5);
        if (value) {
            type = value;
            type_end = line_end;
            taken = 3;
            q = next;
            if (next_line(q, end, crlf, &line_end, &next) != 1) break;
        }
        data = field_value(q, line_end, "data", 4);
        if (!data) break;
        data_end = line_end;
        after = next;
        if (next_line(after, end, crlf, &line_end, &next) != 1 || line_end != after) break;
        if (limit && (data_end - data >= limit || (type && type_end - type >= limit))) break;
        /* The type: "message" when empty; sseq's own namespace and bad UTF-8
         * are Python's. */
        if (type && type < type_end) {
            if ((type_end - type >= 5 && memcmp(type, "sseq.", 5) == 0) || !utf8_valid(type, type_end)) break;
        }
        /* The data: embedded when it is a JSON object or array, else a
         * string (raw_data: always a string). */
        int json = 0;
        if (!raw_data && data < data_end) {
            unsigned char first = *data;
            if (first == ' ' || first == '\t') break; /* (JSON after blanks: Python's rule) */
            if (first == '{' || first == '[') {
                int r = check_text(data, data_end);
                if (r == J_UNSURE) break;
                json = r == J_VALID;
            }
        }
        if (!json && !utf8_valid(data, data_end)) break; /* (replacement characters: Python's) */

        Py_ssize_t type_len = type ? type_end - type : 7;
        if (out_reserve(&o, 9 + 6 * type_len + 2 + mid.len + 8 + (data_end - data) + 2)) goto done;
        out_put(&o, "{\"event\":", 9);
        if (type && type < type_end) {
            if (out_json_string(&o, type, type_end)) goto done;
        } else {
            out_put(&o, "\"message\"", 9);
        }
        out_put(&o, mid.buf, mid.len);
        out_put(&o, ",\"data\":", 8);
        if (json) {
            out_put(&o, data, data_end - data);
        } else if (out_json_string(&o, data, data_end)) {
            goto done;
        }
        if (out_reserve(&o, 2)) goto done;
        out_put(&o, "}\n", 2);
        lines += taken;
        p = next;
    }
    {
        PyObject *bytes = PyBytes_FromStringAndSize(o.buf ? o.buf : "", o.len);
        if (!bytes) goto done;
        result = Py_BuildValue("(Nnn)", bytes, (Py_ssize_t)(p - base), lines);
    }
done:
    PyMem_Free(o.buf);
    PyBuffer_Release(&chunk);
    PyBuffer_Release(&mid);
    return result;
}

/* -- records: event and type ------------------------------------------------- */

typedef struct {
    cptr event, event_end, type, type_end;
} Types;

/* The string at *pp, with no escape in it: [*start, *end) its contents. */
static int plain_string(cptr *pp, cptr end, cptr *start, cptr *stop) {
    int escaped = 0;
    cptr p = *pp;
    if (p >= end || *p != '"') return 0;
    if (scan_string(&p, end, &escaped) != J_VALID || escaped) return 0;
    *start = *pp + 1;
    *stop = p - 1;
    *pp = p;
    return 1;
}

static inline int is_key(cptr k, cptr k_end, const char *name, Py_ssize_t n) {
    return k_end - k == n && memcmp(k, name, n) == 0;
}

/* The "type" string of the object at p (valid JSON already), if it has one
 * plainly spelled: 1 found, 0 none, -1 decline (an escape, a duplicate). */
static int object_type(cptr p, cptr end, cptr *type, cptr *type_end) {
    int found = 0;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') return 0;
    for (;;) {
        cptr k, k_end;
        if (!plain_string(&p, end, &k, &k_end)) return -1;
        p = skip_ws(p, end);
        p = skip_ws(p + 1, end); /* (the colon) */
        if (is_key(k, k_end, "type", 4)) {
            if (found) return -1;
            found = 1;
            if (p < end && *p == '"') {
                if (!plain_string(&p, end, type, type_end)) return -1;
            } else {
                *type = NULL; /* (not a string: no type) */
                if (scan_value(&p, end) != J_VALID) return -1;
            }
        } else if (scan_value(&p, end) != J_VALID) {
            return -1;
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        return found && *type != NULL;
    }
}

/* A plain record line: exactly an "event" string and a "data" value, no
 * escape in the key names or the event, valid JSON throughout. */
static int plain_record(cptr p, cptr end, Types *t) {
    cptr data = NULL, data_end = NULL;
    t->event = t->event_end = NULL;
    p = skip_ws(p, end);
    if (p >= end || *p != '{') return 0;
    p = skip_ws(p + 1, end);
    for (;;) {
        cptr k, k_end;
        if (!plain_string(&p, end, &k, &k_end)) return 0;
        p = skip_ws(p, end);
        if (p >= end || *p != ':') return 0;
        p = skip_ws(p + 1, end);
        if (is_key(k, k_end, "event", 5)) {
            if (t->event || !plain_string(&p, end, &t->event, &t->event_end)) return 0;
        } else if (is_key(k, k_end, "data", 4)) {
            if (data) return 0;
            data = p;
            if (scan_value(&p, end) != J_VALID) return 0;
            data_end = p;
        } else {
            return 0;
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p >= end || *p != '}') return 0;
        break;
    }
    if (skip_ws(p + 1, end) != end || !t->event || !data) return 0;
    t->type = t->event;
    t->type_end = t->event_end;
    if (is_key(t->event, t->event_end, "message", 7) && *data == '{') {
        int r = object_type(data, data_end, &t->type, &t->type_end);
        if (r < 0) return 0;
        if (r == 0) {
            t->type = t->event;
            t->type_end = t->event_end;
        }
    }
    return 1;
}

/* A str for [p, end), the previous one again when the bytes are the same
 * (a stream repeats a few types thousands of times). */
static PyObject *cached_str(cptr p, cptr end, PyObject **last, cptr *last_p, Py_ssize_t *last_n) {
    Py_ssize_t n = end - p;
    if (*last && n == *last_n && memcmp(p, *last_p, n) == 0) {
        Py_INCREF(*last);
        return *last;
    }
    PyObject *s = PyUnicode_DecodeUTF8((const char *)p, n, "strict");
    if (!s) return NULL;
    Py_XDECREF(*last);
    *last = s;
    *last_p = p;
    *last_n = n;
    Py_INCREF(s);
    return s;
}

/* record_types(lines, start) -> (events, types, stop)
 *
 * records.parse_record_types for lines[start:], as long as each is a plain
 * record (see plain_record); stops at the first that is not (a blank line,
 * another field, an escape, a bad line: Python reads and explains it). */
static PyObject *record_types(PyObject *self, PyObject *args) {
    PyObject *lines, *events = NULL, *types = NULL, *last_event = NULL, *last_type = NULL;
    cptr le_p = NULL, lt_p = NULL;
    Py_ssize_t start, i, le_n = 0, lt_n = 0;
    if (!PyArg_ParseTuple(args, "O!n:record_types", &PyList_Type, &lines, &start)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(lines);
    if (start < 0) start = 0;
    events = PyList_New(0);
    types = PyList_New(0);
    if (!events || !types) goto fail;
    for (i = start; i < n; i++) {
        PyObject *line = PyList_GET_ITEM(lines, i);
        if (!PyBytes_Check(line)) break;
        cptr p = (cptr)PyBytes_AS_STRING(line);
        Types t;
        if (!plain_record(p, p + PyBytes_GET_SIZE(line), &t)) break;
        PyObject *e = cached_str(t.event, t.event_end, &last_event, &le_p, &le_n);
        if (!e) goto fail;
        int failed = PyList_Append(events, e);
        Py_DECREF(e);
        if (failed) goto fail;
        PyObject *k = t.type == t.event ? (Py_INCREF(e), e) : cached_str(t.type, t.type_end, &last_type, &lt_p, &lt_n);
        if (!k) goto fail;
        failed = PyList_Append(types, k);
        Py_DECREF(k);
        if (failed) goto fail;
    }
    Py_XDECREF(last_event);
    Py_XDECREF(last_type);
    return Py_BuildValue("(NNn)", events, types, i);
fail:
    Py_XDECREF(last_event);
    Py_XDECREF(last_type);
    Py_XDECREF(events);
    Py_XDECREF(types);
    return NULL;
}

static PyMethodDef methods[] = {
    {"json_check", json_check, METH_VARARGS, "json_check(buf, start=0, end=-1) -> 1 valid JSON, 0 not, -1 unsure"},
    {"encode_blocks", encode_blocks, METH_VARARGS, "encode_blocks(chunk, pos, end, crlf, mid, limit, raw_data) -> (out, pos, lines)"},
    {"record_types", record_types, METH_VARARGS, "record_types(lines, start) -> (events, types, stop)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", "sseq's compiled core (optional).", -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) {
    init_tables();
    return PyModule_Create(&module);
}
