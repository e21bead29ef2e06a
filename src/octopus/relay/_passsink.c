/* The passthrough sink's usual read, compiled: relay/fastsink.py says what it stands for.
 *
 * A paced same-protocol stream hands the sink one whole event per upstream read. In Python,
 * cutting, metering, capturing and framing it took three frames and as many C calls as lines;
 * here one call does the same for the read shape that needs no parsing (one event of one or two
 * lines, nothing held, no usage object, metering calibrated, the response head gone, the client
 * still there), and hands every other read to the Python sink (`slow`) untouched. Before the
 * first store it only reads, so a read it declines costs the Python path nothing. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <string.h>
#include <time.h>

static PyObject *s_held, *s_learning, *s_envelope, *s_framing, *s_size, *s_capture, *s_pieces,
    *s_last, *s_head, *s_disconnected, *s_write_paused;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *slow;   /* the Python sink: every read this one declines */
    PyObject *cutter; /* relay.streaming._Metered: _held */
    PyObject *meter;  /* relay.metering.TextMeter: learning, envelope, framing, size */
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

/* 1 when this sink may take `chunk` itself, 0 when the Python sink must, -1 on an error. */
static int
takes(PassSink *self, PyObject *chunk)
{
    if (!PyBytes_CheckExact(chunk)) {
        return 0;
    }
    const char *data = PyBytes_AS_STRING(chunk);
    Py_ssize_t size = PyBytes_GET_SIZE(chunk);
    if (size > self->limit || !one_event(data, size)) {
        return 0;
    }
    if (has_usage(data, size)) { /* the usage tap parses this one */
        return 0;
    }
    if (!self->calibrated && settle(self) <= 0) {
        return PyErr_Occurred() ? -1 : 0;
    }
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
    if (metered != 0 && add_to(self->meter, s_size, metered)) {
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

/* The taken read: metered, kept, stamped and written; the flow's write_paused (True: hold). */
static PyObject *
relay(PassSink *self, PyObject *chunk)
{
    long long extra = (long long)PyBytes_GET_SIZE(chunk) - self->envelope;
    if (extra > 0) { /* the event's bytes beyond one envelope: its text, estimated */
        self->metered += extra;
    }
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
    int mine = takes(self, chunk);
    if (mine < 0) { /* an attribute gone astray: the Python sink reports it its own way */
        PyErr_Clear();
        mine = 0;
    }
    if (!mine) {
        return flush(self) ? NULL : PyObject_CallOneArg(self->slow, chunk);
    }
    self->taken++;
    return relay(self, chunk);
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
PassSink_dealloc(PassSink *self)
{
    PyTypeObject *type = Py_TYPE(self); /* a heap type: each instance holds a reference to it */
    PyObject_GC_UnTrack(self);
    PassSink_clear(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
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
                                     &stamp_every)) {
        return -1;
    }
    if (!PyCallable_Check(parts[0]) || !PyCallable_Check(parts[5]) ||
        !PyCallable_Check(parts[8])) {
        PyErr_SetString(PyExc_TypeError, "slow, now and write must be callable");
        return -1;
    }
    PyObject **slots[] = {&self->slow,  &self->cutter, &self->meter, &self->out,
                          &self->quiet, &self->now,    &self->direct, &self->cycle,
                          &self->write, &self->flow};
    for (int i = 0; i < 10; i++) {
        Py_XSETREF(*slots[i], Py_NewRef(parts[i]));
    }
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

static int
add_type(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &PassSink_spec, NULL);
    if (type == NULL) {
        return -1;
    }
    int failed = PyModule_AddObjectRef(module, "PassSink", type);
    Py_DECREF(type);
    return failed;
}

static int
intern_names(void)
{
    struct {
        PyObject **slot;
        const char *text;
    } names[] = {
        {&s_held, "_held"},       {&s_learning, "learning"}, {&s_envelope, "envelope"},
        {&s_framing, "framing"},  {&s_size, "size"},         {&s_capture, "capture"},
        {&s_pieces, "pieces"},    {&s_last, "last"},         {&s_head, "_head"},
        {&s_disconnected, "disconnected"}, {&s_write_paused, "write_paused"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (*names[i].slot == NULL) {
            *names[i].slot = PyUnicode_InternFromString(names[i].text);
            if (*names[i].slot == NULL) {
                return -1;
            }
        }
    }
    return 0;
}

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
    fill_skip();
    return intern_names() || add_type(module) ? -1 : 0;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, exec_module},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "octopus.relay._passsink",
    .m_doc = "The passthrough sink's usual read, compiled (see relay/fastsink.py).",
    .m_size = 0,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__passsink(void)
{
    return PyModuleDef_Init(&module_def);
}
