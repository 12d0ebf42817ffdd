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
#include <stdint.h>
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
/* Whether any of the 8 bytes in w needs a look: a control byte, a quote,
 * a backslash or a non-ASCII byte (the classic SWAR tests, exact). */
static inline int needs_look(uint64_t w) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"'), slash = w ^ (ones * '\\');
    uint64_t control = (w & ~highs) + (ones * (0x80 - 0x20));
    return ((w | ~control | ((quote - ones) & ~quote) | ((slash - ones) & ~slash)) & highs) != 0;
}

static int scan_string(cptr *pp, cptr end, int *escaped) {
    cptr p = *pp + 1;
    for (;;) {
        /* The common run: printable ASCII, eight bytes at a time. */
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (needs_look(w)) break;
            p += 8;
        }
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
    case '[': {
        /* (the closing byte is the opening one plus 2: '{'/'}', '['/']') */
        unsigned char close = (unsigned char)(*p + 2);
        if (depth == MAX_DEPTH) return J_UNSURE;
        stack[depth++] = close;
        p = skip_ws(p + 1, end);
        if (p < end && *p == close) {
            p++;
            depth--;
            goto after;
        }
        if (close == '}') goto key;
        goto value;
    }
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

/* -- delta runs: what text and usage skip over ------------------------------------ */

/* The contents of the JSON string at *pp, unescaped, appended to o as
 * UTF-8; *pp moves past it.  0 when it is not one or holds a lone
 * surrogate escape (then Python reads it). */
static int unescape_string(cptr *pp, cptr end, Out *o) {
    cptr p = *pp, start;
    int escaped = 0;
    if (p >= end || *p != '"') return 0;
    start = p;
    if (scan_string(&p, end, &escaped) != J_VALID) return 0;
    *pp = p;
    cptr q = start + 1, stop = p - 1;
    if (!escaped) {
        if (out_reserve(o, stop - q)) return -1;
        out_put(o, q, stop - q);
        return 1;
    }
    if (out_reserve(o, stop - q)) return -1; /* (unescaping never grows) */
    char *w = o->buf + o->len;
    while (q < stop) {
        if (*q != '\\') {
            *w++ = (char)*q++;
            continue;
        }
        unsigned v = 0, lo = 0xDC00;
        switch (q[1]) {
        case 'b': *w++ = '\b'; q += 2; continue;
        case 'f': *w++ = '\f'; q += 2; continue;
        case 'n': *w++ = '\n'; q += 2; continue;
        case 'r': *w++ = '\r'; q += 2; continue;
        case 't': *w++ = '\t'; q += 2; continue;
        case 'u': break;
        default: *w++ = (char)q[1]; q += 2; continue; /* " \ / */
        }
        hex4(q + 2, &v);
        q += 6;
        if (v >= 0xD800 && v <= 0xDBFF) {
            hex4(q + 2, &lo); /* (scan_string checked the pair) */
            q += 6;
            v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (v < 0x80) {
            *w++ = (char)v;
        } else if (v < 0x800) {
            *w++ = (char)(0xC0 | (v >> 6));
            *w++ = (char)(0x80 | (v & 0x3F));
        } else if (v < 0x10000) {
            *w++ = (char)(0xE0 | (v >> 12));
            *w++ = (char)(0x80 | ((v >> 6) & 0x3F));
            *w++ = (char)(0x80 | (v & 0x3F));
        } else {
            *w++ = (char)(0xF0 | (v >> 18));
            *w++ = (char)(0x80 | ((v >> 12) & 0x3F));
            *w++ = (char)(0x80 | ((v >> 6) & 0x3F));
            *w++ = (char)(0x80 | (v & 0x3F));
        }
    }
    o->len = w - o->buf;
    return 1;
}

#define MAX_SAME 4

typedef struct {
    cptr event, event_end;
    PyObject *text_key;
    Py_ssize_t n_same;
    PyObject *same[MAX_SAME];
    PyObject *allowed; /* a tuple of bytes */
} Shape;

typedef struct {
    cptr event, event_end, t, t_end, data, data_end;
    int canonical; /* {"event":E[,"id":I][,"t":T],"data":D} exactly as sseq writes it */
} Line;

static int bytes_is(PyObject *b, cptr k, cptr k_end) {
    return PyBytes_GET_SIZE(b) == k_end - k && memcmp(PyBytes_AS_STRING(b), k, k_end - k) == 0;
}

/* A record line with the fields event (plain string), data, and maybe id
 * (plain string) and t (a number); anything else declines. */
static int read_line(cptr p, cptr end, Line *l) {
    cptr k, k_end, v, v_end, line = p;
    int order = 0, canonical = 1;
    memset(l, 0, sizeof(*l));
    if (p >= end || *p != '{') return 0;
    p = skip_ws(p + 1, end);
    for (;;) {
        if (!plain_string(&p, end, &k, &k_end)) return 0;
        cptr colon = p;
        p = skip_ws(p, end);
        if (p >= end || *p != ':') return 0;
        canonical &= p == colon;
        p++;
        canonical &= p == skip_ws(p, end);
        p = skip_ws(p, end);
        v = p;
        if (is_key(k, k_end, "event", 5)) {
            if (l->event || !plain_string(&p, end, &l->event, &l->event_end)) return 0;
            canonical &= order == 0;
            order = 1;
        } else if (is_key(k, k_end, "id", 2)) {
            cptr a, b;
            if (order >= 2 || !plain_string(&p, end, &a, &b)) return 0;
            canonical &= b > a; /* (an empty id is not written) */
            canonical &= order == 1;
            order = 2;
        } else if (is_key(k, k_end, "t", 1)) {
            if (l->t || p >= end || !(*p == '-' || is_digit(*p)) || scan_number(&p, end) != J_VALID) return 0;
            l->t = v;
            l->t_end = p;
            canonical &= order == 1 || order == 2;
            order = 3;
            /* sseq writes %.3f: digits, a point, three digits. */
            Py_ssize_t n = p - v;
            canonical &= n >= 5 && n <= 13 && v[n - 4] == '.' && is_digit(v[n - 3]) && is_digit(v[n - 2]) &&
                         is_digit(v[n - 1]) && v[0] != '-';
            for (cptr d = v; d < p - 4; d++) canonical &= is_digit(*d);
        } else if (is_key(k, k_end, "data", 4)) {
            if (l->data || scan_value(&p, end) != J_VALID) return 0;
            l->data = v;
            l->data_end = p;
            canonical &= order >= 1;
            order = 4;
        } else {
            return 0;
        }
        v_end = p;
        p = skip_ws(p, end);
        canonical &= p == v_end;
        if (p < end && *p == ',') {
            p++;
            canonical &= p == skip_ws(p, end);
            p = skip_ws(p, end);
            continue;
        }
        if (p >= end || *p != '}') return 0;
        break;
    }
    canonical &= p + 1 == end && line[1] == '"';
    if (skip_ws(p + 1, end) != end || !l->event || !l->data) return 0;
    l->canonical = canonical && order == 4;
    return 1;
}

/* Whether the data at *pp fits the shape: an object whose keys are the
 * text key (a non-empty string, unescaped into text), the same-keys (their
 * value spans into spans) and the allowed ones, each once -- checked as
 * JSON on the way.  On success *pp is past the object.  With ``type``, its
 * "type" (an allowed key) must be a plain string, whose span is set there
 * (NULL when the data has none). */
static int fits(cptr *pp, cptr end, const Shape *s, Out *text, cptr spans[][2], cptr *type, cptr *type_end) {
    Py_ssize_t mark = text->len;
    if (type) *type = *type_end = NULL;
    int seen_text = 0;
    unsigned seen = 0;
    cptr p = *pp;
    for (Py_ssize_t i = 0; i < s->n_same; i++) spans[i][0] = spans[i][1] = NULL;
    if (p >= end || *p != '{') return 0;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') return 0;
    for (;;) {
        cptr k, k_end, v;
        if (!plain_string(&p, end, &k, &k_end)) goto no;
        p = skip_ws(p, end);
        if (p >= end || *p != ':') goto no;
        p = skip_ws(p + 1, end);
        v = p;
        if (bytes_is(s->text_key, k, k_end)) {
            if (seen_text) goto no;
            seen_text = 1;
            Py_ssize_t before = text->len;
            int r = unescape_string(&p, end, text);
            if (r < 0) return -1;
            if (r == 0 || text->len == before) goto no;
        } else {
            Py_ssize_t i;
            for (i = 0; i < s->n_same; i++)
                if (bytes_is(s->same[i], k, k_end)) break;
            if (i < s->n_same) {
                if (seen & (1u << i)) goto no;
                seen |= 1u << i;
                if (scan_value(&p, end) != J_VALID) goto no;
                spans[i][0] = v;
                spans[i][1] = p;
            } else {
                Py_ssize_t j, n = PyTuple_GET_SIZE(s->allowed);
                for (j = 0; j < n; j++)
                    if (bytes_is(PyTuple_GET_ITEM(s->allowed, j), k, k_end)) break;
                if (j == n) goto no;
                if (type && is_key(k, k_end, "type", 4)) {
                    /* (asked for: a message event's type is its data's) */
                    if (*type || !plain_string(&p, end, type, type_end)) goto no;
                } else if (scan_value(&p, end) != J_VALID) {
                    goto no;
                }
            }
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}' && seen_text) {
            *pp = p + 1;
            return 1;
        }
        goto no;
    }
no:
    text->len = mark;
    return 0;
}

static int load_shapes(PyObject *shapes, Shape *out, Py_ssize_t max) {
    Py_ssize_t n = PyTuple_GET_SIZE(shapes);
    if (n > max) n = max;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PyTuple_GET_ITEM(shapes, i), *same;
        PyObject *event;
        if (!PyArg_ParseTuple(t, "SSO!O!", &event, &out[i].text_key, &PyTuple_Type, &same, &PyTuple_Type, &out[i].allowed))
            return -1;
        out[i].event = (cptr)PyBytes_AS_STRING(event);
        out[i].event_end = out[i].event + PyBytes_GET_SIZE(event);
        out[i].n_same = PyTuple_GET_SIZE(same) < MAX_SAME ? PyTuple_GET_SIZE(same) : MAX_SAME;
        for (Py_ssize_t j = 0; j < out[i].n_same; j++) {
            out[i].same[j] = PyTuple_GET_ITEM(same, j);
            if (!PyBytes_Check(out[i].same[j])) {
                PyErr_SetString(PyExc_TypeError, "same-keys must be bytes");
                return -1;
            }
        }
    }
    return (int)n;
}

/* A follower: the line at p, written exactly as sseq writes a record,
 * {"event":E[,"id":I][,"t":T],"data":D}, with the lead's event E and data
 * that fits the shape.  On success *data / *t are its spans and the end of
 * the line (just past the data's closing brace and the record's) is
 * returned; NULL otherwise. */
static cptr follower(cptr p, cptr end, cptr event, Py_ssize_t event_len, const Shape *s, Out *text, cptr spans[][2],
                     cptr *data, cptr *t, cptr *t_end, int by_type) {
    *t = *t_end = NULL;
    if (end - p < 12 + event_len || memcmp(p, "{\"event\":\"", 10) != 0 || memcmp(p + 10, event, event_len) != 0 ||
        p[10 + event_len] != '"')
        return NULL;
    p += 11 + event_len;
    if (end - p > 7 && memcmp(p, ",\"id\":\"", 7) == 0) {
        cptr a, b;
        p += 6;
        if (!plain_string(&p, end, &a, &b) || a == b) return NULL;
    }
    if (end - p > 5 && memcmp(p, ",\"t\":", 5) == 0) {
        /* sseq writes %.3f: digits (no leading zero), a point, three digits. */
        cptr v = p + 5, q = v;
        while (q < end && is_digit(*q)) q++;
        if (q == v || q - v > 9 || (*v == '0' && q - v > 1) || end - q < 4 || *q != '.' || !is_digit(q[1]) ||
            !is_digit(q[2]) || !is_digit(q[3]))
            return NULL;
        *t = v;
        *t_end = q + 4;
        p = q + 4;
    }
    if (end - p < 9 || memcmp(p, ",\"data\":", 8) != 0) return NULL;
    p += 8;
    *data = p;
    cptr type = NULL, type_end = NULL;
    int r = by_type ? fits(&p, end, s, text, spans, &type, &type_end) : fits(&p, end, s, text, spans, NULL, NULL);
    if (r <= 0) return r < 0 ? (cptr)-1 : NULL;
    if (by_type && !(type && type_end - type == s->event_end - s->event && memcmp(type, s->event, type_end - type) == 0))
        return NULL;
    if (p >= end || *p != '}') return NULL;
    return p + 1;
}

static inline cptr line_end_of(cptr p, cptr end) {
    cptr lf = memchr(p, '\n', end - p);
    return lf ? lf : end;
}

/* delta_runs(buf, pos, end, shapes, digest) -> (lead, after, stop, count, shape, text, digest, ends, last_t)
 *
 * From buf[pos:end], lines of NDJSON (the last one may lack its LF): the first
 * line that leads a run -- a record whose event is a shape's and whose data
 * fits it -- starts at ``lead`` (end when none does) and ends at
 * ``after`` (past its LF).  Its ``count`` followers, up to ``stop``, are
 * the lines after it with the same event, data that fits with the same
 * values for the same-keys, written exactly as sseq writes a record (so
 * that the data bytes are the record's raw bytes).  Everything before
 * ``after`` is Python's to read.  Of the followers: ``text``, their texts
 * joined; with ``digest``, ``event\ndata\n\n`` of each joined, ``ends``
 * the end offset of each; ``last_t``, the t of the last as written (b""
 * when none). */
#define MAX_SHAPES 16
static PyObject *delta_runs(PyObject *self, PyObject *args) {
    Py_buffer view;
    PyObject *shapes, *result = NULL, *ends = NULL;
    Py_ssize_t pos, stop_at;
    int want_digest;
    Shape shape[MAX_SHAPES];
    cptr spans[MAX_SAME][2], lead_spans[MAX_SAME][2];
    Out text = {NULL, 0, 0}, digest = {NULL, 0, 0};
    if (!PyArg_ParseTuple(args, "y*nnO!p:delta_runs", &view, &pos, &stop_at, &PyTuple_Type, &shapes, &want_digest))
        return NULL;
    int n_shapes = load_shapes(shapes, shape, MAX_SHAPES);
    if (n_shapes < 0) goto done;
    if (stop_at < 0 || stop_at > view.len) stop_at = view.len;
    if (pos < 0) pos = 0;
    if (pos > stop_at) pos = stop_at;
    cptr base = (cptr)view.buf, end = base + stop_at, p = base + pos;
    cptr lead = end, after = end, stop = end, last_t = NULL, last_t_end = NULL;
    Py_ssize_t count = 0, which = -1;
    int by_type = 0;
    Line l;
    while (p < end) {
        cptr e = line_end_of(p, end), next = e < end ? e + 1 : end;
        if (read_line(p, e, &l)) {
            /* A "message" record is typed by its data's "type" (OpenRouter
             * sends Responses events without event lines). */
            by_type = is_key(l.event, l.event_end, "message", 7);
            for (which = 0; which < n_shapes; which++) {
                const Shape *s = &shape[which];
                Py_ssize_t n = s->event_end - s->event;
                if (by_type) {
                    cptr d = l.data, type, type_end;
                    int r = fits(&d, l.data_end, s, &text, lead_spans, &type, &type_end);
                    if (r < 0) goto done;
                    if (r && type && type_end - type == n && memcmp(type, s->event, n) == 0) break;
                    text.len = 0;
                } else if (n == l.event_end - l.event && memcmp(s->event, l.event, n) == 0) {
                    cptr d = l.data;
                    int r = fits(&d, l.data_end, s, &text, lead_spans, NULL, NULL);
                    if (r < 0) goto done;
                    if (r) break;
                }
            }
            if (which < n_shapes) {
                lead = p;
                after = next;
                break;
            }
        }
        p = next;
    }
    text.len = 0;
    stop = after;
    if (want_digest && !(ends = PyList_New(0))) goto done;
    if (lead < end) {
        const Shape *s = &shape[which];
        Py_ssize_t event_len = l.event_end - l.event;
        p = after;
        while (p < end) {
            cptr data, t, t_end, e = line_end_of(p, end);
            Py_ssize_t mark = text.len;
            cptr past = follower(p, e, l.event, event_len, s, &text, spans, &data, &t, &t_end, by_type);
            if (past == (cptr)-1) goto done;
            if (past != e) { /* (not one, or more after the record) */
                text.len = mark;
                break;
            }
            Py_ssize_t i;
            for (i = 0; i < s->n_same; i++) {
                Py_ssize_t a = spans[i][1] - spans[i][0], b = lead_spans[i][1] - lead_spans[i][0];
                if (a != b || (a && memcmp(spans[i][0], lead_spans[i][0], a) != 0)) break;
            }
            if (i < s->n_same) {
                text.len = mark;
                break;
            }
            if (want_digest) {
                cptr data_end = e - 1;
                Py_ssize_t size = event_len + 1 + (data_end - data) + 2;
                if (out_reserve(&digest, size)) goto done;
                out_put(&digest, l.event, event_len);
                out_put(&digest, "\n", 1);
                out_put(&digest, data, data_end - data);
                out_put(&digest, "\n\n", 2);
                PyObject *at = PyLong_FromSsize_t(digest.len);
                if (!at || PyList_Append(ends, at)) {
                    Py_XDECREF(at);
                    goto done;
                }
                Py_DECREF(at);
            }
            last_t = t;
            last_t_end = t_end;
            count++;
            p = stop = e < end ? e + 1 : end;
        }
    }
    {
        PyObject *joined = PyUnicode_DecodeUTF8(text.buf ? text.buf : "", text.len, "strict");
        if (!joined) goto done;
        result = Py_BuildValue("(nnnnnNy#Oy#)", (Py_ssize_t)(lead - base), (Py_ssize_t)(after - base),
                               (Py_ssize_t)(stop - base), count, which, joined, digest.buf ? digest.buf : "", digest.len,
                               ends ? ends : Py_None, last_t ? (const char *)last_t : "", last_t ? last_t_end - last_t : 0);
    }
done:
    Py_XDECREF(ends);
    PyMem_Free(text.buf);
    PyMem_Free(digest.buf);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"json_check", json_check, METH_VARARGS, "json_check(buf, start=0, end=-1) -> 1 valid JSON, 0 not, -1 unsure"},
    {"encode_blocks", encode_blocks, METH_VARARGS, "encode_blocks(chunk, pos, end, crlf, mid, limit, raw_data) -> (out, pos, lines)"},
    {"record_types", record_types, METH_VARARGS, "record_types(lines, start) -> (events, types, stop)"},
    {"delta_runs", delta_runs, METH_VARARGS, "delta_runs(buf, pos, end, shapes, digest) -> (lead, after, stop, count, shape, text, digest, ends, last_t)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", "sseq's compiled core (optional).", -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) {
    init_tables();
    return PyModule_Create(&module);
}
