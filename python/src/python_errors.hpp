// The library's errors as Python exceptions.
//
// signcut::Error carries a category (errc); Python callers expect the
// built-in exception that matches it: ValueError for a bad argument or bad
// data, OSError for a file that cannot be read or written, MemoryError for
// a limit, KeyboardInterrupt for a cancelled call. The message is the
// library's one line, unchanged.
#pragma once

#include <new>

#include <pybind11/pybind11.h>

#include "signcut/error.hpp"

namespace signcut::python {

inline PyObject* python_exception_for(errc code)
{
    switch (code) {
    case errc::io: return PyExc_OSError;
    case errc::limit: return PyExc_MemoryError;
    case errc::cancelled: return PyExc_KeyboardInterrupt;
    case errc::invalid_argument:
    case errc::bad_input:
    case errc::unsupported: break;
    }
    return PyExc_ValueError;
}

inline void register_error_translation()
{
    pybind11::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const Error& e) {
            PyErr_SetString(python_exception_for(e.code()), e.what());
        }
    });
}

/// Runs `f`; a file that is not what it claims to be (bad_input,
/// unsupported) is reported as OSError, as h5py reports a corrupt file.
template <class F>
auto as_file_error(F&& f)
{
    try {
        return f();
    } catch (const Error& e) {
        if (e.code() == errc::bad_input || e.code() == errc::unsupported) throw Error(errc::io, e.what());
        throw;
    }
}

}  // namespace signcut::python
