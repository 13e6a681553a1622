/*
 * leaky_ext — the bug pyleaks must name "held by C code": an extension
 * function that takes a new reference to its argument and stores it
 * nowhere (a forgotten Py_DECREF).  The object stays alive with one
 * reference that no Python object explains.
 *
 * Compiled by the tests at test time against the headers of the
 * interpreter under test (tests/chain_harness.py), loaded by
 * targets/chain_target.py.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *leak(PyObject *self, PyObject *obj) {
  (void)self;
  Py_INCREF(obj); /* the bug: never released, stored nowhere */
  Py_RETURN_NONE;
}

static PyMethodDef leaky_methods[] = {
    {"leak", leak, METH_O, "Take a reference to obj and never release it."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef leaky_module = {
    PyModuleDef_HEAD_INIT,
    "leaky_ext",
    "An extension that forgets Py_DECREF.",
    -1,
    leaky_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit_leaky_ext(void) { return PyModule_Create(&leaky_module); }
