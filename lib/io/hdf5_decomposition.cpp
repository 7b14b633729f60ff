// Decomposition files, format version 1 (docs/FORMAT.md).
#include <algorithm>
#include <cmath>
#include <ctime>
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

std::string scales_path() { return fmt::format("{}/scales", group_path); }
std::string signs_group_path() { return fmt::format("{}/signs", group_path); }
std::string signs_path(std::size_t mode) { return fmt::format("{}/signs/mode_{}", group_path, mode); }

/// Everything read_decomposition_info promises: metadata and the shapes of
/// the arrays, from an open file.
DecompositionInfo read_info(hid_t file, const std::string& path)
{
    io::CommonAttributes common = io::read_common(file, path);
    if (common.method == "lplr")
        throw Error(errc::unsupported,
                    fmt::format("{} holds an lplr decomposition (read it with read_lplr); lplr decompositions are not "
                                "supported by this reader yet",
                                path));
    const AttributeReader attrs(common.group.get(), path, group_path);

    DecompositionInfo info;
    info.method = std::move(common.method);
    info.shape = std::move(common.shape);
    info.width = common.width;
    info.provenance = std::move(common.provenance);
    const std::uint64_t refit = attrs.unsigned_integer("scales_refit");
    if (refit > 1)
        throw Error(errc::bad_input, fmt::format("{}: {} is {}, expected 0 or 1", path, attrs.path("scales_refit"), refit));
    info.scales_refit = refit == 1;

    // The arrays' shapes are metadata too: check them here, so that `info`
    // already refuses a file that could not be read.
    io::require_object(file, path, scales_path(), H5I_DATASET);
    {
        const io::ArrayMeta meta = io::array_meta(file, path, scales_path());
        if (meta.type_class != H5T_FLOAT)
            throw Error(errc::bad_input, fmt::format("{}: {} holds {} values, expected float32", path, scales_path(),
                                                     h5::class_name(meta.type_class)));
        if (meta.dims.size() != 1)
            throw Error(errc::bad_input, fmt::format("{}: {} has {}, expected a 1-D array of width {} entries", path,
                                                     scales_path(), io::dims_text(meta.dims), info.width));
        if (meta.dims[0] != info.width)
            throw Error(errc::bad_input, fmt::format("{}: width is {} but {} has {} entries", path, info.width,
                                                     scales_path(), meta.dims[0]));
    }

    io::require_object(file, path, signs_group_path(), H5I_GROUP);
    for (std::size_t a = 0; a < info.shape.size(); ++a) {
        const std::string name = signs_path(a);
        io::require_object(file, path, name, H5I_DATASET);
        const io::ArrayMeta meta = io::array_meta(file, path, name);
        if (meta.type_class != H5T_INTEGER || meta.type_size != 8 || meta.sign != H5T_SGN_NONE)
            throw Error(errc::bad_input, fmt::format("{}: {} must hold uint64 words, not {}-byte {} values", path, name,
                                                     meta.type_size, h5::class_name(meta.type_class)));
        const std::vector<hsize_t> expected{info.width, words_for(info.shape[a])};
        if (meta.dims != expected)
            throw Error(errc::bad_input,
                        fmt::format("{}: {} has {}, expected {}x{} (width x ceil({}/64))", path, name, io::dims_text(meta.dims),
                                    expected[0], expected[1], info.shape[a]));
    }
    // A sign array beyond the last mode means the shape and the arrays
    // disagree about the order.
    h5::Group signs_group(H5Gopen2(file, signs_group_path().c_str(), H5P_DEFAULT));
    H5G_info_t group_info{};
    if (!signs_group || H5Gget_info(signs_group.get(), &group_info) < 0)
        h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, signs_group_path()));
    if (group_info.nlinks != info.shape.size())
        throw Error(errc::bad_input, fmt::format("{}: {} has {} members, expected mode_0 ... mode_{} for a shape of order {}",
                                                 path, signs_group_path(), group_info.nlinks, info.shape.size() - 1,
                                                 info.shape.size()));
    return info;
}

/// Bytes needed to hold the arrays and the reconstruction (UINT64_MAX when
/// that does not even fit in 64 bits).
std::uint64_t bytes_needed(const DecompositionInfo& info)
{
    unsigned __int128 bytes = static_cast<unsigned __int128>(element_count(info.shape)) * sizeof(float);
    bytes += static_cast<unsigned __int128>(info.width) * sizeof(float);
    for (const std::size_t d : info.shape)
        bytes += static_cast<unsigned __int128>(info.width) * words_for(d) * sizeof(std::uint64_t);
    return bytes > UINT64_MAX ? UINT64_MAX : static_cast<std::uint64_t>(bytes);
}

/// Reads scales and signs after read_info's checks; refuses non-finite
/// scales and set padding bits.
SignedCutDecomposition read_arrays(hid_t file, const std::string& path, const DecompositionInfo& info)
{
    const std::size_t width = static_cast<std::size_t>(info.width);
    std::vector<float> scales(width);
    if (width > 0) {
        h5::Dataset d(H5Dopen2(file, scales_path().c_str(), H5P_DEFAULT));
        if (!d || H5Dread(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, scales.data()) < 0)
            h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, scales_path()));
    }
    const auto non_finite = std::count_if(scales.begin(), scales.end(), [](float c) { return !std::isfinite(c); });
    if (non_finite > 0)
        throw Error(errc::bad_input,
                    fmt::format("{}: {} holds {} non-finite values", path, scales_path(), non_finite));

    std::vector<SignMatrix> signs;
    signs.reserve(info.shape.size());
    for (std::size_t a = 0; a < info.shape.size(); ++a) {
        const std::size_t d = info.shape[a];
        const std::size_t stride = words_for(d);
        std::vector<std::uint64_t> words(width * stride);
        const std::string name = signs_path(a);
        if (width > 0) {
            h5::Dataset ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
            if (!ds || H5Dread(ds.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, words.data()) < 0)
                h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, name));
        }
        // Padding must be zero: the packed kernels XOR and popcount whole
        // words, so a stray bit would change every result silently.
        const std::uint64_t padding = ~tail_mask(d);
        for (std::size_t j = 0; j < width; ++j)
            if ((words[j * stride + stride - 1] & padding) != 0)
                throw Error(errc::bad_input, fmt::format("{}: {} row {} has padding bits set past sign {}", path, name,
                                                         j, d));
        signs.emplace_back(d, width, std::move(words));
    }

    return SignedCutDecomposition(info.shape, std::move(scales), std::move(signs), info.scales_refit);
}

}  // namespace

double DecompositionInfo::bits_per_value() const
{
    if (shape.empty()) return 0.0;
    return static_cast<double>(SignedCutDecomposition::bits_per_term(shape)) * static_cast<double>(width) /
           static_cast<double>(element_count(shape));
}

std::string iso8601_utc_now()
{
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

void write_decomposition(const std::string& path, const SignedCutDecomposition& decomposition,
                         const Provenance& provenance, bool force)
{
    if (decomposition.order() == 0)
        throw Error(errc::invalid_argument, fmt::format("cannot write {}: the decomposition is empty (order 0)", path));
    (void)io::dtype_spec(provenance.original_dtype);
    const Shape& shape = decomposition.shape();
    const std::uint64_t width = decomposition.width();

    h5::QuietErrors quiet;
    io::AtomicOutput output(path, force);
    {
        h5::File file = h5::create_file(output.temporary_path(), path);
        h5::Group group = io::write_common(file.get(), path, "sct", shape, width, provenance);
        io::AttributeWriter(group.get(), path).u8("scales_refit", decomposition.scales_refit() ? 1 : 0);
        io::write_array(group.get(), "scales", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {width},
                        decomposition.scales().data(), path);
        h5::Group signs = io::create_group(group.get(), "signs", path);
        for (std::size_t a = 0; a < shape.size(); ++a) {
            // A SignMatrix keeps each term's column as consecutive words:
            // exactly row j of the [w][ceil(d_a/64)] file array.
            const SignMatrix& m = decomposition.signs(a);
            const std::string name = fmt::format("mode_{}", a);
            io::write_array(signs.get(), name.c_str(), H5T_STD_U64LE, H5T_NATIVE_UINT64,
                            {width, words_for(shape[a])}, m.data(), path);
        }
        signs.reset();
        group.reset();
        if (!file.close()) h5::fail(errc::io, fmt::format("cannot write {}", path));
    }
    output.commit();
}

DecompositionInfo read_decomposition_info(const std::string& path)
{
    h5::QuietErrors quiet;
    h5::File file = h5::open_read_only(path);
    return read_info(file.get(), path);
}

SignedCutDecomposition read_decomposition(const std::string& path, std::uint64_t max_bytes, DecompositionInfo* info_out)
{
    h5::QuietErrors quiet;
    h5::File file = h5::open_read_only(path);
    DecompositionInfo info = read_info(file.get(), path);

    const std::uint64_t needed = bytes_needed(info);
    // A saturated count is refused even under a limit of 2^64 - 1 bytes: the
    // sizes it stands for cannot be allocated, or even computed in size_t.
    if (needed > max_bytes || needed == UINT64_MAX)
        throw Error(errc::limit,
                    fmt::format("{} holds a {} decomposition of width {}: reading and reconstructing it needs {} bytes, "
                                "more than the memory limit of {} bytes",
                                path, format_shape(info.shape), info.width,
                                needed == UINT64_MAX ? std::string("over 2^64") : std::to_string(needed), max_bytes));

    SignedCutDecomposition decomposition;
    try {
        decomposition = read_arrays(file.get(), path, info);
    } catch (const std::bad_alloc&) {
        throw Error(errc::limit, fmt::format("{}: cannot allocate the {} bytes its arrays need", path, needed));
    }
    if (info_out != nullptr) *info_out = std::move(info);
    return decomposition;
}

}  // namespace signcut
