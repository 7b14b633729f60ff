// numpy arrays in and out of the library without hidden copies.
//
// In: the Python layer hands over a C-ordered float32 or float64 array
// (converting anything else once); it is viewed in place, never copied
// here. Out: a reconstruction's buffer is handed to numpy as it is, owned
// by a capsule, so returning it costs no copy either.
#pragma once

#include <bit>
#include <cstdint>
#include <string>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "signcut/error.hpp"
#include "signcut/tensor.hpp"

namespace signcut::python {

namespace py = pybind11;

/// The element type of an array the library may view.
enum class ViewedType { float32, float64 };

/// What `array` holds, if the library can view it in place: native-endian
/// float32 or float64 in C order. Anything else is a caller's bug (the
/// Python layer converts first), refused with errc::invalid_argument.
inline ViewedType viewable_type(const py::array& array)
{
    const py::dtype dt = array.dtype();
    const bool native = dt.byteorder() == '=' || dt.byteorder() == '|' ||
                        (dt.byteorder() == '<') == (std::endian::native == std::endian::little);
    if (!(array.flags() & py::array::c_style) || dt.kind() != 'f' || !native ||
        (dt.itemsize() != 4 && dt.itemsize() != 8))
        throw Error(errc::invalid_argument, "expected a C-ordered native float32 or float64 array");
    return dt.itemsize() == 4 ? ViewedType::float32 : ViewedType::float64;
}

inline Shape shape_of(const py::array& array)
{
    Shape s(static_cast<std::size_t>(array.ndim()));
    for (std::size_t a = 0; a < s.size(); ++a) s[a] = static_cast<std::size_t>(array.shape(static_cast<py::ssize_t>(a)));
    return s;
}

template <class T>
TensorView<T> view_of(const py::array& array)
{
    return TensorView<T>{static_cast<const T*>(array.data()), shape_of(array)};
}

/// Hands `tensor`'s buffer to numpy (C order, its shape). Needs the GIL.
inline py::array_t<float> to_numpy(Tensor&& tensor)
{
    auto* owner = new Tensor(std::move(tensor));
    py::capsule release(owner, [](void* p) { delete static_cast<Tensor*>(p); });
    std::vector<py::ssize_t> shape(owner->shape().begin(), owner->shape().end());
    return py::array_t<float>(shape, owner->data(), release);
}

}  // namespace signcut::python
