// A dataset's values read as float32, and the refusals of what float32
// cannot hold.
#include "float32_conversion.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "float16.hpp"
#include "signcut/error.hpp"

namespace signcut::io {
namespace {

/// Counts finite float64 values that do not fit in float32 while HDF5
/// converts them (HDF5 would store ±Inf without complaint). HDF5 raises the
/// same range exceptions for infinite sources, which are not out of range
/// but simply infinite: those are left to the NaN/Inf count.
H5T_conv_ret_t count_out_of_range(H5T_conv_except_t kind, hid_t source_type, hid_t, void* source, void*, void* data)
{
    if (kind != H5T_CONV_EXCEPT_RANGE_HI && kind != H5T_CONV_EXCEPT_RANGE_LOW) return H5T_CONV_UNHANDLED;
    if (source != nullptr && H5Tget_class(source_type) == H5T_FLOAT && H5Tget_size(source_type) == sizeof(double)) {
        unsigned char bytes[sizeof(double)];
        std::memcpy(bytes, source, sizeof bytes);
        if (H5Tget_order(source_type) != H5Tget_order(H5T_NATIVE_DOUBLE)) std::reverse(bytes, bytes + sizeof bytes);
        double value;
        std::memcpy(&value, bytes, sizeof value);
        if (std::isinf(value)) return H5T_CONV_UNHANDLED;
    }
    ++*static_cast<std::uint64_t*>(data);
    return H5T_CONV_UNHANDLED;
}

/// Reads IEEE binary16 values into `out` (count floats): the raw halves are
/// read into the first half of the float buffer and widened in place, from
/// the back, so no second buffer is needed. Widening element i writes bytes
/// [4i, 4i+4), which only hold halves i' >= i, already converted.
void read_float16(hid_t dataset, hid_t memory_space, hid_t file_space, float* out, std::uint64_t count,
                  const std::string& what)
{
    h5::Datatype file_type(H5Dget_type(dataset));
    h5::Datatype memory_type(H5Tcopy(file_type.get()));
    if (!memory_type) h5::fail(errc::io, fmt::format("cannot read {}", what));
    h5::check_status(H5Tset_order(memory_type.get(), H5Tget_order(H5T_NATIVE_USHORT)), errc::io,
                     fmt::format("cannot read {}", what));
    if (H5Dread(dataset, memory_type.get(), memory_space, file_space, H5P_DEFAULT, out) < 0)
        h5::fail(errc::bad_input, fmt::format("cannot read {}", what));
    auto* bytes = reinterpret_cast<unsigned char*>(out);
    for (std::uint64_t i = count; i-- > 0;) {
        std::uint16_t half;
        std::memcpy(&half, bytes + 2 * i, sizeof half);
        const float value = half_to_float(half);
        std::memcpy(bytes + 4 * i, &value, sizeof value);
    }
}

}  // namespace

std::uint64_t read_as_float32(hid_t dataset, const std::string& dtype, hid_t memory_space, hid_t file_space,
                              float* out, std::uint64_t count, const std::string& what)
{
    if (dtype == "float16") {
        read_float16(dataset, memory_space, file_space, out, count, what);
        return 0;
    }
    h5::PropList dxpl(h5::check(H5Pcreate(H5P_DATASET_XFER), errc::io, "cannot create HDF5 transfer properties"));
    std::uint64_t out_of_range = 0;
    h5::check_status(H5Pset_type_conv_cb(dxpl.get(), count_out_of_range, &out_of_range), errc::io,
                     "cannot set an HDF5 conversion callback");
    if (H5Dread(dataset, H5T_NATIVE_FLOAT, memory_space, file_space, dxpl.get(), out) < 0)
        h5::fail(errc::bad_input, fmt::format("cannot read {}", what));
    return out_of_range;
}

void refuse_beyond_float32(const std::string& name, std::uint64_t count, const std::string& dtype)
{
    throw Error(errc::bad_input,
                fmt::format("{} holds {} {} values beyond the float32 range (|x| > {:.8g}); signcut works in float32",
                            name, count, dtype, std::numeric_limits<float>::max()));
}

void refuse_non_finite(const std::string& name, std::uint64_t nans, std::uint64_t infs)
{
    throw Error(errc::bad_input,
                fmt::format("{} contains {} NaN and {} Inf values; signcut needs finite data", name, nans, infs));
}

}  // namespace signcut::io
