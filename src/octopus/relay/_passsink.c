/* The relay sinks' usual reads, compiled: relay/fastsink.py says what they stand for.
 *
 * A paced same-protocol stream hands the sink one whole event per upstream read, or under load a
 * few whole events. In Python, cutting, metering, capturing and framing them took three frames
 * and as many C calls as lines; here one call does the same for the read shapes that need no
 * parsing (one event of one or two lines, or whole events without CR; nothing held, no usage
 * object, metering calibrated, the response head gone, the client still there), and hands every
 * other read to the Python sink (`slow`) untouched. Before the first store it only reads, so a
 * read it declines costs the Python path nothing. */

#include "_cpart.h"
#include <structmember.h>
#include <string.h>
#include <time.h>

static PyObject *s_held, *s_learning, *s_envelope, *s_framing, *s_size, *s_capture, *s_pieces,
    *s_last, *s_head, *s_disconnected, *s_write_paused, *s_output_size, *s_plain_run, *s_ran,
    *s_text_frame;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *slow;   /* the Python sink: every read this one declines */
    PyObject *cutter; /* relay.streaming._Metered: _held */
    PyObject *meter;  /* relay.metering.TextMeter: learning, envelope, framing, size */
    PyObject *count;  /* the meter's attribute `metered` adds to (borrowed: interned) */
    PyObject *out;    /* relay.ready.Delivery: capture, pieces */
    PyObject *quiet;  /* relay.keepalive.Keepalive: last */
    PyObject *now;    /* the clock `quiet.last` is read on */
    PyObject *direct; /* web.direct.DirectBody: _head */
    PyObject *cycle;  /* the request's uvicorn cycle: disconnected */
    PyObject *write;  /* its transport's write */
    PyObject *flow;   /* its flow control: write_paused */
    Py_ssize_t limit; /* the largest event the cutter takes whole */
    /* facts that never turn back once seen (each set by the Python side once, early) */
    int calibrated;     /* meter.learning went False: envelope and framing are final */
    long long envelope; /* meter.envelope + meter.framing, once calibrated */
    int head_gone;      /* direct._head went out with the first bytes */
    int kept_all;       /* out.capture reached 0: the log keeps nothing more */
    PyObject *pieces;   /* out.pieces: what the log keeps */
    int capture_known;  /* capture_left holds out.capture less what `kept` holds */
    long long capture_left;
    long long metered;  /* meter.size to add, at the next flush */
    long long kept;     /* bytes kept for the log, to take off out.capture at the next flush */
    double stamped;     /* CLOCK_MONOTONIC when quiet.last was last stamped */
    double stamp_every; /* seconds between two such stamps */
    Py_ssize_t taken;   /* reads relayed here, not by `slow` (for tests and profiles) */
} PassSink;

static unsigned char skip[256]; /* Horspool's shifts for USAGE, filled once */
static const char USAGE[] = "\"usage";
#define USAGE_SIZE 6

/* 1 when `owner.name` is truthy, 0 when not, -1 on an error. */
static int
truthy(PyObject *owner, PyObject *name)
{
    PyObject *value = PyObject_GetAttr(owner, name);
    if (value == NULL) {
        return -1;
    }
    int result = PyObject_IsTrue(value);
    Py_DECREF(value);
    return result;
}

/* `owner.name` as a C integer; -1 with an error set when it is not one. */
static long long
integer(PyObject *owner, PyObject *name)
{
    PyObject *value = PyObject_GetAttr(owner, name);
    if (value == NULL) {
        return -1;
    }
    long long result = PyLong_AsLongLong(value);
    Py_DECREF(value);
    return result;
}

/* The index of the first LF in data[from:size], or -1. */
static Py_ssize_t
line_end(const char *data, Py_ssize_t from, Py_ssize_t size)
{
    const char *found = memchr(data + from, '\n', (size_t)(size - from));
    return found == NULL ? -1 : (Py_ssize_t)(found - data);
}

/* 1: one whole event of one or two lines (the Python `cut`'s test, byte for byte). */
static int
one_event(const char *data, Py_ssize_t size)
{
    if (size < 2) {
        return 0;
    }
    Py_ssize_t end = line_end(data, 0, size);
    if (0 <= end && end < size - 3) { /* a second line: `event:` then `data:` */
        end = line_end(data, end + 1, size);
    }
    return end == size - 2 && data[size - 1] == '\n';
}

/* How many events a read of whole events holds, as TextMeter.feed_wire counts them (each
 * LF LF, not overlapping), when it ends on one and no CR is in it; 0 when it does not. */
static Py_ssize_t
whole_events(const char *data, Py_ssize_t size)
{
    if (size < 2 || data[size - 1] != '\n' || data[size - 2] != '\n' ||
        memchr(data, '\r', (size_t)size) != NULL) {
        return 0;
    }
    Py_ssize_t events = 0;
    for (Py_ssize_t at = line_end(data, 0, size); at >= 0 && at < size - 1;) {
        if (data[at + 1] == '\n') {
            events++;
            at = at + 2 < size ? line_end(data, at + 2, size) : -1;
        }
        else {
            at = line_end(data, at + 1, size);
        }
    }
    return events;
}

/* 1 when data[from:size] starts with `text`. */
static int
starts(const unsigned char *data, Py_ssize_t from, Py_ssize_t size, const char *text)
{
    size_t length = strlen(text);
    return (size_t)(size - from) >= length && memcmp(data + from, text, length) == 0;
}

/* 1 when a `"usage` other than a `"usage": null` placeholder is in data[:size] (cutter.py's
 * usage_slices); Horspool, so the bytes between skips are never read. */
static int
has_usage(const char *data, Py_ssize_t size)
{
    const unsigned char *at = (const unsigned char *)data;
    for (Py_ssize_t end = USAGE_SIZE - 1; end < size; end += skip[at[end]]) {
        Py_ssize_t start = end - (USAGE_SIZE - 1);
        if (at[end] == 'e' && memcmp(at + start, USAGE, USAGE_SIZE) == 0 &&
            !starts(at, start, size, "\"usage\":null") &&
            !starts(at, start, size, "\"usage\": null")) {
            return 1;
        }
    }
    return 0;
}

/* 1 once the meter is calibrated (its envelope cached), 0 while it learns, -1 on an error. */
static int
settle(PassSink *self)
{
    int learning = truthy(self->meter, s_learning);
    if (learning != 0) {
        return learning < 0 ? -1 : 0;
    }
    long long envelope = integer(self->meter, s_envelope);
    if (envelope == -1 && PyErr_Occurred()) {
        return -1;
    }
    long long framing = integer(self->meter, s_framing);
    if (framing == -1 && PyErr_Occurred()) {
        return -1;
    }
    self->envelope = envelope + framing;
    self->calibrated = 1;
    return 1;
}

static int outlet_ready(PassSink *self);

/* How many events `chunk` holds when this sink may take it itself, 0 when the Python sink
 * must, -1 on an error. One event of one or two lines counts as one whatever its line ends
 * (as `cut` counts it); more must be whole events without CR (as `_metered` then meters). */
static Py_ssize_t
takes(PassSink *self, PyObject *chunk)
{
    if (!PyBytes_CheckExact(chunk)) {
        return 0;
    }
    const char *data = PyBytes_AS_STRING(chunk);
    Py_ssize_t size = PyBytes_GET_SIZE(chunk);
    if (size > self->limit) {
        return 0;
    }
    Py_ssize_t events = one_event(data, size) ? 1 : whole_events(data, size);
    if (events == 0) {
        return 0;
    }
    if (has_usage(data, size)) { /* the usage tap parses this one */
        return 0;
    }
    if (!self->calibrated && settle(self) <= 0) {
        return PyErr_Occurred() ? -1 : 0;
    }
    int ready = outlet_ready(self);
    return ready <= 0 ? ready : events;
}

/* 1 when the outlet may take a read here: the response head went out, nothing is held, the
 * client is still there; 0 when the Python sink must, -1 on an error. */
static int
outlet_ready(PassSink *self)
{
    if (!self->head_gone) {
        int head = truthy(self->direct, s_head);
        if (head != 0) {
            return head < 0 ? -1 : 0;
        }
        self->head_gone = 1;
    }
    PyObject *owners[] = {self->cutter, self->cycle};
    PyObject *names[] = {s_held, s_disconnected};
    for (int i = 0; i < 2; i++) { /* either set: the Python sink knows what to do */
        if (owners[i] == NULL) { /* a converted sink has no cutter */
            continue;
        }
        int set = truthy(owners[i], names[i]);
        if (set != 0) {
            return set < 0 ? -1 : 0;
        }
    }
    return 1;
}

/* owner.name += step (an int attribute; step may be negative). */
static int
add_to(PyObject *owner, PyObject *name, long long step)
{
    PyObject *before = PyObject_GetAttr(owner, name);
    if (before == NULL) {
        return -1;
    }
    PyObject *delta = PyLong_FromLongLong(step);
    PyObject *after = delta == NULL ? NULL : PyNumber_Add(before, delta);
    Py_DECREF(before);
    Py_XDECREF(delta);
    if (after == NULL) {
        return -1;
    }
    int failed = PyObject_SetAttr(owner, name, after);
    Py_DECREF(after);
    return failed;
}

/* What this sink counted and kept since it last did, into meter.size and out.capture: before
 * the Python sink runs (it reads and moves both) and when the stream ends (`settle`). */
static int
flush(PassSink *self)
{
    long long metered = self->metered, kept = self->kept;
    self->metered = self->kept = 0;
    self->capture_known = 0; /* the Python sink may keep bytes too */
    if (metered != 0 && add_to(self->meter, self->count, metered)) {
        return -1;
    }
    return kept != 0 ? add_to(self->out, s_capture, -kept) : 0;
}

/* Delivery.sent: the first `capture` bytes stay for the request log (counted here, flushed). */
static int
capture(PassSink *self, PyObject *chunk)
{
    if (self->kept_all) {
        return 0;
    }
    if (!self->capture_known) {
        long long left = integer(self->out, s_capture);
        if (left == -1 && PyErr_Occurred()) {
            return -1;
        }
        self->capture_left = left;
        self->capture_known = 1;
    }
    if (self->capture_left <= 0) { /* it only counts down, here and in Python */
        self->kept_all = 1;
        return 0;
    }
    if (PyList_Append(self->pieces, chunk)) {
        return -1;
    }
    self->capture_left -= PyBytes_GET_SIZE(chunk);
    self->kept += PyBytes_GET_SIZE(chunk);
    return 0;
}

static double
monotonic(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

/* quiet.last = now(), the keep-alive's stamp of the last bytes out, at most every stamp_every
 * seconds: a keep-alive may come that much before its interval of silence, never after. */
static int
stamp(PassSink *self)
{
    double at = monotonic();
    if (at - self->stamped < self->stamp_every) {
        return 0;
    }
    self->stamped = at;
    PyObject *now = PyObject_CallNoArgs(self->now);
    if (now == NULL) {
        return -1;
    }
    int failed = PyObject_SetAttr(self->quiet, s_last, now);
    Py_DECREF(now);
    return failed;
}

/* "<size in lowercase hex>\r\n" into `line`; its length. */
static int
size_line(char *line, size_t size)
{
    char digits[16];
    int count = 0;
    do {
        digits[count++] = "0123456789abcdef"[size & 15];
        size >>= 4;
    } while (size != 0);
    for (int i = 0; i < count; i++) {
        line[i] = digits[count - 1 - i];
    }
    memcpy(line + count, "\r\n", 2);
    return count + 2;
}

/* `chunk` as one HTTP/1.1 chunk: its size in lowercase hex, CRLF, the bytes, CRLF. */
static PyObject *
framed(PyObject *chunk)
{
    Py_ssize_t size = PyBytes_GET_SIZE(chunk);
    char line[24];
    int digits = size_line(line, (size_t)size);
    PyObject *wire = PyBytes_FromStringAndSize(NULL, digits + size + 2);
    if (wire == NULL) {
        return NULL;
    }
    char *at = PyBytes_AS_STRING(wire);
    memcpy(at, line, (size_t)digits);
    memcpy(at + digits, PyBytes_AS_STRING(chunk), (size_t)size);
    memcpy(at + digits + size, "\r\n", 2);
    return wire;
}

static PyObject *send_out(PassSink *self, PyObject *chunk);

/* The taken read of `events` events: metered, then sent out. */
static PyObject *
relay(PassSink *self, PyObject *chunk, Py_ssize_t events)
{
    long long extra = (long long)PyBytes_GET_SIZE(chunk) - (long long)events * self->envelope;
    if (extra > 0) { /* the bytes beyond one envelope per event: their text, estimated */
        self->metered += extra;
    }
    return send_out(self, chunk);
}

/* Client bytes made here, as outlet's sink sends them: kept, stamped and written as one HTTP
 * chunk; the flow's write_paused (True: hold). */
static PyObject *
send_out(PassSink *self, PyObject *chunk)
{
    if (capture(self, chunk) || stamp(self)) {
        return NULL;
    }
    PyObject *wire = framed(chunk);
    if (wire == NULL) {
        return NULL;
    }
    PyObject *done = PyObject_CallOneArg(self->write, wire);
    Py_DECREF(wire);
    if (done == NULL) {
        return NULL;
    }
    Py_DECREF(done);
    int paused = truthy(self->flow, s_write_paused);
    return paused < 0 ? NULL : PyBool_FromLong(paused);
}

static PyObject *
PassSink_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PassSink *self = (PassSink *)op;
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError, "a sink takes one chunk");
        return NULL;
    }
    if (self->slow == NULL) {
        PyErr_SetString(PyExc_TypeError, "PassSink.__init__ was not called");
        return NULL;
    }
    PyObject *chunk = args[0];
    Py_ssize_t events = takes(self, chunk);
    if (events < 0) { /* an attribute gone astray: the Python sink reports it its own way */
        PyErr_Clear();
        events = 0;
    }
    if (events == 0) {
        return flush(self) ? NULL : PyObject_CallOneArg(self->slow, chunk);
    }
    self->taken++;
    return relay(self, chunk, events);
}

static int
PassSink_traverse(PassSink *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->slow);
    Py_VISIT(self->cutter);
    Py_VISIT(self->meter);
    Py_VISIT(self->out);
    Py_VISIT(self->quiet);
    Py_VISIT(self->now);
    Py_VISIT(self->direct);
    Py_VISIT(self->cycle);
    Py_VISIT(self->write);
    Py_VISIT(self->flow);
    Py_VISIT(self->pieces);
    return 0;
}

static int
PassSink_clear(PassSink *self)
{
    Py_CLEAR(self->slow);
    Py_CLEAR(self->cutter);
    Py_CLEAR(self->meter);
    Py_CLEAR(self->out);
    Py_CLEAR(self->quiet);
    Py_CLEAR(self->now);
    Py_CLEAR(self->direct);
    Py_CLEAR(self->cycle);
    Py_CLEAR(self->write);
    Py_CLEAR(self->flow);
    Py_CLEAR(self->pieces);
    return 0;
}

static void
PassSink_dealloc(PyObject *self)
{
    dealloc_tracked(self, (inquiry)PassSink_clear);
}

static PyObject *
PassSink_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PassSink *self = (PassSink *)PyType_GenericNew(type, args, kwargs);
    if (self != NULL) {
        self->vectorcall = PassSink_vectorcall; /* refuses until __init__ ran */
    }
    return (PyObject *)self;
}

/* The parts every sink here holds (`parts`: slow, cutter, meter, out, quiet, now, direct,
 * cycle, write, flow; a converted sink has no cutter and meters into `out`). */
static int
init_parts(PassSink *self, PyObject *parts[10], PyObject *count, Py_ssize_t limit,
           double stamp_every)
{
    if (!PyCallable_Check(parts[0]) || !PyCallable_Check(parts[5]) ||
        !PyCallable_Check(parts[8])) {
        PyErr_SetString(PyExc_TypeError, "slow, now and write must be callable");
        return -1;
    }
    PyObject **slots[] = {&self->slow,  &self->cutter, &self->meter, &self->out,
                          &self->quiet, &self->now,    &self->direct, &self->cycle,
                          &self->write, &self->flow};
    for (int i = 0; i < 10; i++) {
        Py_XSETREF(*slots[i], Py_XNewRef(parts[i]));
    }
    self->count = count;
    PyObject *pieces = PyObject_GetAttr(self->out, s_pieces);
    if (pieces == NULL) {
        return -1;
    }
    if (!PyList_Check(pieces)) {
        Py_DECREF(pieces);
        PyErr_SetString(PyExc_TypeError, "out.pieces must be a list");
        return -1;
    }
    Py_XSETREF(self->pieces, pieces);
    self->limit = limit;
    self->calibrated = self->head_gone = self->kept_all = self->capture_known = 0;
    self->taken = self->metered = self->kept = 0;
    self->stamped = -1e9;
    self->stamp_every = stamp_every;
    return 0;
}

static int
PassSink_init(PassSink *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"slow", "cutter", "meter", "out", "quiet", "now",
                               "direct", "cycle", "write", "flow", "limit", "stamp_every", NULL};
    PyObject *parts[10];
    Py_ssize_t limit;
    double stamp_every;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOOOOOOOOnd:PassSink", keywords, &parts[0],
                                     &parts[1], &parts[2], &parts[3], &parts[4], &parts[5],
                                     &parts[6], &parts[7], &parts[8], &parts[9], &limit,
                                     &stamp_every) ||
        init_parts(self, parts, s_size, limit, stamp_every)) {
        return -1;
    }
    self->vectorcall = PassSink_vectorcall;
    return 0;
}

static PyObject *
PassSink_settle(PyObject *op, PyObject *Py_UNUSED(unused))
{
    return flush((PassSink *)op) ? NULL : Py_NewRef(Py_None);
}

static PyMethodDef PassSink_methods[] = {
    {"settle", PassSink_settle, METH_NOARGS,
     "Put what was counted and kept here into the meter and the delivery (the stream ends)."},
    {NULL},
};

static PyMemberDef PassSink_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(PassSink, vectorcall), READONLY, NULL},
    {"taken", T_PYSSIZET, offsetof(PassSink, taken), READONLY, "reads relayed here"},
    {NULL},
};

static PyType_Slot PassSink_slots[] = {
    {Py_tp_doc, "The passthrough sink's usual read in C; every other read goes to `slow`."},
    {Py_tp_init, PassSink_init},
    {Py_tp_new, PassSink_new},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_traverse, PassSink_traverse},
    {Py_tp_clear, PassSink_clear},
    {Py_tp_dealloc, PassSink_dealloc},
    {Py_tp_members, PassSink_members},
    {Py_tp_methods, PassSink_methods},
    {0, NULL},
};

static PyType_Spec PassSink_spec = {
    .name = "octopus.relay._passsink.PassSink",
    .basicsize = sizeof(PassSink),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = PassSink_slots,
};

/* ---- The converted stream's usual read: one learned text delta (text_runs.py), re-framed ----
 *
 * A converted stream whose reader has learned its upstream's text delta envelope reads, in
 * Python, the text's JSON string out of it (TextRuns.whole), makes a TextDelta, and has the
 * client encoder fill its own envelope around the encoded text (text_wire), then sends that as
 * outlet's sink does. When the text is plain (no quote, backslash or control character, valid
 * UTF-8), its JSON string is the same bytes on both sides, so this copies it from one envelope
 * into the other. The envelopes are asked of Python (`reader.plain_run()`,
 * `encoder.text_frame(index)`) after every read Python handled, since only those move them. */

typedef struct {
    PassSink base;       /* the outlet's side (no cutter; it meters into out.output_size) */
    PyObject *reader;    /* protocols.text_runs.RunReader: plain_run(), ran() */
    PyObject *encoder;   /* the client's StreamEncoder: text_frame(index) */
    PyObject *head;      /* the learned envelope before the text's JSON string (bytes) */
    PyObject *tail;      /* ... and after it, the event's blank line included */
    PyObject *wire_head; /* the client's envelope around that string, framed as an SSE event */
    PyObject *wire_tail;
    int fresh;  /* the fields above hold: no read went to Python since they were asked */
    int usable; /* ... and they allow a read to be taken here */
    int never;  /* the reader gave up learning: every read is Python's */
    int ran;    /* reader.ran() was called since they were asked */
} RunSink;

/* 1 when data[:size] is one SSE event: its first blank line ends it. */
static int
lone_event(const char *data, Py_ssize_t size)
{
    if (size < 2 || data[size - 1] != '\n' || data[size - 2] != '\n') {
        return 0;
    }
    for (Py_ssize_t at = line_end(data, 0, size); at >= 0 && at < size - 2;) {
        if (data[at + 1] == '\n') {
            return 0;
        }
        at = line_end(data, at + 1, size);
    }
    return 1;
}

/* The characters of text[:size] when its JSON string is itself (no quote, backslash or control
 * character; valid UTF-8, as msgspec decodes it); 0 when it is not, or empty. */
static Py_ssize_t
plain_chars(const char *text, Py_ssize_t size)
{
    int ascii = 1;
    for (Py_ssize_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == '"' || c == '\\') {
            return 0;
        }
        ascii &= c < 0x80;
    }
    if (ascii) {
        return size;
    }
    PyObject *decoded = PyUnicode_DecodeUTF8(text, size, "strict");
    if (decoded == NULL) {
        PyErr_Clear();
        return 0;
    }
    Py_ssize_t chars = PyUnicode_GET_LENGTH(decoded);
    Py_DECREF(decoded);
    return chars;
}

/* `value` when it is a bytes object, else NULL with TypeError set. */
static PyObject *
bytes_item(PyObject *tuple, Py_ssize_t index)
{
    PyObject *value = PyTuple_GET_ITEM(tuple, index);
    if (!PyBytes_CheckExact(value)) {
        PyErr_SetString(PyExc_TypeError, "an envelope must be bytes");
        return NULL;
    }
    return value;
}

/* The client's frame for block `index` into wire_head/wire_tail; 1 when there is one. */
static int
ask_frame(RunSink *self, PyObject *index)
{
    PyObject *frame = PyObject_CallMethodOneArg(self->encoder, s_text_frame, index);
    if (frame == NULL) {
        return -1;
    }
    int found = 0;
    if (frame != Py_None) {
        PyObject *head, *tail;
        if (!PyTuple_CheckExact(frame) || PyTuple_GET_SIZE(frame) != 2 ||
            (head = bytes_item(frame, 0)) == NULL || (tail = bytes_item(frame, 1)) == NULL) {
            Py_DECREF(frame);
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_TypeError, "text_frame must give (head, tail)");
            }
            return -1;
        }
        Py_XSETREF(self->wire_head, Py_NewRef(head));
        Py_XSETREF(self->wire_tail, Py_NewRef(tail));
        found = 1;
    }
    Py_DECREF(frame);
    return found;
}

/* Ask Python for the envelopes (after a read it handled); sets fresh, usable, never. */
static int
refresh(RunSink *self)
{
    self->fresh = 1;
    self->usable = self->ran = 0;
    PyObject *state = PyObject_CallMethodNoArgs(self->reader, s_plain_run);
    if (state == NULL) {
        return -1;
    }
    if (state == Py_None || (PyTuple_Check(state) && PyTuple_GET_SIZE(state) == 0)) {
        self->never = state != Py_None;
        Py_DECREF(state);
        return 0;
    }
    PyObject *head, *tail;
    Py_ssize_t limit;
    if (!PyTuple_CheckExact(state) || PyTuple_GET_SIZE(state) != 4 ||
        (head = bytes_item(state, 0)) == NULL || (tail = bytes_item(state, 1)) == NULL ||
        ((limit = PyLong_AsSsize_t(PyTuple_GET_ITEM(state, 2))) == -1 && PyErr_Occurred())) {
        Py_DECREF(state);
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "plain_run must give (head, tail, limit, index)");
        }
        return -1;
    }
    Py_XSETREF(self->head, Py_NewRef(head));
    Py_XSETREF(self->tail, Py_NewRef(tail));
    self->base.limit = limit;
    int framed = ask_frame(self, PyTuple_GET_ITEM(state, 3));
    Py_DECREF(state);
    if (framed < 0) {
        return -1;
    }
    self->usable = framed;
    return 0;
}

/* The text's characters when this sink may take `chunk`, 0 when Python must, -1 on an error. */
static Py_ssize_t
run_takes(RunSink *self, PyObject *chunk)
{
    if (self->never || !PyBytes_CheckExact(chunk)) {
        return 0;
    }
    const char *data = PyBytes_AS_STRING(chunk);
    Py_ssize_t size = PyBytes_GET_SIZE(chunk);
    if (!lone_event(data, size)) { /* several: not plain either (each joint holds a quote);
                                      * declined before asking Python for the envelopes */
        return 0;
    }
    if (!self->fresh && refresh(self)) {
        return -1;
    }
    if (!self->usable || size > self->base.limit) {
        return 0;
    }
    Py_ssize_t head = PyBytes_GET_SIZE(self->head), tail = PyBytes_GET_SIZE(self->tail);
    if (size <= head + tail || memcmp(data, PyBytes_AS_STRING(self->head), (size_t)head) != 0 ||
        memcmp(data + size - tail, PyBytes_AS_STRING(self->tail), (size_t)tail) != 0) {
        return 0;
    }
    Py_ssize_t chars = plain_chars(data + head, size - head - tail);
    if (chars == 0) {
        return 0;
    }
    int ready = outlet_ready(&self->base);
    return ready <= 0 ? ready : chars;
}

/* The client's event around the upstream's text: its head, the JSON string, its tail. */
static PyObject *
refilled(RunSink *self, PyObject *chunk)
{
    Py_ssize_t head = PyBytes_GET_SIZE(self->head), tail = PyBytes_GET_SIZE(self->tail);
    Py_ssize_t text = PyBytes_GET_SIZE(chunk) - head - tail + 2; /* the quotes included */
    Py_ssize_t before = PyBytes_GET_SIZE(self->wire_head);
    Py_ssize_t after = PyBytes_GET_SIZE(self->wire_tail);
    PyObject *event = PyBytes_FromStringAndSize(NULL, before + text + after);
    if (event == NULL) {
        return NULL;
    }
    char *at = PyBytes_AS_STRING(event);
    memcpy(at, PyBytes_AS_STRING(self->wire_head), (size_t)before);
    memcpy(at + before, PyBytes_AS_STRING(chunk) + head - 1, (size_t)text);
    memcpy(at + before + text, PyBytes_AS_STRING(self->wire_tail), (size_t)after);
    return event;
}

static PyObject *
RunSink_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    RunSink *self = (RunSink *)op;
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError, "a sink takes one chunk");
        return NULL;
    }
    if (self->base.slow == NULL) {
        PyErr_SetString(PyExc_TypeError, "RunSink.__init__ was not called");
        return NULL;
    }
    PyObject *chunk = args[0];
    Py_ssize_t chars = run_takes(self, chunk);
    if (chars < 0) { /* an envelope gone astray: the Python sink reports it its own way */
        PyErr_Clear();
        chars = 0;
    }
    if (chars == 0) {
        self->fresh = 0; /* Python may learn, hold or move the encoder on */
        return flush(&self->base) ? NULL : PyObject_CallOneArg(self->base.slow, chunk);
    }
    if (!self->ran) { /* what TextRuns.whole notes of a read it took */
        PyObject *done = PyObject_CallMethodNoArgs(self->reader, s_ran);
        if (done == NULL) {
            return NULL;
        }
        Py_DECREF(done);
        self->ran = 1;
    }
    PyObject *event = refilled(self, chunk);
    if (event == NULL) {
        return NULL;
    }
    self->base.taken++;
    self->base.metered += chars; /* out.output_size: the text's characters */
    PyObject *paused = send_out(&self->base, event);
    Py_DECREF(event);
    return paused;
}

static int
RunSink_traverse(RunSink *self, visitproc visit, void *arg)
{
    Py_VISIT(self->reader);
    Py_VISIT(self->encoder);
    Py_VISIT(self->head);
    Py_VISIT(self->tail);
    Py_VISIT(self->wire_head);
    Py_VISIT(self->wire_tail);
    return PassSink_traverse(&self->base, visit, arg);
}

static int
RunSink_clear(RunSink *self)
{
    Py_CLEAR(self->reader);
    Py_CLEAR(self->encoder);
    Py_CLEAR(self->head);
    Py_CLEAR(self->tail);
    Py_CLEAR(self->wire_head);
    Py_CLEAR(self->wire_tail);
    return PassSink_clear(&self->base);
}

static void
RunSink_dealloc(PyObject *self)
{
    dealloc_tracked(self, (inquiry)RunSink_clear);
}

static PyObject *
RunSink_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    RunSink *self = (RunSink *)PyType_GenericNew(type, args, kwargs);
    if (self != NULL) {
        self->base.vectorcall = RunSink_vectorcall; /* refuses until __init__ ran */
    }
    return (PyObject *)self;
}

static int
RunSink_init(RunSink *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"slow", "reader", "encoder", "out", "quiet", "now", "direct",
                               "cycle", "write", "flow", "stamp_every", NULL};
    PyObject *reader, *encoder, *parts[10] = {NULL};
    double stamp_every;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOOOOOOOOd:RunSink", keywords, &parts[0],
                                     &reader, &encoder, &parts[3], &parts[4], &parts[5],
                                     &parts[6], &parts[7], &parts[8], &parts[9], &stamp_every)) {
        return -1;
    }
    parts[2] = parts[3]; /* what it meters goes into out.output_size */
    if (init_parts(&self->base, parts, s_output_size, 0, stamp_every)) {
        return -1;
    }
    Py_XSETREF(self->reader, Py_NewRef(reader));
    Py_XSETREF(self->encoder, Py_NewRef(encoder));
    self->fresh = self->usable = self->never = self->ran = 0;
    self->base.vectorcall = RunSink_vectorcall;
    return 0;
}

static PyMemberDef RunSink_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(RunSink, base.vectorcall), READONLY, NULL},
    {"taken", T_PYSSIZET, offsetof(RunSink, base.taken), READONLY, "reads relayed here"},
    {NULL},
};

static PyType_Slot RunSink_slots[] = {
    {Py_tp_doc, "A converted stream's learned text deltas in C; every other read goes to `slow`."},
    {Py_tp_init, RunSink_init},
    {Py_tp_new, RunSink_new},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_traverse, RunSink_traverse},
    {Py_tp_clear, RunSink_clear},
    {Py_tp_dealloc, RunSink_dealloc},
    {Py_tp_members, RunSink_members},
    {Py_tp_methods, PassSink_methods},
    {0, NULL},
};

static PyType_Spec RunSink_spec = {
    .name = "octopus.relay._passsink.RunSink",
    .basicsize = sizeof(RunSink),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = RunSink_slots,
};

static void
fill_skip(void)
{
    memset(skip, USAGE_SIZE, sizeof skip);
    for (int i = 0; i < USAGE_SIZE - 1; i++) {
        skip[(unsigned char)USAGE[i]] = (unsigned char)(USAGE_SIZE - 1 - i);
    }
}

static int
exec_module(PyObject *module)
{
    static const Name names[] = {
        {&s_held, "_held"},       {&s_learning, "learning"}, {&s_envelope, "envelope"},
        {&s_framing, "framing"},  {&s_size, "size"},         {&s_capture, "capture"},
        {&s_pieces, "pieces"},    {&s_last, "last"},         {&s_head, "_head"},
        {&s_disconnected, "disconnected"}, {&s_write_paused, "write_paused"},
        {&s_output_size, "output_size"},   {&s_plain_run, "plain_run"},
        {&s_ran, "ran"},                   {&s_text_frame, "text_frame"},
    };
    fill_skip();
    return intern_names(names, sizeof names / sizeof names[0]) ||
                   add_type(module, &PassSink_spec, "PassSink") ||
                   add_type(module, &RunSink_spec, "RunSink")
               ? -1
               : 0;
}

static PyObject *
module_has_usage(PyObject *Py_UNUSED(module), PyObject *data)
{
    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "has_usage takes bytes");
        return NULL;
    }
    return PyBool_FromLong(has_usage(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data)));
}

static PyMethodDef module_methods[] = {
    {"has_usage", module_has_usage, METH_O,
     "Whether a `\"usage` other than a `\"usage\": null` placeholder is in the bytes."},
    {NULL},
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, exec_module},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "octopus.relay._passsink",
    .m_doc = "The usual reads of passthrough and converted sinks, compiled (relay/fastsink.py).",
    .m_size = 0,
    .m_methods = module_methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__passsink(void)
{
    return PyModuleDef_Init(&module_def);
}
