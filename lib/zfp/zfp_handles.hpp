// Internal: owning handles for libzfp's C objects and the field description
// both zfp users (the baseline and the block codec) need, so that every
// stream, bit stream and field is released on every path, exceptions
// included.
#pragma once

#include <zfp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "signcut/error.hpp"

namespace signcut::detail {

struct ZfpStreamCloser {
    void operator()(zfp_stream* s) const noexcept { zfp_stream_close(s); }
};
struct BitstreamCloser {
    void operator()(bitstream* s) const noexcept { stream_close(s); }
};
struct ZfpFieldCloser {
    void operator()(zfp_field* f) const noexcept { zfp_field_free(f); }
};
using ZfpStreamHandle = std::unique_ptr<zfp_stream, ZfpStreamCloser>;
using BitstreamHandle = std::unique_ptr<bitstream, BitstreamCloser>;
using ZfpFieldHandle = std::unique_ptr<zfp_field, ZfpFieldCloser>;

/// A zfp stream with zfp's default (serial) execution and no bit stream yet.
inline ZfpStreamHandle open_zfp_stream()
{
    ZfpStreamHandle s(zfp_stream_open(nullptr));
    if (!s) throw Error(errc::io, "zfp could not open a stream");
    return s;
}

/// A bit stream over `bytes` bytes at `buffer`, which must be aligned for
/// zfp's stream words (a std::uint64_t buffer is) and outlive the handle.
inline BitstreamHandle open_bitstream(void* buffer, std::size_t bytes)
{
    BitstreamHandle b(stream_open(buffer, bytes));
    if (!b) throw Error(errc::io, "zfp could not open a bit stream");
    return b;
}

/// An empty field of zfp's own (for zfp_read_header to fill).
inline ZfpFieldHandle alloc_zfp_field()
{
    ZfpFieldHandle f(zfp_field_alloc());
    if (!f) throw Error(errc::io, "zfp could not allocate a field");
    return f;
}

/// A float32 field over `data` of sizes `dims` (nx first: x varies fastest;
/// one to four of them). `strides`, if given, are one per dimension, in
/// values; otherwise the array is contiguous.
inline ZfpFieldHandle make_field(float* data, std::span<const std::size_t> dims,
                                 std::span<const std::ptrdiff_t> strides = {})
{
    zfp_field* f = nullptr;
    switch (dims.size()) {
    case 1: f = zfp_field_1d(data, zfp_type_float, dims[0]); break;
    case 2: f = zfp_field_2d(data, zfp_type_float, dims[0], dims[1]); break;
    case 3: f = zfp_field_3d(data, zfp_type_float, dims[0], dims[1], dims[2]); break;
    case 4: f = zfp_field_4d(data, zfp_type_float, dims[0], dims[1], dims[2], dims[3]); break;
    default: break;
    }
    if (f == nullptr) throw Error(errc::io, "zfp could not describe the array");
    ZfpFieldHandle field(f);
    if (!strides.empty()) {
        switch (dims.size()) {
        case 1: zfp_field_set_stride_1d(f, strides[0]); break;
        case 2: zfp_field_set_stride_2d(f, strides[0], strides[1]); break;
        case 3: zfp_field_set_stride_3d(f, strides[0], strides[1], strides[2]); break;
        default: zfp_field_set_stride_4d(f, strides[0], strides[1], strides[2], strides[3]); break;
        }
    }
    return field;
}

}  // namespace signcut::detail
