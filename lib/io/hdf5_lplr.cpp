// Decomposition files of method "lplr" (docs/FORMAT.md): two quantized
// factors of a matricization, as packed codes and float32 scales. Version 2
// keeps version 1's datasets and attributes; its code arrays are 1-D
// (groups × words per group words, group after group, exactly version 1's
// rows one after the other), so that they are chunked like every other
// version-2 dataset and their stored size is stored_dataset_bytes().
#include <algorithm>
#include <cmath>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "atomic_output.hpp"
#include "decomposition_file.hpp"
#include "hdf5_output.hpp"
#include "object_writers.hpp"
#include "decomposition_methods.hpp"
#include "dtype.hpp"
#include "hdf5_handle.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"

namespace signcut {
namespace {

using io::AttributeReader;
using io::item_path;
using io::object_name;

/// The two arrays of one factor.
struct FactorArrays {
    const char* codes;
    const char* scales;
};
constexpr FactorArrays left_arrays{"l_codes", "l_scales"};
constexpr FactorArrays right_arrays{"r_codes", "r_scales"};

void write_factor(hid_t group, const std::string& shown, const FactorArrays& names, const QuantizedMatrix& q)
{
    const std::uint64_t groups = q.groups();
    io::write_vector(group, names.codes, H5T_STD_U64LE, H5T_NATIVE_UINT64, groups * q.words_per_group(), 8,
                     q.words().data(), shown);
    io::write_vector(group, names.scales, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, groups, 4, q.scales().data(), shown);
}

/// Version 1: the dimensions and element type of a dataset that must exist.
std::uint64_t check_v1_array(hid_t file, const std::string& path, const char* name, H5T_class_t type_class,
                             std::size_t type_size, const std::vector<hsize_t>& expected)
{
    const std::string full = item_path(file, name);
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
    return meta.storage_bytes;
}

/// Bytes the arrays and the reconstruction take (UINT64_MAX if beyond).
std::uint64_t bytes_needed(const DecompositionInfo& info, const Region* region)
{
    using u128 = unsigned __int128;
    const std::size_t n = info.matricization.rows(info.shape), d = info.matricization.cols(info.shape);
    io::SaturatingCount bytes(u128{element_count(info.shape)} * sizeof(float));
    // A region is cut from the full reconstruction.
    if (region != nullptr) bytes += u128{io::region_elements(*region)} * sizeof(float);
    // Codes and scales, then the dequantized factors the product needs.
    using io::SaturatingCount;
    bytes += SaturatingCount::product(
        SaturatingCount::product(info.width, u128{code_words(n, info.bits_l)} + code_words(d, info.bits_r)), 8);
    bytes += SaturatingCount::product(SaturatingCount::product(info.width, u128{n} + d + 2), sizeof(float));
    // A split other than rows-then-columns needs the product before it is
    // put back in the tensor's order.
    if (!info.matricization.is_contiguous()) bytes += u128{element_count(info.shape)} * sizeof(float);
    return bytes.clamped();
}

QuantizedMatrix read_factor(hid_t file, const std::string& path, const FactorArrays& names, std::size_t rows,
                            std::size_t cols, unsigned bits, ScaleAxis axis)
{
    const std::size_t groups = axis == ScaleAxis::column ? cols : rows;
    const std::size_t length = axis == ScaleAxis::column ? rows : cols;
    std::vector<std::uint64_t> words(groups * code_words(length, bits));
    std::vector<float> scales(groups);
    const auto read = [&](const char* name, hid_t memory_type, void* data) {
        h5::Dataset d(H5Dopen2(file, item_path(file, name).c_str(), H5P_DEFAULT));
        if (!d || H5Dread(d.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
            h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, item_path(file, name)));
    };
    read(names.codes, H5T_NATIVE_UINT64, words.data());
    read(names.scales, H5T_NATIVE_FLOAT, scales.data());
    try {
        return QuantizedMatrix(rows, cols, bits, axis, std::move(scales), std::move(words));
    } catch (const Error& e) {
        throw Error(errc::bad_input,
                    fmt::format("{}: {} and {}: {}", path, item_path(file, names.codes), item_path(file, names.scales),
                                e.what()));
    }
}

}  // namespace

namespace io {

void read_lplr_info(hid_t file, const std::string& path, CommonAttributes& common, DecompositionInfo& info)
{
    const AttributeReader attrs(common.group.get(), path, object_name(common.group.get()), common.version);
    // Version 3 adds the codec record of sct blocks; lplr has no blocks.
    if (common.version > format_version)
        throw Error(errc::bad_input,
                    fmt::format("{} has format_version {} and method lplr: format version {} holds sct "
                                "decompositions only (lplr files are format version {})",
                                path, common.version, common.version, format_version));
    if (common.version >= 2) {
        refuse_unknown_items(common.group.get(), path, "lplr", {"matricize", "bits_l", "bits_r"},
                             {left_arrays.codes, left_arrays.scales, right_arrays.codes, right_arrays.scales});
    }
    if (info.width == 0)
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
    const std::uint64_t m = info.width;
    const std::uint64_t left_words = code_words(n, info.bits_l), right_words = code_words(d, info.bits_r);
    if (common.version == 1) {
        info.payload_bytes = check_v1_array(file, path, left_arrays.codes, H5T_INTEGER, 8, {m, left_words}) +
                             check_v1_array(file, path, left_arrays.scales, H5T_FLOAT, 4, {m}) +
                             check_v1_array(file, path, right_arrays.codes, H5T_INTEGER, 8, {m, right_words}) +
                             check_v1_array(file, path, right_arrays.scales, H5T_FLOAT, 4, {m});
        return;
    }
    const auto words = [&](std::uint64_t per_group) -> std::uint64_t {
        const unsigned __int128 total = static_cast<unsigned __int128>(m) * per_group;
        if (total > UINT64_MAX)
            throw Error(errc::bad_input, fmt::format("{}: a rank of {} needs more than 2^64 code words", path, m));
        return static_cast<std::uint64_t>(total);
    };
    info.payload_bytes =
        require_vector(file, path, item_path(file, left_arrays.codes), H5T_INTEGER, 8, "uint64", words(left_words))
            .storage_bytes +
        require_vector(file, path, item_path(file, left_arrays.scales), H5T_FLOAT, 4, "float32", m).storage_bytes +
        require_vector(file, path, item_path(file, right_arrays.codes), H5T_INTEGER, 8, "uint64", words(right_words))
            .storage_bytes +
        require_vector(file, path, item_path(file, right_arrays.scales), H5T_FLOAT, 4, "float32", m).storage_bytes;
}

LplrDecomposition read_lplr_arrays(hid_t file, const std::string& path, const DecompositionInfo& info,
                                   std::uint64_t max_bytes, const Region* region)
{
    if (region != nullptr) check_region(*region, info.shape);
    check_memory(path, fmt::format("a {} lplr decomposition of rank {}", format_shape(info.shape), info.width),
                 bytes_needed(info, region), max_bytes);
    const std::size_t n = info.matricization.rows(info.shape), d = info.matricization.cols(info.shape);
    const std::size_t m = static_cast<std::size_t>(info.width);
    QuantizedMatrix left = read_factor(file, path, left_arrays, n, m, info.bits_l, ScaleAxis::column);
    QuantizedMatrix right = read_factor(file, path, right_arrays, m, d, info.bits_r, ScaleAxis::row);
    return LplrDecomposition(info.shape, info.matricization, std::move(left), std::move(right));
}

}  // namespace io

namespace io {

void write_lplr_into(hid_t root, const std::string& path, const LplrDecomposition& decomposition, const Provenance& provenance)
{
    if (decomposition.shape().empty())
        throw Error(errc::invalid_argument, fmt::format("cannot write {}: the decomposition is empty (order 0)", path));
    if (decomposition.rank() == 0)
        throw Error(errc::invalid_argument, fmt::format("cannot write {}: an lplr decomposition needs rank >= 1", path));
    (void)io::dtype_spec(provenance.original_dtype);
    const Shape& shape = decomposition.shape();

    h5::Group group = io::write_common(root, path, "lplr", shape, decomposition.rank(), provenance);
    io::AttributeWriter w(group.get(), path);
    w.string("matricize", decomposition.matricization().to_string());
    w.u8("bits_l", static_cast<std::uint8_t>(decomposition.bits_l()));
    w.u8("bits_r", static_cast<std::uint8_t>(decomposition.bits_r()));
    write_factor(group.get(), path, left_arrays, decomposition.left());
    write_factor(group.get(), path, right_arrays, decomposition.right());
}

}  // namespace io

void write_lplr(const std::string& path, const LplrDecomposition& decomposition, const Provenance& provenance,
                bool force, const std::string& target_group)
{
    h5::QuietErrors quiet;
    io::Hdf5Output output(path, target_group, force);
    {
        h5::Group root = output.open_root_group();
        io::write_lplr_into(root.get(), output.shown(), decomposition, provenance);
    }
    output.commit();
}

}  // namespace signcut
