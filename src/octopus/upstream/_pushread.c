/* An upstream connection's reads while a sink is attached, compiled (upstream/http1.py).
 *
 * A streamed body pushed to a sink arrives, almost always, as reads that each parse to one body
 * piece, and that piece goes straight to the sink. `Http1Connection.data_received` does that in
 * a Python frame of about 60 bytecodes per read; `Receiver` is the connection's `data_received`
 * and does the same in C: stamp the silence clock, feed the parser, hand the one piece to the
 * sink. Every other read goes to the Python methods unchanged: no sink attached (the head, a
 * whole body read by the reader) to `slow`, a parse fault to `_unparsable`, no piece or several
 * to `_received`, a sink asking to pause to `_hold`. */

#include "_cpart.h"
#include <structmember.h>

static PyObject *s_sink, *s_heard_at, *s_received, *s_hold, *s_unparsable;

typedef struct {
    PyObject_HEAD
    PyObject *conn;   /* the Http1Connection */
    PyObject *pieces; /* its parser's body pieces (conn.pieces, the list on_body appends to) */
    PyObject *feed;   /* its parser's feed_data */
    PyObject *clock;  /* its loop's time */
    PyObject *slow;   /* the Python data_received */
    PyObject *fault;  /* httptools.HttpParserError */
    vectorcallfunc vectorcall;
    Py_ssize_t taken; /* reads whose piece went to the sink here */
} Receiver;

/* The parser refused the read: the connection reports it (what came before goes on). */
static PyObject *
unparsable(Receiver *self)
{
    PyObject *type, *value, *trace;
    PyErr_Fetch(&type, &value, &trace);
    PyErr_NormalizeException(&type, &value, &trace);
    if (trace != NULL) {
        PyException_SetTraceback(value, trace);
    }
    PyObject *done = PyObject_CallMethodOneArg(self->conn, s_unparsable, value);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(trace);
    return done;
}

/* The read's one piece to the sink; `_hold` when the sink asks to pause. */
static PyObject *
push(Receiver *self, PyObject *sink)
{
    PyObject *piece = Py_NewRef(PyList_GET_ITEM(self->pieces, 0));
    if (PyList_SetSlice(self->pieces, 0, 1, NULL)) {
        Py_DECREF(piece);
        return NULL;
    }
    PyObject *asked = PyObject_CallOneArg(sink, piece);
    Py_DECREF(piece);
    if (asked == NULL) {
        return NULL;
    }
    int hold = PyObject_IsTrue(asked);
    Py_DECREF(asked);
    if (hold < 0) {
        return NULL;
    }
    self->taken++;
    return hold ? PyObject_CallMethodNoArgs(self->conn, s_hold) : Py_NewRef(Py_None);
}

/* A sink is attached only while the reader waits inside an exchange, so the connection is busy
 * and its head was read (got_bytes is already set): what data_received checks first holds. */
static PyObject *
pushed_read(Receiver *self, PyObject *sink, PyObject *data)
{
    PyObject *now = PyObject_CallNoArgs(self->clock);
    if (now == NULL) {
        return NULL;
    }
    int failed = PyObject_SetAttr(self->conn, s_heard_at, now);
    Py_DECREF(now);
    if (failed) {
        return NULL;
    }
    PyObject *fed = PyObject_CallOneArg(self->feed, data);
    if (fed == NULL) {
        return PyErr_ExceptionMatches(self->fault) ? unparsable(self) : NULL;
    }
    Py_DECREF(fed);
    if (PyList_GET_SIZE(self->pieces) == 1) {
        return push(self, sink);
    }
    return PyObject_CallMethodNoArgs(self->conn, s_received);
}

static PyObject *
Receiver_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Receiver *self = (Receiver *)op;
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError, "data_received takes one bytes object");
        return NULL;
    }
    if (self->conn == NULL) {
        PyErr_SetString(PyExc_TypeError, "Receiver.__init__ was not called");
        return NULL;
    }
    PyObject *sink = PyObject_GetAttr(self->conn, s_sink);
    if (sink == NULL) {
        return NULL;
    }
    PyObject *done = sink == Py_None ? PyObject_CallOneArg(self->slow, args[0])
                                     : pushed_read(self, sink, args[0]);
    Py_DECREF(sink);
    return done;
}

static int
Receiver_traverse(Receiver *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->conn);
    Py_VISIT(self->pieces);
    Py_VISIT(self->feed);
    Py_VISIT(self->clock);
    Py_VISIT(self->slow);
    Py_VISIT(self->fault);
    return 0;
}

static int
Receiver_clear(Receiver *self)
{
    Py_CLEAR(self->conn);
    Py_CLEAR(self->pieces);
    Py_CLEAR(self->feed);
    Py_CLEAR(self->clock);
    Py_CLEAR(self->slow);
    Py_CLEAR(self->fault);
    return 0;
}

static void
Receiver_dealloc(PyObject *self)
{
    dealloc_tracked(self, (inquiry)Receiver_clear);
}

static PyObject *
Receiver_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    Receiver *self = (Receiver *)PyType_GenericNew(type, args, kwargs);
    if (self != NULL) {
        self->vectorcall = Receiver_vectorcall; /* refuses until __init__ ran */
    }
    return (PyObject *)self;
}

static int
Receiver_init(Receiver *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"conn", "pieces", "feed", "clock", "slow", "fault", NULL};
    PyObject *parts[6];
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO!OOOO:Receiver", keywords, &parts[0],
                                     &PyList_Type, &parts[1], &parts[2], &parts[3], &parts[4],
                                     &parts[5])) {
        return -1;
    }
    if (!PyCallable_Check(parts[2]) || !PyCallable_Check(parts[3]) ||
        !PyCallable_Check(parts[4])) {
        PyErr_SetString(PyExc_TypeError, "feed, clock and slow must be callable");
        return -1;
    }
    if (!PyExceptionClass_Check(parts[5])) {
        PyErr_SetString(PyExc_TypeError, "fault must be an exception class");
        return -1;
    }
    PyObject **slots[] = {&self->conn,  &self->pieces, &self->feed,
                          &self->clock, &self->slow,   &self->fault};
    for (int i = 0; i < 6; i++) {
        Py_XSETREF(*slots[i], Py_NewRef(parts[i]));
    }
    self->taken = 0;
    return 0;
}

static PyMemberDef Receiver_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(Receiver, vectorcall), READONLY, NULL},
    {"taken", T_PYSSIZET, offsetof(Receiver, taken), READONLY,
     "reads whose body piece went to the sink here"},
    {NULL},
};

static PyType_Slot Receiver_slots[] = {
    {Py_tp_doc, "A connection's data_received: pushed one-piece reads in C, the rest to Python."},
    {Py_tp_init, Receiver_init},
    {Py_tp_new, Receiver_new},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_traverse, Receiver_traverse},
    {Py_tp_clear, Receiver_clear},
    {Py_tp_dealloc, Receiver_dealloc},
    {Py_tp_members, Receiver_members},
    {0, NULL},
};

static PyType_Spec Receiver_spec = {
    .name = "octopus.upstream._pushread.Receiver",
    .basicsize = sizeof(Receiver),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = Receiver_slots,
};

static int
exec_module(PyObject *module)
{
    static const Name names[] = {
        {&s_sink, "sink"},   {&s_heard_at, "heard_at"},        {&s_received, "_received"},
        {&s_hold, "_hold"}, {&s_unparsable, "_unparsable"},
    };
    return intern_names(names, sizeof names / sizeof names[0]) ||
                   add_type(module, &Receiver_spec, "Receiver")
               ? -1
               : 0;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, exec_module},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "octopus.upstream._pushread",
    .m_doc = "An upstream connection's pushed reads, compiled (upstream/http1.py).",
    .m_size = 0,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__pushread(void)
{
    return PyModuleDef_Init(&module_def);
}
