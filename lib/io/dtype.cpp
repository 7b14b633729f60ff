// Element types.
#include "dtype.hpp"

#include <array>

#include <fmt/format.h>

namespace signcut::io {
namespace {

constexpr std::array<DtypeSpec, 11> specs{{
    {DtypeKind::float16, "float16", 2},
    {DtypeKind::float32, "float32", 4},
    {DtypeKind::float64, "float64", 8},
    {DtypeKind::int8, "int8", 1},
    {DtypeKind::int16, "int16", 2},
    {DtypeKind::int32, "int32", 4},
    {DtypeKind::int64, "int64", 8},
    {DtypeKind::uint8, "uint8", 1},
    {DtypeKind::uint16, "uint16", 2},
    {DtypeKind::uint32, "uint32", 4},
    {DtypeKind::uint64, "uint64", 8},
}};

/// binary16 as HDF5 describes it: sign bit 15, exponent bits 10..14 with
/// bias 15, mantissa bits 0..9 with an implied leading one.
bool is_ieee_half(hid_t type)
{
    std::size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
    if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0) return false;
    return H5Tget_size(type) == 2 && H5Tget_precision(type) == 16 && H5Tget_offset(type) == 0 && spos == 15 &&
           epos == 10 && esize == 5 && mpos == 0 && msize == 10 && H5Tget_ebias(type) == 15 &&
           H5Tget_norm(type) == H5T_NORM_IMPLIED;
}

}  // namespace

const DtypeSpec& dtype_spec(std::string_view name)
{
    for (const DtypeSpec& s : specs)
        if (s.name == name) return s;
    throw Error(errc::invalid_argument,
                fmt::format("unknown dtype '{}' (expected float16, float32, float64, int8, int16, int32, int64, "
                            "uint8, uint16, uint32 or uint64)",
                            name));
}

std::string dtype_of(hid_t type, const std::string& name)
{
    const H5T_class_t type_class = H5Tget_class(type);
    const std::size_t size = H5Tget_size(type);
    if (type_class == H5T_INTEGER) {
        const H5T_sign_t sign = H5Tget_sign(type);
        if (sign < 0) h5::fail(errc::bad_input, fmt::format("cannot read the integer type of {}", name));
        if (size != 1 && size != 2 && size != 4 && size != 8)
            throw Error(errc::bad_input, fmt::format("{} has a {}-byte integer type; signcut reads 1, 2, 4 and 8 bytes",
                                                     name, size));
        return fmt::format("{}int{}", sign == H5T_SGN_NONE ? "u" : "", size * 8);
    }
    if (type_class == H5T_FLOAT) {
        if (size == 2) {
            if (!is_ieee_half(type))
                throw Error(errc::bad_input,
                            fmt::format("{} has a 16-bit float type that is not IEEE binary16 (bfloat16?); not supported", name));
            return "float16";
        }
        if (size == 4) return "float32";
        if (size == 8) return "float64";
        throw Error(errc::bad_input,
                    fmt::format("{} has a {}-byte float type; signcut reads float16, float32 and float64", name, size));
    }
    if (type_class < 0) h5::fail(errc::bad_input, fmt::format("cannot read the type of {}", name));
    throw Error(errc::bad_input, fmt::format("{} holds {} values; signcut reads integer and float datasets", name,
                                             h5::class_name(type_class)));
}

h5::Datatype file_type_of(const DtypeSpec& spec)
{
    hid_t base = -1;
    switch (spec.kind) {
    case DtypeKind::float16:
    case DtypeKind::float32: base = H5T_IEEE_F32LE; break;
    case DtypeKind::float64: base = H5T_IEEE_F64LE; break;
    case DtypeKind::int8: base = H5T_STD_I8LE; break;
    case DtypeKind::int16: base = H5T_STD_I16LE; break;
    case DtypeKind::int32: base = H5T_STD_I32LE; break;
    case DtypeKind::int64: base = H5T_STD_I64LE; break;
    case DtypeKind::uint8: base = H5T_STD_U8LE; break;
    case DtypeKind::uint16: base = H5T_STD_U16LE; break;
    case DtypeKind::uint32: base = H5T_STD_U32LE; break;
    case DtypeKind::uint64: base = H5T_STD_U64LE; break;
    }
    h5::Datatype type(h5::check(H5Tcopy(base), errc::io, "cannot create an HDF5 type"));
    if (spec.kind == DtypeKind::float16) {
        // Narrow a binary32 description to binary16. The fields must shrink
        // before the size, and the bias follows the new exponent width.
        const bool ok = H5Tset_fields(type.get(), 15, 10, 5, 0, 10) >= 0 && H5Tset_size(type.get(), 2) >= 0 &&
                        H5Tset_ebias(type.get(), 15) >= 0;
        if (!ok) h5::fail(errc::io, "cannot create the HDF5 float16 type");
    }
    return type;
}

}  // namespace signcut::io
