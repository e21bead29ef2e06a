/* What the compiled parts share (relay/_passsink.c, upstream/_pushread.c): attribute names
 * interned once, a heap type added to its module, a GC-tracked instance's dealloc. */

#ifndef OCTOPUS_CPART_H
#define OCTOPUS_CPART_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    PyObject **slot;
    const char *text;
} Name;

/* Each name's interned string into its slot (once: a module executed again keeps them). */
static inline int
intern_names(const Name *names, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (*names[i].slot == NULL) {
            *names[i].slot = PyUnicode_InternFromString(names[i].text);
            if (*names[i].slot == NULL) {
                return -1;
            }
        }
    }
    return 0;
}

static inline int
add_type(PyObject *module, PyType_Spec *spec, const char *name)
{
    PyObject *type = PyType_FromModuleAndSpec(module, spec, NULL);
    if (type == NULL) {
        return -1;
    }
    int failed = PyModule_AddObjectRef(module, name, type);
    Py_DECREF(type);
    return failed;
}

/* A heap type's instance: each holds a reference to its type, let go of last. */
static inline void
dealloc_tracked(PyObject *self, inquiry clear)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    clear(self);
    type->tp_free(self);
    Py_DECREF(type);
}

#endif
