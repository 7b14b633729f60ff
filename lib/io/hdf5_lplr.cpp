// Decomposition files of method "lplr" (docs/FORMAT.md): two quantized
// factors of a matricization, as packed codes and float32 scales.
#include <algorithm>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "atomic_output.hpp"
#include "decomposition_file.hpp"
#include "dtype.hpp"
#include "hdf5_handle.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"

namespace signcut {
namespace {

using io::AttributeReader;
using io::group_path;

/// The four arrays, in the order a reader meets them.
struct FactorArrays {
    const char* codes;
    const char* scales;
};
constexpr FactorArrays left_arrays{"l_codes", "l_scales"};
constexpr FactorArrays right_arrays{"r_codes", "r_scales"};

std::string item(const char* name) { return fmt::format("{}/{}", group_path, name); }

void write_factor(hid_t group, const std::string& shown, const FactorArrays& names, const QuantizedMatrix& q)
{
    const hsize_t groups = q.groups();
    io::write_array(group, names.codes, H5T_STD_U64LE, H5T_NATIVE_UINT64, {groups, q.words_per_group()},
                    q.words().data(), shown);
    io::write_array(group, names.scales, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {groups}, q.scales().data(), shown);
}

/// The dimensions and element type of a dataset that must exist.
void check_array(hid_t file, const std::string& path, const char* name, H5T_class_t type_class, std::size_t type_size,
                 const std::vector<hsize_t>& expected)
{
    const std::string full = item(name);
    io::require_object(file, path, full, H5I_DATASET);
    const io::ArrayMeta meta = io::array_meta(file, path, full);
    const bool unsigned_ok = meta.type_class != H5T_INTEGER || meta.sign == H5T_SGN_NONE;
    if (meta.type_class != type_class || meta.type_size != type_size || !unsigned_ok)
        throw Error(errc::bad_input, fmt::format("{}: {} holds {}-byte {} values, expected {}", path, full,
                                                 meta.type_size, h5::class_name(meta.type_class),
                                                 type_class == H5T_FLOAT ? "float32" : "uint64 words"));
    if (meta.dims != expected)
        throw Error(errc::bad_input,
                    fmt::format("{}: {} has shape {}, expected {}", path, full,
                                meta.dims.empty() ? std::string("scalar") : fmt::format("{}", fmt::join(meta.dims, "x")),
                                fmt::join(expected, "x")));
}

LplrFileInfo read_info(hid_t file, const std::string& path)
{
    io::CommonAttributes common = io::read_common(file, path);
    if (common.method != "lplr")
        throw Error(errc::bad_input, fmt::format("{} holds a {} decomposition, not an lplr one", path, common.method));
    const AttributeReader attrs(common.group.get(), path, group_path);

    LplrFileInfo info;
    info.shape = std::move(common.shape);
    info.provenance = std::move(common.provenance);
    info.rank = common.width;
    if (info.rank == 0)
        throw Error(errc::bad_input, fmt::format("{}: {} is 0; an lplr file has rank >= 1", path, attrs.path("width")));
    const std::string split = attrs.string("matricize");
    try {
        info.matricization = Matricization::parse(split, info.shape.size());
    } catch (const Error& e) {
        throw Error(errc::bad_input, fmt::format("{}: {} is invalid: {}", path, attrs.path("matricize"), e.what()));
    }
    for (const auto& [name, bits] : {std::pair{"bits_l", &info.bits_l}, std::pair{"bits_r", &info.bits_r}}) {
        const std::uint64_t b = attrs.unsigned_integer(name);
        if (b < min_quantizer_bits || b > max_quantizer_bits)
            throw Error(errc::bad_input, fmt::format("{}: {} is {}, expected {}..{}", path, attrs.path(name), b,
                                                     min_quantizer_bits, max_quantizer_bits));
        *bits = static_cast<unsigned>(b);
    }

    const std::size_t n = info.matricization.rows(info.shape), d = info.matricization.cols(info.shape);
    // Bit offsets within a packed row must fit in 64 bits.
    if (n > (UINT64_MAX >> 5) || d > (UINT64_MAX >> 5))
        throw Error(errc::limit, fmt::format("{}: a {}x{} matricization is too large to hold packed codes", path, n, d));
    const hsize_t m = info.rank;
    check_array(file, path, left_arrays.codes, H5T_INTEGER, 8, {m, code_words(n, info.bits_l)});
    check_array(file, path, left_arrays.scales, H5T_FLOAT, 4, {m});
    check_array(file, path, right_arrays.codes, H5T_INTEGER, 8, {m, code_words(d, info.bits_r)});
    check_array(file, path, right_arrays.scales, H5T_FLOAT, 4, {m});
    return info;
}

/// Bytes the arrays and the reconstruction take (UINT64_MAX if beyond).
std::uint64_t bytes_needed(const LplrFileInfo& info)
{
    const std::size_t n = info.matricization.rows(info.shape), d = info.matricization.cols(info.shape);
    unsigned __int128 bytes = static_cast<unsigned __int128>(element_count(info.shape)) * sizeof(float);
    // Codes and scales, then the dequantized factors the product needs.
    bytes += static_cast<unsigned __int128>(info.rank) * (code_words(n, info.bits_l) + code_words(d, info.bits_r)) * 8;
    bytes += static_cast<unsigned __int128>(info.rank) * (n + d + 2) * sizeof(float);
    // A split other than rows-then-columns needs the product before it is
    // put back in the tensor's order.
    if (!info.matricization.is_contiguous())
        bytes += static_cast<unsigned __int128>(element_count(info.shape)) * sizeof(float);
    return bytes > UINT64_MAX ? UINT64_MAX : static_cast<std::uint64_t>(bytes);
}

QuantizedMatrix read_factor(hid_t file, const std::string& path, const FactorArrays& names, std::size_t rows,
                            std::size_t cols, unsigned bits, ScaleAxis axis)
{
    const std::size_t groups = axis == ScaleAxis::column ? cols : rows;
    const std::size_t length = axis == ScaleAxis::column ? rows : cols;
    std::vector<std::uint64_t> words(groups * code_words(length, bits));
    std::vector<float> scales(groups);
    const auto read = [&](const char* name, hid_t memory_type, void* data) {
        h5::Dataset d(H5Dopen2(file, item(name).c_str(), H5P_DEFAULT));
        if (!d || H5Dread(d.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
            h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, item(name)));
    };
    read(names.codes, H5T_NATIVE_UINT64, words.data());
    read(names.scales, H5T_NATIVE_FLOAT, scales.data());
    try {
        return QuantizedMatrix(rows, cols, bits, axis, std::move(scales), std::move(words));
    } catch (const Error& e) {
        throw Error(errc::bad_input, fmt::format("{}: {} and {}: {}", path, item(names.codes), item(names.scales), e.what()));
    }
}

}  // namespace

double LplrFileInfo::bits_per_value() const
{
    if (shape.empty()) return 0.0;
    return lplr_bits_per_value(matricization.rows(shape), matricization.cols(shape), rank, bits_l, bits_r);
}

std::string read_decomposition_method(const std::string& path)
{
    h5::QuietErrors quiet;
    h5::File file = h5::open_read_only(path);
    return io::read_method(file.get(), path);
}

void write_lplr(const std::string& path, const LplrDecomposition& decomposition, const Provenance& provenance,
                bool force)
{
    if (decomposition.shape().empty())
        throw Error(errc::invalid_argument, fmt::format("cannot write {}: the decomposition is empty (order 0)", path));
    (void)io::dtype_spec(provenance.original_dtype);
    const Shape& shape = decomposition.shape();

    h5::QuietErrors quiet;
    io::AtomicOutput output(path, force);
    {
        h5::File file = h5::create_file(output.temporary_path(), path);
        h5::Group group = io::write_common(file.get(), path, "lplr", shape, decomposition.rank(), provenance);
        io::AttributeWriter w(group.get(), path);
        w.string("matricize", decomposition.matricization().to_string());
        w.u8("bits_l", static_cast<std::uint8_t>(decomposition.bits_l()));
        w.u8("bits_r", static_cast<std::uint8_t>(decomposition.bits_r()));
        write_factor(group.get(), path, left_arrays, decomposition.left());
        write_factor(group.get(), path, right_arrays, decomposition.right());
        group.reset();
        if (!file.close()) h5::fail(errc::io, fmt::format("cannot write {}", path));
    }
    output.commit();
}

LplrFileInfo read_lplr_info(const std::string& path)
{
    h5::QuietErrors quiet;
    h5::File file = h5::open_read_only(path);
    return read_info(file.get(), path);
}

LplrDecomposition read_lplr(const std::string& path, std::uint64_t max_bytes, LplrFileInfo* info_out)
{
    h5::QuietErrors quiet;
    h5::File file = h5::open_read_only(path);
    LplrFileInfo info = read_info(file.get(), path);
    const std::uint64_t needed = bytes_needed(info);
    // A saturated count stands for sizes that cannot even be allocated.
    if (needed > max_bytes || needed == UINT64_MAX)
        throw Error(errc::limit,
                    fmt::format("{} holds a {} lplr decomposition of rank {}: reading and reconstructing it needs {} "
                                "bytes, more than the memory limit of {} bytes",
                                path, format_shape(info.shape), info.rank,
                                needed == UINT64_MAX ? std::string("over 2^64") : std::to_string(needed), max_bytes));
    const std::size_t n = info.matricization.rows(info.shape), d = info.matricization.cols(info.shape);
    const std::size_t m = static_cast<std::size_t>(info.rank);
    try {
        QuantizedMatrix left = read_factor(file.get(), path, left_arrays, n, m, info.bits_l, ScaleAxis::column);
        QuantizedMatrix right = read_factor(file.get(), path, right_arrays, m, d, info.bits_r, ScaleAxis::row);
        LplrDecomposition decomposition(info.shape, info.matricization, std::move(left), std::move(right));
        if (info_out != nullptr) *info_out = std::move(info);
        return decomposition;
    } catch (const std::bad_alloc&) {
        throw Error(errc::limit, fmt::format("{}: cannot allocate the {} bytes its arrays need", path, needed));
    }
}

}  // namespace signcut
