// Decomposition files of method sct, format version 2 (and version 1, still
// read): bit-exact round trips over block grids, an independent reader that
// follows docs/FORMAT.md bit by bit, the stored sizes and checksums, the
// Python reader of docs/FORMAT.md, region reads, and every refusal.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "io_test_support.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/version.hpp"

#ifndef SIGNCUT_SOURCE_DIR
#error "SIGNCUT_SOURCE_DIR must name the source tree (for docs/FORMAT.md)"
#endif

using namespace signcut;
using namespace signcut::testing;

namespace {

/// Grids of orders 1 to 4: whole tensors, blocks that tile exactly, and
/// edge blocks cut short; dims below, at and above word boundaries.
struct GridCase {
    Shape shape, block;
};
const std::vector<GridCase>& grids()
{
    static const std::vector<GridCase> cases{
        {{1}, {1}},           {{130}, {130}},         {{130}, {64}},           {{200}, {7}},
        {{64, 3}, {64, 3}},   {{5, 70}, {2, 64}},     {{17, 33}, {4, 8}},      {{3, 65, 7}, {2, 32, 3}},
        {{9, 10, 11}, {4, 4, 4}}, {{2, 3, 129, 5}, {1, 2, 64, 5}}, {{5, 4, 3, 2}, {2, 3, 2, 1}},
    };
    return cases;
}

/// Widths per block: a mix with zero-width blocks, or the same everywhere.
std::function<std::size_t(std::size_t)> width_pattern(int kind)
{
    switch (kind) {
    case 0: return [](std::size_t) { return std::size_t{0}; };
    case 1: return [](std::size_t b) { return (b * 7 + 3) % 5; };
    default: return [](std::size_t b) { return b == 0 ? std::size_t{9} : std::size_t{2}; };
    }
}

Provenance fixed_provenance()
{
    Provenance p;
    p.original_dtype = "int16";
    p.source = "field.h5:/temperature";
    p.seed = 0xfeedfacecafebeefull;
    p.signcut_version = "9.8.7";
    p.rel_fro_error = 0.123456789012345;
    p.created = "2024-02-29T23:59:58Z";
    p.norm2 = 12345.678901234;
    return p;
}

/// Every block's scales (as bits) and sign words equal.
void check_same_terms(const SignedCutDecomposition& a, const SignedCutDecomposition& b)
{
    BOOST_TEST_REQUIRE(a.shape() == b.shape(), boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(a.block_shape() == b.block_shape(), boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(a.block_count() == b.block_count());
    for (std::size_t k = 0; k < a.block_count(); ++k) {
        BOOST_TEST_CONTEXT("block " << k)
        {
            const SignedCutTerms &x = a.block(k), &y = b.block(k);
            BOOST_TEST_REQUIRE(x.width() == y.width());
            for (std::size_t j = 0; j < x.width(); ++j)
                BOOST_TEST(std::bit_cast<std::uint32_t>(x.scales()[j]) == std::bit_cast<std::uint32_t>(y.scales()[j]));
            for (std::size_t m = 0; m < x.order(); ++m) {
                BOOST_TEST(x.signs(m).rows() == y.signs(m).rows());
                BOOST_TEST(x.signs(m).cols() == y.signs(m).cols());
                BOOST_TEST((x.signs(m).words().size() == y.signs(m).words().size() &&
                            std::equal(x.signs(m).words().begin(), x.signs(m).words().end(),
                                       y.signs(m).words().begin())),
                           "mode " << m << " words differ");
            }
        }
    }
}

std::uint64_t payload_total(const SignedCutDecomposition& d)
{
    const Payload p = d.payload();
    return p.widths_bytes + p.scales_bytes + p.signs_bytes;
}

void set_u64_attribute(hid_t object, const char* name, const std::vector<std::uint64_t>& values, bool scalar = true)
{
    if (H5Aexists(object, name) > 0) H5Adelete(object, name);
    const hsize_t n = values.size();
    hid_t space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr);
    hid_t a = H5Acreate2(object, name, H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(a >= 0);
    if (!values.empty()) H5Awrite(a, H5T_NATIVE_UINT64, values.data());
    H5Aclose(a);
    H5Sclose(space);
}

void set_f64_attribute(hid_t object, const char* name, double value)
{
    if (H5Aexists(object, name) > 0) H5Adelete(object, name);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(object, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &value);
    H5Aclose(a);
    H5Sclose(space);
}

/// A fixed-length string attribute, as older tools and h5py's np.bytes_ write.
void set_fixed_string_attribute(hid_t object, const char* name, const std::string& value, H5T_str_t pad)
{
    if (H5Aexists(object, name) > 0) H5Adelete(object, name);
    hid_t type = H5Tcopy(H5T_C_S1);
    std::string stored = value;
    if (pad == H5T_STR_SPACEPAD) stored += "   ";
    H5Tset_size(type, stored.size() + (pad == H5T_STR_NULLTERM ? 1 : 0));
    H5Tset_strpad(type, pad);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    std::vector<char> bytes(H5Tget_size(type), '\0');
    std::copy(stored.begin(), stored.end(), bytes.begin());
    H5Awrite(a, type, bytes.data());
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
}

/// Replaces (or adds) a 1-D dataset of `group`: contiguous, or chunked with
/// `chunk` elements, optionally with an extra filter set by `filter`.
void replace_vector(hid_t group, const char* name, hid_t file_type, hid_t memory_type, hsize_t n, const void* data,
                    hsize_t chunk = 0, const std::function<void(hid_t dcpl)>& filter = {})
{
    if (H5Lexists(group, name, H5P_DEFAULT) > 0) H5Ldelete(group, name, H5P_DEFAULT);
    hid_t space = H5Screate_simple(1, &n, nullptr);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk > 0) H5Pset_chunk(dcpl, 1, &chunk);
    if (filter) filter(dcpl);
    hid_t d = H5Dcreate2(group, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(d >= 0);
    if (data != nullptr && n > 0) BOOST_TEST_REQUIRE(H5Dwrite(d, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
}

// --- an independent reader: raw HDF5 calls and FORMAT.md only --------------------

std::string raw_string_attribute(hid_t object, const char* name)
{
    hid_t a = H5Aopen(object, name, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(a >= 0, "attribute " << name);
    hid_t type = H5Aget_type(a);
    // Version 2 prescribes fixed-length, null-terminated UTF-8 scalars.
    BOOST_TEST(H5Tget_class(type) == H5T_STRING);
    BOOST_TEST(H5Tis_variable_str(type) == 0, name << " is variable-length");
    BOOST_TEST(H5Tget_cset(type) == H5T_CSET_UTF8, name << " is not UTF-8");
    BOOST_TEST(H5Tget_strpad(type) == H5T_STR_NULLTERM, name << " is not null-terminated");
    hid_t space = H5Aget_space(a);
    BOOST_TEST(H5Sget_simple_extent_type(space) == H5S_SCALAR);
    std::vector<char> bytes(H5Tget_size(type) + 1, '\0');
    BOOST_TEST_REQUIRE(H5Aread(a, type, bytes.data()) >= 0);
    std::string value(bytes.data());
    // Exactly the text and its terminator.
    BOOST_TEST(H5Tget_size(type) == value.size() + 1, name << " has padding");
    H5Sclose(space);
    H5Tclose(type);
    H5Aclose(a);
    return value;
}

/// Reads an attribute after checking that its stored type is exactly `expected`.
template <class T>
std::vector<T> raw_attribute(hid_t object, const char* name, hid_t expected, hid_t memory_type)
{
    hid_t a = H5Aopen(object, name, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(a >= 0, "attribute " << name);
    hid_t type = H5Aget_type(a);
    BOOST_TEST(H5Tequal(type, expected) > 0, "stored type of " << name);
    hid_t space = H5Aget_space(a);
    std::vector<T> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    BOOST_TEST_REQUIRE(H5Aread(a, memory_type, values.data()) >= 0);
    H5Sclose(space);
    H5Tclose(type);
    H5Aclose(a);
    return values;
}

template <class T>
std::vector<T> raw_dataset(hid_t group, const std::string& name, hid_t expected, hid_t memory_type)
{
    hid_t d = H5Dopen2(group, name.c_str(), H5P_DEFAULT);
    BOOST_TEST_REQUIRE(d >= 0, "dataset " << name);
    hid_t type = H5Dget_type(d);
    if (expected >= 0) BOOST_TEST(H5Tequal(type, expected) > 0, "stored type of " << name);
    hid_t space = H5Dget_space(d);
    BOOST_TEST(H5Sget_simple_extent_ndims(space) == 1, name << " is not 1-D");
    std::vector<T> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    if (!values.empty()) BOOST_TEST_REQUIRE(H5Dread(d, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
    H5Sclose(space);
    H5Tclose(type);
    H5Dclose(d);
    return values;
}

/// Rebuilds the tensor of a version-2 file element by element from the bits
/// of the sign stream, as FORMAT.md describes it, in double.
std::vector<double> raw_reconstruct(const std::string& path, Shape& shape_out)
{
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    BOOST_TEST(raw_string_attribute(file, "signcut_format") == "signcut-decomposition");
    BOOST_TEST(raw_attribute<std::int32_t>(file, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32).at(0) == 2);
    hid_t g = H5Gopen2(file, "/decomposition", H5P_DEFAULT);
    BOOST_TEST_REQUIRE(g >= 0);
    BOOST_TEST(raw_string_attribute(g, "method") == "sct");
    const std::vector<std::uint64_t> shape = raw_attribute<std::uint64_t>(g, "shape", H5T_STD_U64LE, H5T_NATIVE_UINT64);
    const std::vector<std::uint64_t> block =
        raw_attribute<std::uint64_t>(g, "block_shape", H5T_STD_U64LE, H5T_NATIVE_UINT64);
    const std::uint64_t width = raw_attribute<std::uint64_t>(g, "width", H5T_STD_U64LE, H5T_NATIVE_UINT64).at(0);
    BOOST_TEST(raw_attribute<std::uint8_t>(g, "scales_refit", H5T_STD_U8LE, H5T_NATIVE_UINT8).size() == 1u);
    BOOST_TEST(raw_attribute<std::uint64_t>(g, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64).size() == 1u);
    BOOST_TEST(raw_attribute<double>(g, "rel_fro_error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE).size() == 1u);
    BOOST_TEST(raw_attribute<double>(g, "norm2", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE).size() == 1u);
    for (const char* name : {"original_dtype", "source", "signcut_version", "created"}) raw_string_attribute(g, name);

    // widths: uint32 of precision width_bits(the largest width), as
    // docs/FORMAT.md says; checked once the values are known.
    const std::vector<std::uint32_t> widths =
        raw_dataset<std::uint32_t>(g, "widths", H5I_INVALID_HID, H5T_NATIVE_UINT32);
    {
        std::uint64_t max_width = 0;
        for (const std::uint32_t w : widths) max_width = std::max<std::uint64_t>(max_width, w);
        hid_t documented = H5Tcopy(H5T_STD_U32LE);
        BOOST_TEST_REQUIRE(H5Tset_precision(documented, width_bits(max_width)) >= 0);
        raw_dataset<std::uint32_t>(g, "widths", documented, H5T_NATIVE_UINT32);
        H5Tclose(documented);
    }
    const std::vector<float> scales = raw_dataset<float>(g, "scales", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
    const std::vector<std::uint8_t> signs = raw_dataset<std::uint8_t>(g, "signs", H5T_STD_U8LE, H5T_NATIVE_UINT8);
    BOOST_TEST(scales.size() == width);
    H5Gclose(g);
    H5Fclose(file);

    const std::size_t k = shape.size();
    shape_out.assign(shape.begin(), shape.end());
    std::vector<std::uint64_t> grid(k);
    std::uint64_t blocks = 1, n = 1;
    for (std::size_t a = 0; a < k; ++a) {
        grid[a] = (shape[a] + block[a] - 1) / block[a];
        blocks *= grid[a];
        n *= shape[a];
    }
    BOOST_TEST_REQUIRE(widths.size() == blocks);
    // Where each block's scales and segment start.
    std::vector<std::uint64_t> first_scale(blocks), first_byte(blocks), extents_sum(blocks);
    std::uint64_t scale_at = 0, byte_at = 0;
    for (std::uint64_t b = 0; b < blocks; ++b) {
        std::uint64_t rest = b, s = 0;
        for (std::size_t a = k; a-- > 0;) {
            const std::uint64_t c = rest % grid[a];
            rest /= grid[a];
            s += std::min(block[a], shape[a] - c * block[a]);
        }
        first_scale[b] = scale_at;
        first_byte[b] = byte_at;
        extents_sum[b] = s;
        scale_at += widths[b];
        byte_at += (widths[b] * s + 7) / 8;
    }
    BOOST_TEST(scale_at == scales.size());
    BOOST_TEST(byte_at == signs.size());

    std::vector<double> x(n);
    std::vector<std::uint64_t> index(k, 0);
    for (std::uint64_t flat = 0; flat < n; ++flat) {
        std::uint64_t b = 0;
        std::vector<std::uint64_t> e(k), local(k);
        for (std::size_t a = 0; a < k; ++a) {
            const std::uint64_t c = index[a] / block[a];
            b = b * grid[a] + c;
            e[a] = std::min(block[a], shape[a] - c * block[a]);
            local[a] = index[a] - c * block[a];
        }
        double sum = 0;
        for (std::uint64_t j = 0; j < widths[b]; ++j) {
            // Term j's signs start at bit j·Σe of the segment; mode a's at
            // the sum of the extents before it.
            std::uint64_t bit = j * extents_sum[b];
            int sign = 1;
            for (std::size_t a = 0; a < k; ++a) {
                const std::uint64_t i = bit + local[a];
                if ((signs[first_byte[b] + i / 8] >> (i % 8)) & 1u) sign = -sign;
                bit += e[a];
            }
            sum += static_cast<double>(scales[first_scale[b] + j]) * sign;
        }
        x[flat] = sum;
        for (std::size_t a = k; a-- > 0;) {
            if (++index[a] < shape[a]) break;
            index[a] = 0;
        }
    }
    return x;
}

/// The times HDF5 recorded for an object (all zero when tracking is off).
std::array<time_t, 4> object_times(const std::string& path, const std::string& object)
{
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    H5O_info_t info{};
    BOOST_TEST_REQUIRE(H5Oget_info_by_name2(file, object.c_str(), &info, H5O_INFO_TIME, H5P_DEFAULT) >= 0);
    H5Fclose(file);
    return {info.atime, info.mtime, info.ctime, info.btime};
}

/// The stored layout of one dataset: its storage size, chunk length (0 if
/// not chunked), whether fletcher32 is among its filters, and its length.
struct Stored {
    std::uint64_t bytes = 0, chunk = 0, length = 0;
    H5D_layout_t layout = H5D_LAYOUT_ERROR;
    bool fletcher32 = false;
};

Stored stored(const std::string& path, const std::string& dataset)
{
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    hid_t d = H5Dopen2(file, dataset.c_str(), H5P_DEFAULT);
    BOOST_TEST_REQUIRE(d >= 0, dataset);
    Stored s;
    s.bytes = H5Dget_storage_size(d);
    hid_t space = H5Dget_space(d);
    s.length = static_cast<std::uint64_t>(H5Sget_simple_extent_npoints(space));
    H5Sclose(space);
    hid_t dcpl = H5Dget_create_plist(d);
    s.layout = H5Pget_layout(dcpl);
    if (s.layout == H5D_CHUNKED) {
        hsize_t chunk = 0;
        BOOST_TEST(H5Pget_chunk(dcpl, 1, &chunk) == 1);
        s.chunk = chunk;
    }
    for (int i = 0; i < H5Pget_nfilters(dcpl); ++i) {
        unsigned flags = 0, config = 0;
        std::size_t n = 0;
        char name[64];
        if (H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &n, nullptr, sizeof name, name, &config) ==
            H5Z_FILTER_FLETCHER32)
            s.fletcher32 = true;
    }
    H5Pclose(dcpl);
    H5Dclose(d);
    H5Fclose(file);
    return s;
}

/// The file address and size of chunk `index` of a dataset.
std::pair<haddr_t, hsize_t> chunk_location(const std::string& path, const std::string& dataset, hsize_t index = 0)
{
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(file, dataset.c_str(), H5P_DEFAULT);
    BOOST_TEST_REQUIRE(d >= 0);
    hsize_t offset = 0, size = 0;
    unsigned mask = 0;
    haddr_t address = 0;
    hid_t space = H5Dget_space(d);
    BOOST_TEST_REQUIRE(H5Dget_chunk_info(d, space, index, &offset, &mask, &address, &size) >= 0);
    H5Sclose(space);
    H5Dclose(d);
    H5Fclose(file);
    return {address, size};
}

double abs_scale_sum(const SignedCutDecomposition& d)
{
    double s = 0;
    for (const SignedCutTerms& t : d.blocks())
        for (const float c : t.scales()) s += std::fabs(c);
    return s;
}

/// The smallest memory limit `read(limit)` accepts, found from the bytes
/// its refusals name ("... needs N bytes ..."; a first check may name only
/// part of what a later one counts).
std::uint64_t needed_bytes(const std::function<void(std::uint64_t)>& read)
{
    std::uint64_t limit = 1;
    for (int tries = 0; tries < 5; ++tries) {
        try {
            read(limit);
            return limit;
        } catch (const Error& e) {
            BOOST_TEST_REQUIRE(static_cast<int>(e.code()) == static_cast<int>(errc::limit), e.what());
            std::smatch m;
            const std::string text = e.what();
            BOOST_TEST_REQUIRE(std::regex_search(text, m, std::regex("needs ([0-9]+) bytes")), text);
            const std::uint64_t named = std::stoull(m[1].str());
            BOOST_TEST_REQUIRE(named > limit, text);
            limit = named;
        }
    }
    BOOST_ERROR("the limit named in refusals does not converge");
    return 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(decomposition_file)

BOOST_AUTO_TEST_CASE(round_trip_keeps_every_bit_and_scale)
{
    ScratchDir dir;
    std::uint64_t seed = 1;
    for (const GridCase& c : grids()) {
        for (const int pattern : {0, 1, 2}) {
            BOOST_TEST_CONTEXT("shape " << format_shape(c.shape) << " blocks " << format_shape(c.block) << " widths "
                                        << pattern)
            {
                SignedCutDecomposition d = blocked(c.shape, c.block, width_pattern(pattern), seed++);
                if (pattern == 2 && c.shape.size() == 3) {
                    // Refit scales in every block (the file has one flag).
                    std::vector<SignedCutTerms> blocks(d.blocks());
                    for (SignedCutTerms& t : blocks) {
                        std::vector<float> refit = t.scales();
                        for (float& v : refit) v *= 1.25f;
                        t.set_refit_scales(refit);
                    }
                    d = SignedCutDecomposition(d.grid(), std::move(blocks));
                }
                const std::string path = dir.file(fmt::format("rt-{}.h5", seed));
                const Provenance p = fixed_provenance();
                write_decomposition(path, d, p, false);

                DecompositionInfo info;
                const Decomposition any = read_decomposition(path, UINT64_MAX, &info);
                BOOST_TEST(any.method() == "sct");
                const SignedCutDecomposition& back = sct_of(any);
                check_same_terms(back, d);
                BOOST_TEST(back.scales_refit() == d.scales_refit());
                BOOST_TEST(any.bits_per_value() == d.bits_per_value());

                BOOST_TEST(info.method == "sct");
                BOOST_TEST(info.format_version == 2);
                BOOST_TEST(info.shape == c.shape, boost::test_tools::per_element());
                BOOST_TEST(info.block_shape == c.block, boost::test_tools::per_element());
                const std::vector<std::size_t> widths = d.widths();
                BOOST_TEST(info.widths == std::vector<std::uint64_t>(widths.begin(), widths.end()),
                           boost::test_tools::per_element());
                BOOST_TEST(info.width == d.width());
                BOOST_TEST(info.scales_refit == d.scales_refit());
                BOOST_TEST(info.norm2 == p.norm2);
                BOOST_TEST(info.provenance.norm2 == p.norm2);
                BOOST_TEST(info.provenance.original_dtype == p.original_dtype);
                BOOST_TEST(info.provenance.source == p.source);
                BOOST_TEST(info.provenance.seed == p.seed);
                BOOST_TEST(info.provenance.signcut_version == p.signcut_version);
                BOOST_TEST(info.provenance.rel_fro_error == p.rel_fro_error);
                BOOST_TEST(info.provenance.created == p.created);
                BOOST_TEST(info.payload_bytes == payload_total(d));
                BOOST_TEST(info.file_bytes == fs::file_size(path));
                BOOST_TEST(info.bits_per_value() == d.bits_per_value());
                BOOST_TEST(info.counted_bits_per_value() == d.counted_bits_per_value());

                const DecompositionInfo meta = read_decomposition_info(path);
                BOOST_TEST(meta.widths == info.widths, boost::test_tools::per_element());
                BOOST_TEST(meta.payload_bytes == info.payload_bytes);
                BOOST_TEST(meta.provenance.seed == p.seed);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(provenance_defaults_are_filled_in)
{
    ScratchDir dir;
    const HandMade h = hand_made({4, 5}, 2, 3);
    const std::string path = dir.file("defaults.h5");
    write_decomposition(path, h.decomposition, Provenance{}, false);
    const DecompositionInfo info = read_decomposition_info(path);
    BOOST_TEST(info.provenance.signcut_version == std::string(signcut::version));
    BOOST_TEST(info.provenance.original_dtype == "float32");
    // ISO 8601 UTC, "2026-05-01T12:34:56Z".
    const std::string& created = info.provenance.created;
    BOOST_TEST_REQUIRE(created.size() == 20u);
    for (const std::size_t i : {4u, 7u}) BOOST_TEST(created[i] == '-');
    BOOST_TEST(created[10] == 'T');
    BOOST_TEST(created[13] == ':');
    BOOST_TEST(created[16] == ':');
    BOOST_TEST(created[19] == 'Z');
    BOOST_TEST(created.substr(0, 2) == "20");
    BOOST_TEST(info.norm2 == 0.0);
}

BOOST_AUTO_TEST_CASE(stored_sizes_are_the_payload)
{
    ScratchDir dir;
    struct Sized {
        Shape shape, block;
        std::function<std::size_t(std::size_t)> width;
    };
    const std::vector<Sized> cases{
        {{40, 50}, {8, 8}, width_pattern(1)},            // zero-width blocks among others
        {{40, 50}, {8, 8}, width_pattern(0)},            // all empty: scales and signs [0]
        {{7}, {7}, width_pattern(0)},                    // one empty block
        {{9, 10, 11}, {4, 4, 4}, width_pattern(2)},      // edge blocks in every mode
        {{2048, 8}, {2048, 8}, [](std::size_t) { return std::size_t{4200}; }},  // signs in 2 chunks
        {{300000}, {1}, [](std::size_t b) { return b % 3 == 0 ? std::size_t{1} : std::size_t{0}; }},  // widths in 2
        {{300000}, {1}, [](std::size_t) { return std::size_t{1}; }},  // widths, scales in 2 chunks
    };
    std::uint64_t seed = 50;
    for (const Sized& c : cases) {
        BOOST_TEST_CONTEXT("shape " << format_shape(c.shape) << " blocks " << format_shape(c.block))
        {
            const SignedCutDecomposition d = blocked(c.shape, c.block, c.width, seed++);
            const std::string path = dir.file(fmt::format("sized-{}.h5", seed));
            write_decomposition(path, d, fixed_provenance(), false);
            std::uint64_t sign_bytes = 0, max_width = 0;
            for (std::size_t b = 0; b < d.block_count(); ++b) {
                sign_bytes += (d.block(b).width() * d.grid().signs_per_term(b) + 7) / 8;
                max_width = std::max<std::uint64_t>(max_width, d.block(b).width());
            }
            std::uint64_t total = 0;
            for (const auto& [name, length, size] :
                 {std::tuple{"/decomposition/widths", std::uint64_t(d.block_count()), std::size_t{4}},
                  std::tuple{"/decomposition/scales", d.width(), std::size_t{4}},
                  std::tuple{"/decomposition/signs", sign_bytes, std::size_t{1}}}) {
                BOOST_TEST_CONTEXT(name)
                {
                    const Stored s = stored(path, name);
                    BOOST_TEST(s.length == length);
                    // Widths are packed to their bit length and short
                    // scales to 13 bits (n-bit filter); signs are bytes.
                    const std::string item(name);
                    const std::uint64_t rule = item == "/decomposition/widths" ? stored_widths_bytes(length, max_width)
                                               : item == "/decomposition/scales"
                                                   ? stored_scales_bytes(length, d.scale_bits())
                                                   : stored_dataset_bytes(length, size);
                    BOOST_TEST(s.bytes == rule);
                    if (length > 0) {
                        BOOST_TEST(s.layout == H5D_CHUNKED);
                        BOOST_TEST(s.chunk == dataset_chunk_elements(length, size));
                        BOOST_TEST(s.fletcher32);
                    } else {
                        BOOST_TEST(s.layout == H5D_CONTIGUOUS);
                        BOOST_TEST(s.bytes == 0u);
                    }
                    total += s.bytes;
                }
            }
            BOOST_TEST(total == payload_total(d));
            BOOST_TEST(read_decomposition_info(path).payload_bytes == total);
        }
    }
    // The cases above do reach several chunks.
    BOOST_TEST(dataset_chunk_elements(4200 * 2056 / 8, 1) < 4200u * 2056u / 8u);
    BOOST_TEST(dataset_chunk_elements(300000, 4) < 300000u);
}

BOOST_AUTO_TEST_CASE(a_file_exceeds_its_payload_by_at_most_24_kib)
{
    ScratchDir dir;
    struct Sized {
        Shape shape, block;
    };
    // Many blocks in 2-D and 3-D, with edge blocks.
    for (const Sized& c : {Sized{{500, 300}, {16, 16}}, Sized{{100, 60, 30}, {8, 8, 4}}, Sized{{1000}, {1000}}}) {
        BOOST_TEST_CONTEXT("shape " << format_shape(c.shape) << " blocks " << format_shape(c.block))
        {
            const SignedCutDecomposition d = blocked(c.shape, c.block, width_pattern(1), 61);
            const std::string path = dir.file("overhead.h5");
            fs::remove(path);
            write_decomposition(path, d, fixed_provenance(), false);
            const std::uint64_t size = fs::file_size(path), payload = payload_total(d);
            BOOST_TEST_MESSAGE(format_shape(c.shape) << ": " << d.block_count() << " blocks, payload " << payload
                                                     << " bytes, file " << size << " bytes");
            BOOST_TEST(size >= payload);
            BOOST_TEST(size - payload <= 24u * 1024u);
        }
    }
}

BOOST_AUTO_TEST_CASE(strings_are_fixed_length_utf8)
{
    ScratchDir dir;
    const std::string path = dir.file("strings.h5");
    Provenance p = fixed_provenance();
    p.source = "données/température.h5:/θ";  // UTF-8 beyond ASCII
    p.signcut_version = "";                    // the library's own
    write_decomposition(path, blocked({6, 7}, {3, 3}, width_pattern(1), 5), p, false);
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    BOOST_TEST(raw_string_attribute(file, "signcut_format") == "signcut-decomposition");
    hid_t g = H5Gopen2(file, "/decomposition", H5P_DEFAULT);
    BOOST_TEST(raw_string_attribute(g, "method") == "sct");
    BOOST_TEST(raw_string_attribute(g, "original_dtype") == "int16");
    BOOST_TEST(raw_string_attribute(g, "source") == p.source);
    BOOST_TEST(raw_string_attribute(g, "signcut_version") == std::string(signcut::version));
    BOOST_TEST(raw_string_attribute(g, "created") == p.created);
    // Every string attribute of the file, not only the ones named above.
    for (hid_t object : {file, g}) {
        H5O_info_t oinfo{};
        BOOST_TEST_REQUIRE(H5Oget_info2(object, &oinfo, H5O_INFO_NUM_ATTRS) >= 0);
        BOOST_TEST(oinfo.num_attrs >= 2u);
        for (hsize_t i = 0; i < oinfo.num_attrs; ++i) {
            hid_t a = H5Aopen_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT);
            hid_t t = H5Aget_type(a);
            if (H5Tget_class(t) == H5T_STRING) BOOST_TEST(H5Tis_variable_str(t) == 0);
            H5Tclose(t);
            H5Aclose(a);
        }
    }
    H5Gclose(g);
    H5Fclose(file);
    BOOST_TEST(read_decomposition_info(path).provenance.source == p.source);
}

BOOST_AUTO_TEST_CASE(sign_stream_has_the_documented_bytes)
{
    // FORMAT.md's example: a 3 x 2 tensor in one block, two terms.
    //   term 0: mode 0 (+1, −1, −1), mode 1 (−1, +1)
    //   term 1: mode 0 (−1, +1, +1), mode 1 (−1, −1)
    // Segment bits 0..9: 0 1 1 | 1 0 | 1 0 0 | 1 1  ->  bytes 0x2e, 0x03.
    SignedCutTerms t(Shape{3, 2});
    const std::vector<std::int8_t> a0{1, -1, -1}, a1{-1, 1}, b0{-1, 1, 1}, b1{-1, -1};
    const std::vector<SignVector> term0{SignVector::from_int8(a0), SignVector::from_int8(a1)};
    const std::vector<SignVector> term1{SignVector::from_int8(b0), SignVector::from_int8(b1)};
    t.append(2.0f, term0);
    t.append(-0.5f, term1);
    ScratchDir dir;
    const std::string path = dir.file("example.h5");
    write_decomposition(path, SignedCutDecomposition(t), Provenance{}, false);
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t g = H5Gopen2(file, "/decomposition", H5P_DEFAULT);
    BOOST_TEST(read_vector<std::uint8_t>(g, "signs", H5T_NATIVE_UINT8) == std::vector<std::uint8_t>({0x2e, 0x03}),
               boost::test_tools::per_element());
    BOOST_TEST(read_vector<std::uint32_t>(g, "widths", H5T_NATIVE_UINT32) == std::vector<std::uint32_t>({2}),
               boost::test_tools::per_element());
    H5Gclose(g);
    H5Fclose(file);
    // x[0][0] = 2·(+1)(−1) − 0.5·(−1)(−1) = −2.5
    BOOST_TEST(read_decomposition(path, UINT64_MAX).reconstruct().data()[0] == -2.5f);
}

BOOST_AUTO_TEST_CASE(independent_reader_matches_a_dense_sum)
{
    ScratchDir dir;
    std::uint64_t seed = 100;
    for (const GridCase& c : grids()) {
        for (const int pattern : {1, 2}) {
            BOOST_TEST_CONTEXT("shape " << format_shape(c.shape) << " blocks " << format_shape(c.block))
            {
                const SignedCutDecomposition d = blocked(c.shape, c.block, width_pattern(pattern), seed++);
                const std::string path = dir.file(fmt::format("raw-{}.h5", seed));
                write_decomposition(path, d, fixed_provenance(), false);

                Shape raw_shape;
                const std::vector<double> raw = raw_reconstruct(path, raw_shape);
                const std::vector<double> dense = dense_sum(d);
                BOOST_TEST(raw_shape == c.shape, boost::test_tools::per_element());
                // Same terms, same order, same double arithmetic: equal.
                BOOST_TEST(raw == dense, boost::test_tools::per_element());

                // The library's own reconstruction of what it read back.
                const Tensor y = read_decomposition(path, UINT64_MAX).reconstruct();
                BOOST_TEST_REQUIRE(y.size() == dense.size());
                const double tol = sum_tolerance(d.width(), abs_scale_sum(d)) + 1e-6 * abs_scale_sum(d);
                for (std::size_t i = 0; i < dense.size(); ++i)
                    BOOST_TEST_REQUIRE(std::fabs(static_cast<double>(y.data()[i]) - dense[i]) <= tol);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(python_reader_matches)
{
    // tests/format/read_sct_v2.py is FORMAT.md's reader, word for word.
    const std::string script = source_file("tests/format/read_sct_v2.py");
    {
        std::ifstream md(source_file("docs/FORMAT.md"));
        BOOST_TEST_REQUIRE(md.good());
        std::string line, snippet;
        bool inside = false, found = false;
        while (std::getline(md, line)) {
            if (line.find("<!-- python-reader:begin -->") != std::string::npos) {
                inside = true;
                continue;
            }
            if (line.find("<!-- python-reader:end -->") != std::string::npos) {
                found = inside;
                break;
            }
            if (inside && line.rfind("```", 0) != 0) snippet += line + "\n";
        }
        BOOST_TEST_REQUIRE(found, "no python-reader markers in docs/FORMAT.md");
        const std::vector<unsigned char> bytes = read_bytes(script);
        const std::string file(bytes.begin(), bytes.end());
        BOOST_TEST(file == snippet, "docs/FORMAT.md and tests/format/read_sct_v2.py differ");
    }

    ScratchDir dir;
    const std::string wrapper = dir.file("wrapper.py");
    write_text(wrapper, "import sys\nsys.path.insert(0, " + shell_quote(fs::path(script).parent_path().string()) +
                            ")\nimport numpy as np\nimport read_sct_v2\n"
                            "x = read_sct_v2.read(sys.argv[1])\n"
                            "np.ascontiguousarray(x, dtype='<f8').tofile(sys.argv[2])\n"
                            "print(' '.join(str(d) for d in x.shape))\n");
    std::uint64_t seed = 300;
    for (const GridCase& c : grids()) {
        for (const int pattern : {0, 1}) {
            BOOST_TEST_CONTEXT("shape " << format_shape(c.shape) << " blocks " << format_shape(c.block))
            {
                const SignedCutDecomposition d = blocked(c.shape, c.block, width_pattern(pattern), seed++);
                const std::string path = dir.file(fmt::format("py-{}.h5", seed));
                const std::string out = dir.file(fmt::format("py-{}.f64", seed));
                write_decomposition(path, d, fixed_provenance(), false);
                const CommandResult r = run_command("/usr/bin/python3 " + shell_quote(wrapper) + " " +
                                                    shell_quote(path) + " " + shell_quote(out));
                BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
                std::ostringstream expected_shape;
                for (std::size_t a = 0; a < c.shape.size(); ++a) expected_shape << (a ? " " : "") << c.shape[a];
                BOOST_TEST(r.output == expected_shape.str() + "\n");
                const std::vector<unsigned char> bytes = read_bytes(out);
                std::vector<double> py(bytes.size() / sizeof(double));
                std::memcpy(py.data(), bytes.data(), py.size() * sizeof(double));
                const std::vector<double> dense = dense_sum(d);
                BOOST_TEST_REQUIRE(py.size() == dense.size());
                for (std::size_t i = 0; i < py.size(); ++i)
                    BOOST_TEST_REQUIRE(std::fabs(py[i] - dense[i]) <= 1e-12 * std::max(1.0, abs_scale_sum(d)));
            }
        }
    }
    // The script itself, as the CLI's tests run it: prints nothing.
    const std::string path = dir.file("main.h5");
    write_decomposition(path, blocked({5, 6}, {2, 4}, width_pattern(1), 9), fixed_provenance(), false);
    const CommandResult r = run_command("/usr/bin/python3 " + shell_quote(script) + " " + shell_quote(path) + " " +
                                        shell_quote(dir.file("out.npy")));
    BOOST_TEST(r.exit_code == 0, r.output);
    BOOST_TEST(r.output.empty(), r.output);
    BOOST_TEST(fs::exists(dir.file("out.npy")));
}

BOOST_AUTO_TEST_CASE(version_1_files_are_still_read)
{
    ScratchDir dir;
    std::uint64_t seed = 400;
    for (const Shape& shape : std::vector<Shape>{{1}, {130}, {64, 3}, {5, 70}, {3, 65, 7}, {2, 3, 129, 5}}) {
        for (const std::size_t width : {0u, 1u, 7u}) {
            BOOST_TEST_CONTEXT("shape " << format_shape(shape) << " width " << width)
            {
                HandMade h = hand_made(shape, width, seed++);
                const std::string path = dir.file(fmt::format("v1-{}.h5", seed));
                write_v1_sct(path, h.decomposition.block(0), "uint8");
                DecompositionInfo info;
                const Decomposition any = read_decomposition(path, UINT64_MAX, &info);
                check_same_terms(sct_of(any), h.decomposition);
                BOOST_TEST(info.format_version == 1);
                BOOST_TEST(info.block_shape == shape, boost::test_tools::per_element());
                BOOST_TEST(info.widths == std::vector<std::uint64_t>({width}), boost::test_tools::per_element());
                BOOST_TEST(std::isnan(info.norm2));
                BOOST_TEST(info.provenance.original_dtype == "uint8");
                BOOST_TEST(info.provenance.source == "v1-writer");
                std::uint64_t words = 0;
                for (const std::size_t d : shape) words += words_for(d);
                BOOST_TEST(info.payload_bytes == width * (4 + 8 * words));
                BOOST_TEST(info.counted_bits_per_value() == h.decomposition.counted_bits_per_value());
                const DecompositionInfo meta = read_decomposition_info(path);
                BOOST_TEST(meta.payload_bytes == info.payload_bytes);
                BOOST_TEST(meta.file_bytes == fs::file_size(path));

                // The dense sum agrees with what the library rebuilds.
                const Tensor y = any.reconstruct();
                const std::vector<double> dense = dense_sum(shape, h.scales, h.factors);
                const double tol = sum_tolerance(width, abs_scale_sum(h.decomposition)) +
                                   1e-6 * abs_scale_sum(h.decomposition);
                for (std::size_t i = 0; i < dense.size(); ++i)
                    BOOST_TEST_REQUIRE(std::fabs(static_cast<double>(y.data()[i]) - dense[i]) <= tol);
                // A region of a version-1 file is its one block.
                if (shape.size() == 2 && width > 0) {
                    const Region region = parse_region("1:3,2", shape);
                    const Decomposition part = read_decomposition(path, UINT64_MAX, nullptr, &region);
                    const Tensor a = part.reconstruct(region), b = any.reconstruct(region);
                    BOOST_TEST(std::equal(a.begin(), a.end(), b.begin()));
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(version_1_fixed_length_strings_are_accepted)
{
    ScratchDir dir;
    const HandMade h = hand_made({5, 70}, 3, 5);
    const std::string path = dir.file("fixed.h5");
    write_v1_sct(path, h.decomposition.block(0));
    edit_file(path, [](hid_t file, hid_t group) {
        set_fixed_string_attribute(file, "signcut_format", "signcut-decomposition", H5T_STR_NULLTERM);
        set_fixed_string_attribute(group, "method", "sct", H5T_STR_NULLPAD);
        set_fixed_string_attribute(group, "original_dtype", "uint8", H5T_STR_SPACEPAD);
        set_fixed_string_attribute(group, "source", "somewhere", H5T_STR_NULLPAD);
        set_fixed_string_attribute(group, "created", "2020-01-01T00:00:00Z", H5T_STR_NULLTERM);
    });
    DecompositionInfo info;
    const Decomposition back = read_decomposition(path, UINT64_MAX, &info);
    BOOST_TEST(info.provenance.original_dtype == "uint8");
    BOOST_TEST(info.provenance.source == "somewhere");
    BOOST_TEST(info.provenance.created == "2020-01-01T00:00:00Z");
    check_same_terms(sct_of(back), h.decomposition);
}

BOOST_AUTO_TEST_CASE(version_2_accepts_other_fixed_length_paddings)
{
    ScratchDir dir;
    const SignedCutDecomposition d = blocked({5, 7}, {2, 3}, width_pattern(1), 6);
    const std::string path = dir.file("padded.h5");
    write_decomposition(path, d, fixed_provenance(), false);
    edit_file(path, [](hid_t, hid_t group) {
        set_fixed_string_attribute(group, "method", "sct", H5T_STR_NULLPAD);
        set_fixed_string_attribute(group, "original_dtype", "uint8", H5T_STR_SPACEPAD);
    });
    DecompositionInfo info;
    check_same_terms(sct_of(read_decomposition(path, UINT64_MAX, &info)), d);
    BOOST_TEST(info.provenance.original_dtype == "uint8");
}

BOOST_AUTO_TEST_CASE(refuses_damaged_version_1_files)
{
    ScratchDir dir;
    const HandMade h = hand_made({3, 70}, 4, 77);
    const std::string good = dir.file("good.h5");
    write_v1_sct(good, h.decomposition.block(0));
    int serial = 0;
    const auto expect_refusal = [&](const std::function<void(hid_t, hid_t)>& edit, errc code,
                                    std::initializer_list<std::string> fragments) {
        const std::string path = dir.file(fmt::format("bad-{}.h5", ++serial));
        fs::copy_file(good, path);
        edit_file(path, edit);
        BOOST_TEST_CONTEXT("case " << serial)
        {
            check_error([&] { read_decomposition(path, UINT64_MAX); }, code, fragments);
            check_error([&] { read_decomposition_info(path); }, code, fragments);
        }
    };
    for (const char* name : {"method", "shape", "original_dtype", "width", "scales_refit", "source", "seed",
                             "signcut_version", "rel_fro_error", "created"})
        expect_refusal([name](hid_t, hid_t group) { H5Adelete(group, name); }, errc::bad_input,
                       {"bad-", std::string("/decomposition/") + name + " is missing"});
    expect_refusal([](hid_t, hid_t group) { put_vlen_string(group, "method", "tucker"); }, errc::bad_input,
                   {"unknown method 'tucker'"});
    expect_refusal([](hid_t, hid_t group) { put_vlen_string(group, "original_dtype", "float8"); }, errc::bad_input,
                   {"original_dtype", "float8"});
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "width", {5}); }, errc::bad_input,
                   {"width is 5", "/decomposition/scales has 4 entries"});
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "scales_refit", {2}); }, errc::bad_input,
                   {"scales_refit", "expected 0 or 1"});
    expect_refusal([](hid_t, hid_t group) { set_fixed_string_attribute(group, "width", "4", H5T_STR_NULLTERM); },
                   errc::bad_input, {"/decomposition/width is string, expected an integer"});
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "shape", {3, 0}, false); }, errc::bad_input,
                   {"/decomposition/shape", "3x0", "zero dimension"});
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "shape", {}, false); }, errc::bad_input,
                   {"/decomposition/shape", "rank 0"});
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "shape", {3, 70, 1}, false); }, errc::bad_input,
                   {"/decomposition/signs/mode_2 is missing"});
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "shape", {3}, false); }, errc::bad_input,
                   {"/decomposition/signs has 2 members"});
    expect_refusal([](hid_t, hid_t group) { H5Ldelete(group, "scales", H5P_DEFAULT); }, errc::bad_input,
                   {"dataset /decomposition/scales is missing"});

    // Padding bits are refused by the reader, not by `info`.
    const std::string padded = dir.file("padding.h5");
    fs::copy_file(good, padded);
    edit_file(padded, [&](hid_t, hid_t group) {
        std::vector<std::uint64_t> words(h.decomposition.block(0).signs(1).words().begin(),
                                         h.decomposition.block(0).signs(1).words().end());
        words[2 * 2 + 1] |= std::uint64_t{1} << 6;  // bit 70 % 64 of row 2's last word
        hid_t d = H5Dopen2(group, "signs/mode_1", H5P_DEFAULT);
        H5Dwrite(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, words.data());
        H5Dclose(d);
    });
    check_error([&] { read_decomposition(padded, UINT64_MAX); }, errc::bad_input,
                {padded, "/decomposition/signs/mode_1 row 2 has padding bits set past sign 70"});
    BOOST_TEST(read_decomposition_info(padded).width == 4u);

    const std::string nan = dir.file("nan.h5");
    fs::copy_file(good, nan);
    edit_file(nan, [](hid_t, hid_t group) {
        write_vector_values<float>(group, "scales", H5T_NATIVE_FLOAT,
                                   {1.0f, std::numeric_limits<float>::quiet_NaN(), 2.0f,
                                    std::numeric_limits<float>::infinity()});
    });
    check_error([&] { read_decomposition(nan, UINT64_MAX); }, errc::bad_input,
                {"/decomposition/scales holds 2 non-finite"});

    // The limit counts the reconstruction and the arrays exactly, as before.
    const std::uint64_t exact = 3 * 70 * 4 + 4 * 4 + 4 * 1 * 8 + 4 * 2 * 8;
    check_error([&] { read_decomposition(good, exact - 1); }, errc::limit, {std::to_string(exact) + " bytes"});
    BOOST_TEST(read_decomposition(good, exact).width() == 4u);
}

BOOST_AUTO_TEST_CASE(refuses_damaged_version_2_metadata)
{
    ScratchDir dir;
    // 3 x 70 in blocks of 2 x 32: a 2 x 3 grid with edge blocks, widths
    // 3 0 2 4 1 3 (pattern 1): 13 terms, segments of 13 0 2 17 5 3 bytes.
    const SignedCutDecomposition d = blocked({3, 70}, {2, 32}, width_pattern(1), 77);
    BOOST_TEST_REQUIRE(d.width() == 13u);
    const std::string good = dir.file("good.h5");
    write_decomposition(good, d, fixed_provenance(), false);
    int serial = 0;
    // Copies the good file, applies `edit`, and expects both readers to
    // refuse the result, naming the file.
    const auto expect_refusal = [&](const std::function<void(hid_t, hid_t)>& edit, errc code,
                                    std::initializer_list<std::string> fragments) {
        const std::string path = dir.file(fmt::format("bad-{}.h5", ++serial));
        fs::copy_file(good, path);
        edit_file(path, edit);
        BOOST_TEST_CONTEXT("case " << serial)
        {
            check_error([&] { read_decomposition(path, UINT64_MAX); }, code, fragments);
            check_error([&] { read_decomposition_info(path); }, code, fragments);
            check_error([&] { read_decomposition_info(path); }, code, {path});
        }
    };

    // The version.
    expect_refusal([](hid_t file, hid_t) { set_i32_attribute(file, "format_version", 4); }, errc::unsupported,
                   {"format version 4 needs a newer signcut", "reads versions 1 to 3"});
    // A version-2 file that claims version 3 lacks version 3's codec record.
    expect_refusal([](hid_t file, hid_t) { set_i32_attribute(file, "format_version", 3); }, errc::bad_input,
                   {"dataset /decomposition/codecs is missing", "/format_version is 3"});
    expect_refusal([](hid_t file, hid_t) { set_i32_attribute(file, "format_version", 0); }, errc::bad_input,
                   {"format_version 0"});
    expect_refusal([](hid_t file, hid_t) { H5Adelete(file, "format_version"); }, errc::bad_input,
                   {"/format_version is missing"});
    expect_refusal([](hid_t file, hid_t) { H5Adelete(file, "signcut_format"); }, errc::bad_input,
                   {"not a signcut decomposition", "signcut_format"});
    expect_refusal(
        [](hid_t file, hid_t) { set_fixed_string_attribute(file, "signcut_format", "netcdf", H5T_STR_NULLTERM); },
        errc::bad_input, {"not a signcut decomposition", "netcdf"});

    // Variable-length strings, refused by name from their type alone.
    for (const char* name : {"method", "original_dtype", "source", "signcut_version", "created"})
        expect_refusal([name](hid_t, hid_t group) { put_vlen_string(group, name, "x"); }, errc::bad_input,
                       {std::string("/decomposition/") + name + " is a variable-length string"});
    expect_refusal([](hid_t file, hid_t) { put_vlen_string(file, "signcut_format", "signcut-decomposition"); },
                   errc::bad_input, {"/signcut_format is a variable-length string"});

    // Missing and ill-typed attributes.
    for (const char* name : {"method", "shape", "original_dtype", "width", "scales_refit", "norm2", "source", "seed",
                             "signcut_version", "rel_fro_error", "created", "block_shape"})
        expect_refusal([name](hid_t, hid_t group) { H5Adelete(group, name); }, errc::bad_input,
                       {std::string("/decomposition/") + name + " is missing"});
    expect_refusal([](hid_t, hid_t group) { set_fixed_string_attribute(group, "method", "tucker", H5T_STR_NULLTERM); },
                   errc::bad_input, {"unknown method 'tucker'"});
    expect_refusal(
        [](hid_t, hid_t group) { set_fixed_string_attribute(group, "original_dtype", "float8", H5T_STR_NULLTERM); },
        errc::bad_input, {"original_dtype", "float8"});
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "scales_refit", {2}); }, errc::bad_input,
                   {"scales_refit", "expected 0 or 1"});
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "shape", {3, 0}, false); }, errc::bad_input,
                   {"/decomposition/shape", "3x0", "zero dimension"});

    // norm2.
    expect_refusal([](hid_t, hid_t group) { set_f64_attribute(group, "norm2", -1.0); }, errc::bad_input,
                   {"/decomposition/norm2 is -1", "finite value >= 0"});
    expect_refusal([](hid_t, hid_t group) { set_f64_attribute(group, "norm2", std::nan("")); }, errc::bad_input,
                   {"/decomposition/norm2 is nan"});
    expect_refusal(
        [](hid_t, hid_t group) { set_f64_attribute(group, "norm2", std::numeric_limits<double>::infinity()); },
        errc::bad_input, {"/decomposition/norm2 is inf"});

    // The block shape.
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "block_shape", {2, 32, 1}, false); },
                   errc::bad_input, {"/decomposition/block_shape has 3 entries, expected 2"});
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "block_shape", {2}, false); }, errc::bad_input,
                   {"/decomposition/block_shape has 1 entries, expected 2"});
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "block_shape", {0, 32}, false); },
                   errc::bad_input, {"/decomposition/block_shape is 0x32: entry 0 is 0, expected 1..3"});
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "block_shape", {2, 71}, false); },
                   errc::bad_input, {"entry 1 is 71, expected 1..70"});
    // Another valid block shape: the widths no longer fit the grid.
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "block_shape", {3, 70}, false); },
                   errc::bad_input, {"/decomposition/widths has 6 entries, expected 1"});

    // Widths, scales and signs against each other.
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "width", {14}); }, errc::bad_input,
                   {"/decomposition/width is 14 but /decomposition/widths sum to 13"});
    expect_refusal(
        [](hid_t, hid_t group) {
            // Same total, other split: the sign stream's length changes.
            const std::vector<std::uint32_t> w{3, 2, 0, 4, 1, 3};
            write_vector_values(group, "widths", H5T_NATIVE_UINT32, w);
        },
        errc::bad_input, {"/decomposition/signs has", "entries, expected"});
    expect_refusal(
        [](hid_t, hid_t group) {
            // Sums that overflow 32 bits are counted in full (a plain
            // uint32 dataset: the written one keeps only the bits its widths
            // need).
            const std::vector<std::uint32_t> w(6, UINT32_MAX);
            replace_vector(group, "widths", H5T_STD_U32LE, H5T_NATIVE_UINT32, w.size(), w.data(), w.size(),
                           [](hid_t dcpl) { H5Pset_fletcher32(dcpl); });
        },
        errc::bad_input, {"/decomposition/width is 13 but /decomposition/widths sum to 25769803770"});
    expect_refusal(
        [](hid_t, hid_t group) {
            const std::vector<float> s(14, 1.0f);
            replace_vector(group, "scales", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 14, s.data());
        },
        errc::bad_input, {"/decomposition/scales has 14 entries, expected 13"});
    expect_refusal(
        [](hid_t, hid_t group) {
            const std::vector<std::uint8_t> s(100, 0);
            replace_vector(group, "signs", H5T_STD_U8LE, H5T_NATIVE_UINT8, 100, s.data());
        },
        errc::bad_input, {"/decomposition/signs has 100 entries, expected"});
    expect_refusal(
        [](hid_t, hid_t group) {
            const std::vector<std::int32_t> w{3, 0, 2, 4, 1, 3};
            replace_vector(group, "widths", H5T_STD_I32LE, H5T_NATIVE_INT32, 6, w.data());
        },
        errc::bad_input, {"/decomposition/widths holds 4-byte signed integer values, expected uint32"});
    expect_refusal(
        [](hid_t, hid_t group) {
            const std::vector<double> s(13, 1.0);
            replace_vector(group, "scales", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 13, s.data());
        },
        errc::bad_input, {"/decomposition/scales holds 8-byte float values, expected float32"});
    expect_refusal([](hid_t, hid_t group) { H5Ldelete(group, "signs", H5P_DEFAULT); }, errc::bad_input,
                   {"dataset /decomposition/signs is missing"});
    expect_refusal(
        [](hid_t, hid_t group) {
            H5Ldelete(group, "widths", H5P_DEFAULT);
            H5Gclose(H5Gcreate2(group, "widths", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        },
        errc::bad_input, {"/decomposition/widths is not a dataset"});

    // Arrays not stored whole, or stored outside the file.
    expect_refusal([](hid_t, hid_t group) { replace_vector(group, "scales", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 13, nullptr, 4); },
                   errc::bad_input, {"/decomposition/scales stores 0 of its 4 chunks"});
    expect_refusal(
        [](hid_t, hid_t group) {
            // Only the first of four chunks written.
            replace_vector(group, "scales", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 13, nullptr, 4);
            hid_t d = H5Dopen2(group, "scales", H5P_DEFAULT);
            hid_t space = H5Dget_space(d);
            const hsize_t start = 0, count = 4;
            H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nullptr, &count, nullptr);
            hid_t memory = H5Screate_simple(1, &count, nullptr);
            const float v[4] = {1, 2, 3, 4};
            H5Dwrite(d, H5T_NATIVE_FLOAT, memory, space, H5P_DEFAULT, v);
            H5Sclose(memory);
            H5Sclose(space);
            H5Dclose(d);
        },
        errc::bad_input, {"/decomposition/scales stores 1 of its 4 chunks"});
    expect_refusal([](hid_t, hid_t group) { replace_vector(group, "scales", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 13, nullptr); },
                   errc::bad_input, {"/decomposition/scales stores 0 bytes for 13 entries of 4 bytes"});
    expect_refusal(
        [](hid_t, hid_t group) {
            replace_vector(group, "scales", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 13, nullptr, 0,
                           [](hid_t dcpl) { H5Pset_external(dcpl, "/dev/zero", 0, 52); });
        },
        errc::bad_input, {"/decomposition/scales keeps its data in external files"});

    // Links instead of objects.
    expect_refusal(
        [](hid_t, hid_t group) {
            H5Lmove(group, "signs", group, "source_attributes", H5P_DEFAULT, H5P_DEFAULT);
            H5Lcreate_soft("/decomposition/source_attributes", group, "signs", H5P_DEFAULT, H5P_DEFAULT);
        },
        errc::bad_input, {"/decomposition/signs is a soft link; version 2 holds objects only"});
    expect_refusal(
        [](hid_t, hid_t group) {
            H5Ldelete(group, "scales", H5P_DEFAULT);
            H5Lcreate_external("elsewhere.h5", "/scales", group, "scales", H5P_DEFAULT, H5P_DEFAULT);
        },
        errc::bad_input, {"/decomposition/scales is an external link"});
    expect_refusal(
        [](hid_t file, hid_t) {
            H5Lmove(file, "decomposition", file, "real", H5P_DEFAULT, H5P_DEFAULT);
            H5Lcreate_soft("/real", file, "decomposition", H5P_DEFAULT, H5P_DEFAULT);
        },
        errc::bad_input, {"/decomposition is a soft link"});

    // Anything else in the group.
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "comment", {1}); }, errc::bad_input,
                   {"/decomposition/comment is not an attribute of a version-2 sct decomposition"});
    expect_refusal([](hid_t, hid_t group) { set_u64_attribute(group, "matricize", {1}); }, errc::bad_input,
                   {"/decomposition/matricize is not an attribute"});
    expect_refusal(
        [](hid_t, hid_t group) {
            const float v = 1;
            replace_vector(group, "extra", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &v);
        },
        errc::bad_input, {"/decomposition/extra is not part of a version-2 sct decomposition"});
    expect_refusal([](hid_t, hid_t group) { H5Gclose(H5Gcreate2(group, "mode_0", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)); },
                   errc::bad_input, {"/decomposition/mode_0 is not part of"});
    expect_refusal(
        [](hid_t, hid_t group) {
            const float v = 1;
            replace_vector(group, "source_attributes", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &v);
        },
        errc::bad_input, {"/decomposition/source_attributes is not a group"});

    // Filters other than fletcher32, deflate, shuffle and nbit.
    expect_refusal(
        [](hid_t, hid_t group) {
            const std::vector<std::uint8_t> s = read_vector<std::uint8_t>(group, "signs", H5T_NATIVE_UINT8);
            replace_vector(group, "signs", H5T_STD_U8LE, H5T_NATIVE_UINT8, s.size(), s.data(), s.size(),
                           [](hid_t dcpl) { H5Pset_scaleoffset(dcpl, H5Z_SO_INT, H5Z_SO_INT_MINBITS_DEFAULT); });
        },
        errc::bad_input, {"/decomposition/signs uses HDF5 filter", "allows only fletcher32, deflate, shuffle and nbit"});

    // A source_attributes group is part of the format; deflate and shuffle
    // are allowed; neither changes what is read.
    const std::string fine = dir.file("fine.h5");
    fs::copy_file(good, fine);
    edit_file(fine, [](hid_t, hid_t group) {
        H5Gclose(H5Gcreate2(group, "source_attributes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        const std::vector<std::uint8_t> s = read_vector<std::uint8_t>(group, "signs", H5T_NATIVE_UINT8);
        replace_vector(group, "signs", H5T_STD_U8LE, H5T_NATIVE_UINT8, s.size(), s.data(), 7, [](hid_t dcpl) {
            H5Pset_shuffle(dcpl);
            H5Pset_deflate(dcpl, 6);
            H5Pset_fletcher32(dcpl);
        });
    });
    check_same_terms(sct_of(read_decomposition(fine, UINT64_MAX)), d);
}

BOOST_AUTO_TEST_CASE(refuses_damaged_version_2_arrays)
{
    ScratchDir dir;
    const SignedCutDecomposition d = blocked({3, 70}, {2, 32}, width_pattern(1), 78);
    const std::string good = dir.file("good.h5");
    write_decomposition(good, d, fixed_provenance(), false);

    // Non-finite scales (rewritten through HDF5, so the checksums agree).
    const std::string nan = dir.file("nan.h5");
    fs::copy_file(good, nan);
    edit_file(nan, [](hid_t, hid_t group) {
        std::vector<float> s = read_vector<float>(group, "scales", H5T_NATIVE_FLOAT);
        s[1] = std::numeric_limits<float>::quiet_NaN();
        s[8] = -std::numeric_limits<float>::infinity();
        write_vector_values(group, "scales", H5T_NATIVE_FLOAT, s);
    });
    check_error([&] { read_decomposition(nan, UINT64_MAX); }, errc::bad_input,
                {nan, "/decomposition/scales holds 2 non-finite values"});
    BOOST_TEST(read_decomposition_info(nan).width == 13u);  // `info` reads no scales

    // An unused bit of a segment's last byte. Block 0 is 2 x 32 with 3
    // terms: 3·34 = 102 bits, 13 bytes, bits 6 and 7 of byte 12 unused.
    const std::string unused = dir.file("unused.h5");
    fs::copy_file(good, unused);
    edit_file(unused, [](hid_t, hid_t group) {
        std::vector<std::uint8_t> s = read_vector<std::uint8_t>(group, "signs", H5T_NATIVE_UINT8);
        s[12] |= 0x80;
        write_vector_values(group, "signs", H5T_NATIVE_UINT8, s);
    });
    check_error([&] { read_decomposition(unused, UINT64_MAX); }, errc::bad_input,
                {unused, "/decomposition/signs has unused bits set in the last byte of block 0's segment (byte 12)"});
    BOOST_TEST(read_decomposition_info(unused).width == 13u);

    // A flipped byte on disk in any dataset's chunk: HDF5's fletcher32
    // checksum fails, and nothing is returned.
    for (const char* name : {"/decomposition/signs", "/decomposition/scales", "/decomposition/widths"}) {
        BOOST_TEST_CONTEXT(name)
        {
            const auto [address, size] = chunk_location(good, name);
            BOOST_TEST_REQUIRE(size > 4u);
            std::vector<unsigned char> bytes = read_bytes(good);
            bytes.at(address + 1) ^= 0x10;
            const std::string flipped = dir.file(fmt::format("flipped-{}.h5", fs::path(name).filename().string()));
            write_bytes(flipped, bytes.data(), bytes.size());
            check_error([&] { read_decomposition(flipped, UINT64_MAX); }, errc::bad_input,
                        {flipped, std::string("cannot read ") + name, "Fletcher32 checksum"});
        }
    }
}

BOOST_AUTO_TEST_CASE(refuses_claims_beyond_the_memory_limit_before_reading_arrays)
{
    ScratchDir dir;
    // A consistent file that claims a 2^20 x 2^20 tensor: 4 TiB to rebuild,
    // though the file itself holds 256 KiB of signs.
    SplitMix64 g(5);
    const std::string path = dir.file("big.h5");
    write_decomposition(path, SignedCutDecomposition(random_terms(Shape{1u << 20, 1u << 20}, 1, g)),
                        fixed_provenance(), false);
    check_error([&] { read_decomposition(path, 64ull << 30); }, errc::limit,
                {path, "1048576x1048576", std::to_string(64ull << 30) + " bytes"});
    // `info` needs no memory for the tensor.
    const DecompositionInfo info = read_decomposition_info(path);
    BOOST_TEST(info.shape == Shape({1u << 20, 1u << 20}), boost::test_tools::per_element());

    // 2^16 x 2^16 in 256 blocks: 16 GiB to rebuild whole, but a region
    // needs its own values and one 64 MiB block.
    const std::string tiled = dir.file("tiled.h5");
    write_decomposition(tiled,
                        blocked({1u << 16, 1u << 16}, {1u << 12, 1u << 12},
                                [](std::size_t b) { return b % 17 == 0 ? std::size_t{2} : std::size_t{0}; }, 6),
                        fixed_provenance(), false);
    check_error([&] { read_decomposition(tiled, 1ull << 30); }, errc::limit, {tiled, "65536x65536", "256 blocks"});
    const Region corner = parse_region("0:4,4090:4100", Shape{1u << 16, 1u << 16});
    const Decomposition part = read_decomposition(tiled, 160ull << 20, nullptr, &corner);
    BOOST_TEST(part.reconstruct(corner).size() == 40u);
    BOOST_TEST(sct_of(part).block(0).width() == 2u);

    // The threshold is exact (refused one byte below, read at it), and it
    // counts at least the reconstruction and every array.
    for (const GridCase& c : {GridCase{{10, 100}, {10, 100}}, GridCase{{10, 100}, {3, 16}}}) {
        BOOST_TEST_CONTEXT("blocks " << format_shape(c.block))
        {
            const SignedCutDecomposition d = blocked(c.shape, c.block, width_pattern(2), 80);
            const std::string small = dir.file(fmt::format("small-{}.h5", d.block_count()));
            write_decomposition(small, d, fixed_provenance(), false);
            const std::uint64_t needed = needed_bytes([&](std::uint64_t limit) { read_decomposition(small, limit); });
            std::uint64_t sign_bytes = 0, words = 0;
            for (std::size_t b = 0; b < d.block_count(); ++b) {
                sign_bytes += (d.block(b).width() * d.grid().signs_per_term(b) + 7) / 8;
                for (const std::size_t e : d.grid().extents(b)) words += d.block(b).width() * words_for(e);
            }
            const std::uint64_t floor = 1000 * 4 + d.block_count() * 4 + d.width() * 4 + sign_bytes + words * 8;
            BOOST_TEST(needed >= floor);
            BOOST_TEST(needed <= floor + d.block_count() * 1024 + d.width() * 8);
            check_error([&] { read_decomposition(small, needed - 1); }, errc::limit,
                        {std::to_string(needed) + " bytes", std::to_string(needed - 1) + " bytes"});
            BOOST_TEST(read_decomposition(small, needed).width() == d.width());
            // A region needs less: its values and one block's buffer.
            const Region region = parse_region("0:2,0:3", c.shape);
            const std::uint64_t region_needed =
                needed_bytes([&](std::uint64_t limit) { read_decomposition(small, limit, nullptr, &region); });
            if (!d.grid().is_whole()) BOOST_TEST(region_needed < needed);
            BOOST_TEST(read_decomposition(small, region_needed, nullptr, &region).width() <= d.width());
        }
    }

    // A damaged shape attribute that claims an absurd size: refused, not allocated.
    const std::string absurd = dir.file("absurd.h5");
    write_decomposition(absurd, hand_made({10, 100}, 3, 80).decomposition, fixed_provenance(), false);
    edit_file(absurd, [](hid_t, hid_t group) { set_u64_attribute(group, "shape", {1ull << 40, 1ull << 40}, false); });
    check_error([&] { read_decomposition(absurd, 1ull << 30); }, errc::limit, {absurd, "has more than 2^64 entries"});

    // A consistent file of no terms whose reconstruction alone needs more
    // than 2^64 bytes: refused even under a limit of 2^64 - 1.
    const std::string saturated = dir.file("saturated.h5");
    write_decomposition(saturated, hand_made({10, 100}, 0, 83).decomposition, fixed_provenance(), false);
    edit_file(saturated, [](hid_t, hid_t group) {
        set_u64_attribute(group, "shape", {1ull << 32, (1ull << 32) - 1}, false);
        set_u64_attribute(group, "block_shape", {1ull << 32, (1ull << 32) - 1}, false);
    });
    BOOST_TEST(read_decomposition_info(saturated).shape == Shape({1ull << 32, (1ull << 32) - 1}),
               boost::test_tools::per_element());
    check_error([&] { read_decomposition(saturated, UINT64_MAX); }, errc::limit,
                {saturated, "needs over 2^64 bytes", "18446744073709551615 bytes"});

    // A consistent claim of 2^24 blocks (deflated zeros, all stored): the
    // widths alone pass the limit, and are refused before they are read.
    const std::string many = dir.file("many-blocks.h5");
    write_decomposition(many, hand_made({4096, 4096}, 0, 81).decomposition, fixed_provenance(), false);
    edit_file(many, [](hid_t, hid_t group) {
        set_u64_attribute(group, "block_shape", {1, 1}, false);
        replace_vector(group, "widths", H5T_STD_U32LE, H5T_NATIVE_UINT32, hsize_t{1} << 24, nullptr, hsize_t{1} << 22,
                       [](hid_t dcpl) {
                           const std::uint32_t zero = 0;
                           H5Pset_deflate(dcpl, 1);
                           H5Pset_fletcher32(dcpl);
                           H5Pset_fill_value(dcpl, H5T_NATIVE_UINT32, &zero);
                           H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
                           H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
                       });
    });
    BOOST_TEST(fs::file_size(many) < (std::uint64_t{1} << 20));
    check_error([&] { read_decomposition(many, 100ull << 20); }, errc::limit,
                {many, "holds 16777216 blocks: reading their widths needs 201326592 bytes",
                 std::to_string(100ull << 20) + " bytes"});

    // A claim whose arrays are never written is refused before anything is
    // read: missing chunks would read as zeros that no checksum covers.
    const std::string unwritten = dir.file("unwritten.h5");
    write_decomposition(unwritten, hand_made({1u << 20, 1u << 20}, 0, 82).decomposition, fixed_provenance(), false);
    edit_file(unwritten, [](hid_t, hid_t group) {
        set_u64_attribute(group, "block_shape", {1, 1}, false);
        replace_vector(group, "widths", H5T_STD_U32LE, H5T_NATIVE_UINT32, hsize_t{1} << 40, nullptr, 1024);
    });
    check_error([&] { read_decomposition(unwritten, 1ull << 30); }, errc::bad_input,
                {unwritten, "/decomposition/widths stores 0 of its 1073741824 chunks"});
    check_error([&] { read_decomposition_info(unwritten); }, errc::bad_input,
                {unwritten, "/decomposition/widths stores 0 of its 1073741824 chunks"});
}

BOOST_AUTO_TEST_CASE(a_region_reads_only_the_blocks_it_touches)
{
    ScratchDir dir;
    for (const GridCase& c : {GridCase{{17, 33}, {4, 8}}, GridCase{{9, 10, 11}, {4, 4, 4}},
                              GridCase{{2, 3, 129, 5}, {1, 2, 64, 5}}, GridCase{{200}, {7}}}) {
        BOOST_TEST_CONTEXT("shape " << format_shape(c.shape) << " blocks " << format_shape(c.block))
        {
            const SignedCutDecomposition d = blocked(c.shape, c.block, width_pattern(2), 90);
            const std::string path = dir.file("region.h5");
            fs::remove(path);
            write_decomposition(path, d, fixed_provenance(), false);
            const Decomposition full = read_decomposition(path, UINT64_MAX);
            std::string text;
            for (std::size_t a = 0; a < c.shape.size(); ++a) {
                if (a > 0) text += ',';
                text += a % 2 == 0 ? fmt::format("{}:{}", c.shape[a] / 3, c.shape[a] - 1)
                                   : fmt::format("{}", c.shape[a] / 2);
            }
            const Region region = parse_region(text, c.shape);
            const Decomposition part = read_decomposition(path, UINT64_MAX, nullptr, &region);
            const SignedCutDecomposition& p = sct_of(part);
            std::size_t touched = 0;
            for (std::size_t b = 0; b < d.block_count(); ++b) {
                const Shape o = d.grid().origin(b), e = d.grid().extents(b);
                bool hit = true;
                for (std::size_t a = 0; a < c.shape.size(); ++a)
                    hit = hit && o[a] < region[a].stop && o[a] + e[a] > region[a].start;
                BOOST_TEST_CONTEXT("block " << b)
                {
                    BOOST_TEST(p.block(b).shape() == e, boost::test_tools::per_element());
                    if (hit) {
                        ++touched;
                        BOOST_TEST(p.block(b).width() == d.block(b).width());
                        BOOST_TEST(p.block(b).scales() == d.block(b).scales(), boost::test_tools::per_element());
                        for (std::size_t a = 0; a < c.shape.size(); ++a)
                            BOOST_TEST((p.block(b).signs(a) == d.block(b).signs(a)));
                    } else {
                        BOOST_TEST(p.block(b).width() == 0u);
                    }
                }
            }
            BOOST_TEST(touched < d.block_count());
            // The region equals the same slice of the full reconstruction.
            const Tensor a = part.reconstruct(region), b = full.reconstruct(region);
            BOOST_TEST_REQUIRE(a.size() == b.size());
            BOOST_TEST(std::equal(a.begin(), a.end(), b.begin()));
        }
    }

    // Damage in blocks the region does not touch goes unread; a full read
    // refuses it.
    const SignedCutDecomposition d = blocked({3, 70}, {2, 32}, width_pattern(1), 91);
    const std::string path = dir.file("damaged.h5");
    write_decomposition(path, d, fixed_provenance(), false);
    edit_file(path, [](hid_t, hid_t group) {
        std::vector<std::uint8_t> s = read_vector<std::uint8_t>(group, "signs", H5T_NATIVE_UINT8);
        s[12] |= 0x80;  // block 0's unused bits
        write_vector_values(group, "signs", H5T_NATIVE_UINT8, s);
        std::vector<float> c = read_vector<float>(group, "scales", H5T_NATIVE_FLOAT);
        c[0] = std::numeric_limits<float>::quiet_NaN();  // block 0's first scale
        write_vector_values(group, "scales", H5T_NATIVE_FLOAT, c);
    });
    check_error([&] { read_decomposition(path, UINT64_MAX); }, errc::bad_input, {"non-finite"});
    const Region far = parse_region("2,40:70", Shape{3, 70});  // blocks 4 and 5
    const Decomposition part = read_decomposition(path, UINT64_MAX, nullptr, &far);
    BOOST_TEST(sct_of(part).block(0).width() == 0u);
    BOOST_TEST(sct_of(part).block(5).width() == d.block(5).width());
}

BOOST_AUTO_TEST_CASE(refuses_truncated_foreign_and_missing_files)
{
    ScratchDir dir;
    const SignedCutDecomposition d = blocked({3, 65, 7}, {2, 32, 7}, width_pattern(2), 81);
    const std::string good = dir.file("good.h5");
    write_decomposition(good, d, fixed_provenance(), false);
    const std::vector<unsigned char> bytes = read_bytes(good);
    for (const std::size_t keep : {bytes.size() / 2, bytes.size() - 1, std::size_t{100}}) {
        const std::string cut = dir.file(fmt::format("cut-{}.h5", keep));
        write_bytes(cut, bytes.data(), keep);
        BOOST_TEST_CONTEXT("kept " << keep << " of " << bytes.size() << " bytes")
        {
            check_error([&] { read_decomposition(cut, UINT64_MAX); }, errc::bad_input, {cut});
        }
    }

    const std::string text = dir.file("text.h5");
    write_text(text, std::string(4096, 'x'));
    check_error([&] { read_decomposition(text, UINT64_MAX); }, errc::bad_input, {text, "not an HDF5 file"});
    check_error([&] { read_decomposition_info(text); }, errc::bad_input, {text, "not an HDF5 file"});

    const std::string missing = dir.file("missing.h5");
    check_error([&] { read_decomposition(missing, UINT64_MAX); }, errc::io, {missing, "No such file"});

    // An HDF5 file that is not a decomposition (a plain dataset).
    const std::string plain = dir.file("plain.h5");
    const std::vector<float> v(4, 1.0f);
    raw_write(plain, "/data", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {4}, v.data());
    check_error([&] { read_decomposition_info(plain); }, errc::bad_input, {plain, "not a signcut decomposition"});
}

BOOST_AUTO_TEST_CASE(writer_refuses_bad_input)
{
    ScratchDir dir;
    const std::string path = dir.file("out.h5");
    check_error([&] { write_decomposition(path, SignedCutDecomposition{}, Provenance{}, false); },
                errc::invalid_argument, {path, "order 0"});
    Provenance p;
    p.original_dtype = "float128";
    check_error([&] { write_decomposition(path, hand_made({4}, 1, 1).decomposition, p, false); },
                errc::invalid_argument, {"float128"});
    for (const double norm2 : {-1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
        Provenance q;
        q.norm2 = norm2;
        check_error([&] { write_decomposition(path, hand_made({4}, 1, 1).decomposition, q, false); },
                    errc::invalid_argument, {path, "norm2"});
    }
    SignedCutTerms t(Shape{4});
    const std::vector<SignVector> one{SignVector(4)};
    t.append(std::numeric_limits<float>::infinity(), one);
    check_error([&] { write_decomposition(path, SignedCutDecomposition(t), Provenance{}, false); },
                errc::invalid_argument, {path, "scale 0 of block 0 is inf"});
    BOOST_TEST(dir.entries().empty());
}

BOOST_AUTO_TEST_CASE(h5dump_reads_the_file)
{
    ScratchDir dir;
    const std::string path = dir.file("dump.h5");
    write_decomposition(path, blocked({3, 65, 7}, {2, 32, 7}, width_pattern(2), 11), fixed_provenance(), false);
    const CommandResult r = run_command("/usr/bin/h5dump " + shell_quote(path));
    BOOST_TEST(r.exit_code == 0, r.output);
    for (const char* expected :
         {"signcut-decomposition", "format_version", "GROUP \"decomposition\"", "DATASET \"scales\"",
          "DATASET \"widths\"", "DATASET \"signs\"", "32-bit little-endian unsigned integer",
          "H5T_STD_U8LE", "H5T_IEEE_F32LE",
          "STRSIZE 22", "H5T_STR_NULLTERM", "H5T_CSET_UTF8", "2024-02-29T23:59:58Z"})
        BOOST_TEST(r.output.find(expected) != std::string::npos, "h5dump output lacks " << expected);
    BOOST_TEST(r.output.find("H5T_VARIABLE") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_object_records_a_time)
{
    ScratchDir dir;
    // The probe itself: a file written with HDF5's defaults does carry times.
    const std::string plain = dir.file("plain.h5");
    const float one = 1.0f;
    raw_write(plain, "/x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {1}, &one);
    BOOST_TEST_REQUIRE(object_times(plain, "/x")[2] != 0);

    const std::string path = dir.file("untimed.h5");
    write_decomposition(path, blocked({3, 65}, {2, 60}, width_pattern(1), 5), fixed_provenance(), false);
    for (const char* object :
         {"/", "/decomposition", "/decomposition/widths", "/decomposition/scales", "/decomposition/signs"}) {
        const std::array<time_t, 4> times = object_times(path, object);
        BOOST_TEST((times == std::array<time_t, 4>{}), object << " records a time");
    }
    const std::string dataset = dir.file("dataset.h5");
    write_dataset(dataset, "/a/b", &one, Shape{1}, "float32", false);
    for (const char* object : {"/", "/a", "/a/b"}) {
        const std::array<time_t, 4> times = object_times(dataset, object);
        BOOST_TEST((times == std::array<time_t, 4>{}), object << " records a time");
    }
}

BOOST_AUTO_TEST_CASE(equal_inputs_give_identical_bytes)
{
    ScratchDir dir;
    const SignedCutDecomposition d = blocked({2, 3, 129, 5}, {1, 2, 64, 5}, width_pattern(2), 21);
    Provenance p = fixed_provenance();
    const std::string a = dir.file("a.h5"), b = dir.file("b.h5"), c = dir.file("c.h5");
    write_decomposition(a, d, p, false);
    // HDF5 times have one-second resolution: let the clock move on, so a
    // recorded time could not go unnoticed.
    ::usleep(1'100'000);
    write_decomposition(b, d, p, false);
    const std::vector<unsigned char> ba = read_bytes(a), bb = read_bytes(b);
    BOOST_TEST(ba.size() == bb.size());
    BOOST_TEST((ba == bb), "two writes of the same decomposition differ");

    // Only `created` differs between runs; with another timestamp of the
    // same length, the files differ in that string's bytes and in the
    // checksum (4 bytes) of the object header that holds it.
    p.created = "2031-11-05T01:02:03Z";
    write_decomposition(c, d, p, false);
    const std::vector<unsigned char> bc = read_bytes(c);
    BOOST_TEST_REQUIRE(ba.size() == bc.size());
    std::vector<std::size_t> differing;
    for (std::size_t i = 0; i < ba.size(); ++i)
        if (ba[i] != bc[i]) differing.push_back(i);
    BOOST_TEST_REQUIRE(!differing.empty(), "changing `created` changed nothing");
    // Split into runs of nearby bytes: the string and the checksum.
    std::vector<std::pair<std::size_t, std::size_t>> runs;
    for (const std::size_t i : differing)
        if (runs.empty() || i > runs.back().second + 4)
            runs.emplace_back(i, i);
        else
            runs.back().second = i;
    BOOST_TEST_REQUIRE(runs.size() <= 2u);
    std::vector<std::size_t> lengths;
    for (const auto& [begin, end] : runs) lengths.push_back(end - begin + 1);
    std::sort(lengths.begin(), lengths.end());
    BOOST_TEST(lengths.back() <= p.created.size());
    if (lengths.size() == 2) BOOST_TEST(lengths.front() <= 4u);
}

BOOST_AUTO_TEST_SUITE_END()
