// Decomposition files of format version 3: sct files some of whose blocks
// are stored by zfp (docs/FORMAT.md, "Version 3"). Bit-exact round trips of
// mixed blocks (edge blocks, planes of modes shorter than 4), the stored
// sizes against the payload, whole, region and slab-by-slab reads, the
// refusals of damaged files, version 2 unchanged for decompositions without
// coded blocks, and the Python reader of FORMAT.md.
#include <boost/test/unit_test.hpp>

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
#include "signcut/decompose.hpp"
#include "signcut/deflated_signs.hpp"
#include "signcut/zfp_block_codec.hpp"

#ifndef SIGNCUT_SOURCE_DIR
#error "SIGNCUT_SOURCE_DIR must name the source tree (for docs/FORMAT.md)"
#endif

namespace signcut {
// Boost.Test prints the operands of a failed comparison.
static std::ostream& operator<<(std::ostream& o, CodecId c) { return o << "codec " << static_cast<int>(c); }
}  // namespace signcut

using namespace signcut;
using namespace signcut::testing;

namespace {

struct GridCase {
    Shape shape, block;
};

/// Grids with zfp-storable blocks: 1-D to 4-D fields, RGB-like modes of 3
/// (one plane per channel), edge blocks cut short (to extents below 4 as
/// well: more plane modes, or none left for zfp's field).
const std::vector<GridCase>& grids()
{
    static const std::vector<GridCase> cases{
        {{100}, {32}},                  // 1-D, edge block of 4
        {{37, 45, 3}, {16, 16, 3}},     // RGB tiles, edge blocks 5x16x3, 16x13x3, 5x13x3
        {{26, 30, 3}, {8, 8, 3}},       // edge blocks of 2 rows: plane modes 0 and 2 (6 streams)
        {{9, 10, 11}, {4, 4, 4}},       // edge extents 1..3: some blocks zfp cannot store
        {{6, 8, 5, 7}, {4, 4, 4, 4}},   // 4-D fields
        {{2, 40, 3, 12}, {1, 16, 3, 12}},  // plane modes 0 and 2 around a 2-D field
        {{40, 50}, {40, 50}},           // one block, the whole tensor
    };
    return cases;
}

Provenance fixed_provenance()
{
    Provenance p;
    p.original_dtype = "float32";
    p.source = "field.h5:/temperature";
    p.seed = 42;
    p.signcut_version = "9.8.7";
    p.rel_fro_error = 0.0625;
    p.created = "2024-02-29T23:59:58Z";
    p.norm2 = 12345.678901234;
    return p;
}

/// A smooth field with some texture, C order.
std::vector<float> smooth_field(const Shape& shape, std::uint64_t seed)
{
    SplitMix64 g(seed);
    std::uint64_t n = 1;
    for (const std::size_t d : shape) n *= d;
    std::vector<float> x(n);
    std::vector<std::size_t> index(shape.size(), 0);
    for (std::uint64_t i = 0; i < n; ++i) {
        double v = 0;
        for (std::size_t a = 0; a < shape.size(); ++a)
            v += std::sin(0.21 * static_cast<double>(index[a]) * static_cast<double>(a + 1) + static_cast<double>(a));
        x[i] = static_cast<float>(3.0 * v + 0.05 * (g.uniform() - 0.5));
        for (std::size_t a = shape.size(); a-- > 0;) {
            if (++index[a] < shape[a]) break;
            index[a] = 0;
        }
    }
    return x;
}

/// A decomposition in which the blocks `zfp_of` picks (and zfp can store)
/// are coded by zfp from a smooth field, at one of their operating points,
/// and every other block holds random signed cut terms.
SignedCutDecomposition mixed(const Shape& shape, const Shape& block, const std::function<bool(std::size_t)>& zfp_of,
                             std::uint64_t seed, bool richest = false)
{
    const auto codec = zfp_block_codec();
    BlockGrid grid(shape, block);
    const std::vector<float> field = smooth_field(shape, seed);
    SplitMix64 g(seed);
    std::vector<SignedCutTerms> blocks;
    std::vector<CodedBlock> coded(grid.count());
    for (std::size_t b = 0; b < grid.count(); ++b) {
        const Shape e = grid.extents(b);
        if (zfp_of(b) && codec->stream_count(e) > 0) {
            std::vector<float> values(grid.block_size(b));
            grid.gather(b, field.data(), values.data());
            const std::vector<CodecPoint> points = codec->points(values, e, 32 * values.size() + 4096);
            BOOST_TEST_REQUIRE(!points.empty());
            const CodecPoint& point = richest ? points.back() : points[(b * 7) % points.size()];
            coded[b] = codec->encode(values, e, point.setting);
            blocks.emplace_back(e);
        } else {
            blocks.push_back(random_terms(e, (b * 5 + 2) % 4, g));
        }
    }
    return SignedCutDecomposition(std::move(grid), std::move(blocks), std::move(coded), {codec});
}

/// Every other storable block zfp, the rest signed cuts.
bool every_other(std::size_t b) { return b % 2 == 1 || b == 0; }

/// Same codecs, same streams byte for byte, same terms bit for bit.
void check_same_blocks(const SignedCutDecomposition& a, const SignedCutDecomposition& b)
{
    BOOST_TEST_REQUIRE(a.shape() == b.shape(), boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(a.block_shape() == b.block_shape(), boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(a.block_count() == b.block_count());
    BOOST_TEST(a.format_version() == b.format_version());
    for (std::size_t k = 0; k < a.block_count(); ++k) {
        BOOST_TEST_CONTEXT("block " << k)
        {
            BOOST_TEST_REQUIRE(static_cast<int>(a.codec(k)) == static_cast<int>(b.codec(k)));
            BOOST_TEST_REQUIRE(a.coded(k).streams.size() == b.coded(k).streams.size());
            for (std::size_t s = 0; s < a.coded(k).streams.size(); ++s)
                BOOST_TEST(a.coded(k).streams[s] == b.coded(k).streams[s], boost::test_tools::per_element());
            const SignedCutTerms &x = a.block(k), &y = b.block(k);
            BOOST_TEST_REQUIRE(x.width() == y.width());
            for (std::size_t j = 0; j < x.width(); ++j)
                BOOST_TEST(std::bit_cast<std::uint32_t>(x.scales()[j]) == std::bit_cast<std::uint32_t>(y.scales()[j]));
            for (std::size_t m = 0; m < x.order(); ++m) BOOST_TEST((x.signs(m) == y.signs(m)), "mode " << m);
        }
    }
}

bool same_bits(const Tensor& a, const Tensor& b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::uint64_t payload_total(const SignedCutDecomposition& d) { return d.payload().bits() / 8; }

/// Replaces (or adds) a dataset of `group`, chunked with fletcher32 as a
/// version-2 writer would (contiguous when empty).
void replace_dataset(hid_t group, const char* name, hid_t file_type, hid_t memory_type, std::vector<hsize_t> dims,
                     const void* data)
{
    if (H5Lexists(group, name, H5P_DEFAULT) > 0) H5Ldelete(group, name, H5P_DEFAULT);
    hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t n = 1;
    for (const hsize_t d : dims) n *= d;
    if (n > 0) {
        H5Pset_chunk(dcpl, static_cast<int>(dims.size()), dims.data());
        H5Pset_fletcher32(dcpl);
    }
    hid_t d = H5Dcreate2(group, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(d >= 0);
    if (n > 0) BOOST_TEST_REQUIRE(H5Dwrite(d, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
}

/// The stored layout of one dataset.
struct Stored {
    std::uint64_t bytes = 0, chunk = 0, length = 0;
    H5D_layout_t layout = H5D_LAYOUT_ERROR;
    bool fletcher32 = false;
    bool nbit = false;
    bool type_ok = false;
};

/// The short scales' type as docs/FORMAT.md describes it: IEEE float32's
/// sign, exponent and top 4 mantissa bits, precision 13 at bit offset 19 of
/// a 4-byte little-endian float.
hid_t documented_short_scale_type()
{
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    BOOST_TEST_REQUIRE(H5Tset_fields(t, 31, 23, 8, 19, 4) >= 0);
    BOOST_TEST_REQUIRE(H5Tset_offset(t, 19) >= 0);
    BOOST_TEST_REQUIRE(H5Tset_precision(t, 13) >= 0);
    BOOST_TEST_REQUIRE(H5Tset_size(t, 4) >= 0);
    return t;
}

Stored stored(const std::string& path, const std::string& dataset, hid_t expected_type)
{
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    hid_t d = H5Dopen2(file, dataset.c_str(), H5P_DEFAULT);
    BOOST_TEST_REQUIRE(d >= 0, dataset);
    Stored s;
    s.bytes = H5Dget_storage_size(d);
    hid_t type = H5Dget_type(d);
    s.type_ok = H5Tequal(type, expected_type) > 0;
    H5Tclose(type);
    hid_t space = H5Dget_space(d);
    BOOST_TEST(H5Sget_simple_extent_ndims(space) == 1);
    s.length = static_cast<std::uint64_t>(H5Sget_simple_extent_npoints(space));
    H5Sclose(space);
    hid_t dcpl = H5Dget_create_plist(d);
    s.layout = H5Pget_layout(dcpl);
    if (s.layout == H5D_CHUNKED) {
        hsize_t chunk = 0;
        H5Pget_chunk(dcpl, 1, &chunk);
        s.chunk = chunk;
    }
    for (int i = 0; i < H5Pget_nfilters(dcpl); ++i) {
        unsigned flags = 0, config = 0;
        std::size_t n = 0;
        char name[64];
        const H5Z_filter_t id =
            H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &n, nullptr, sizeof name, name, &config);
        s.fletcher32 = s.fletcher32 || id == H5Z_FILTER_FLETCHER32;
        s.nbit = s.nbit || id == H5Z_FILTER_NBIT;
    }
    H5Pclose(dcpl);
    H5Dclose(d);
    H5Fclose(file);
    return s;
}

std::int32_t root_version(const std::string& path)
{
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    std::int32_t v = 0;
    hid_t a = H5Aopen(file, "format_version", H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_INT32, &v);
    H5Aclose(a);
    H5Fclose(file);
    return v;
}

bool has_link(const std::string& path, const char* name)
{
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    const bool yes = H5Lexists(file, name, H5P_DEFAULT) > 0;
    H5Fclose(file);
    return yes;
}

/// The values of the dataset `name` of an output file, as float64.
std::vector<double> read_output(const std::string& path, const char* name = "/data")
{
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(d >= 0);
    hid_t space = H5Dget_space(d);
    std::vector<double> v(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    BOOST_TEST_REQUIRE(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
    H5Sclose(space);
    H5Dclose(d);
    H5Fclose(file);
    return v;
}

/// "a:b" on even modes, an index on odd ones (dropping them), and a range
/// for the last mode, so that regions cut edge blocks and planes.
Region cut_region(const Shape& shape)
{
    std::string text;
    for (std::size_t a = 0; a < shape.size(); ++a) {
        if (a > 0) text += ',';
        if (a % 2 == 1 && a + 1 < shape.size())
            text += fmt::format("{}", shape[a] / 2);
        else
            text += fmt::format("{}:{}", shape[a] / 3, shape[a] - (shape[a] > 2 ? 1 : 0));
    }
    return parse_region(text, shape);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(format_v3)

BOOST_AUTO_TEST_CASE(round_trip_keeps_every_block_stream_and_term)
{
    ScratchDir dir;
    std::uint64_t seed = 1;
    for (const GridCase& c : grids()) {
        BOOST_TEST_CONTEXT("shape " << format_shape(c.shape) << " blocks " << format_shape(c.block))
        {
            const SignedCutDecomposition d = mixed(c.shape, c.block, every_other, seed++);
            BOOST_TEST_REQUIRE(d.coded_block_count() > 0u);
            BOOST_TEST_REQUIRE(d.format_version() == 3);
            const std::string path = dir.file(fmt::format("rt-{}.h5", seed));
            write_decomposition(path, d, fixed_provenance(), false);
            BOOST_TEST(root_version(path) == 3);

            DecompositionInfo info;
            const Decomposition any = read_decomposition(path, UINT64_MAX, &info);
            const SignedCutDecomposition& back = sct_of(any);
            check_same_blocks(back, d);
            BOOST_TEST(back.coded_block_count() == d.coded_block_count());
            // The same values, bit for bit, in float32 and float64.
            BOOST_TEST(same_bits(back.reconstruct(), d.reconstruct()));
            BOOST_TEST(back.reconstruct_float64() == d.reconstruct_float64(), boost::test_tools::per_element());
            // The zfp blocks are their codec's decoding, exactly.
            const Tensor all = back.reconstruct();
            for (std::size_t b = 0; b < d.block_count(); ++b) {
                if (d.codec(b) == CodecId::sct) continue;
                std::vector<float> decoded(d.grid().block_size(b)), placed(d.grid().block_size(b));
                zfp_block_codec()->decode(d.coded(b), d.grid().extents(b), decoded);
                d.grid().gather(b, all.data(), placed.data());
                BOOST_TEST(std::memcmp(decoded.data(), placed.data(), decoded.size() * sizeof(float)) == 0,
                           "block " << b);
            }

            BOOST_TEST(info.format_version == 3);
            BOOST_TEST_REQUIRE(info.codecs.size() == d.block_count());
            for (std::size_t b = 0; b < d.block_count(); ++b)
                BOOST_TEST(static_cast<int>(info.codecs[b]) == static_cast<int>(d.codec(b)));
            const CodedStorage storage = d.coded_storage();
            BOOST_TEST(info.coded_streams == storage.streams);
            BOOST_TEST(info.stream_bytes == storage.stream_bytes);
            BOOST_TEST(info.blocks_of(CodecId::zfp) == d.coded_block_count());
            BOOST_TEST(info.blocks_of(CodecId::sct) == d.block_count() - d.coded_block_count());
            BOOST_TEST(info.width == d.width());
            BOOST_TEST(info.payload_bytes == payload_total(d));
            BOOST_TEST(info.bits_per_value() == d.bits_per_value());
            BOOST_TEST(any.bits_per_value() == d.bits_per_value());
            BOOST_TEST(info.counted_bits_per_value() == d.counted_bits_per_value(),
                       boost::test_tools::tolerance(1e-12));

            // `info` reads the same metadata without the arrays.
            const DecompositionInfo meta = read_decomposition_info(path);
            BOOST_TEST(meta.payload_bytes == info.payload_bytes);
            BOOST_TEST(meta.coded_streams == info.coded_streams);
            BOOST_TEST(meta.codecs.size() == info.codecs.size());

            // Written again from what was read: the same bytes.
            const std::string again = dir.file(fmt::format("rt-{}-again.h5", seed));
            write_decomposition(again, back, fixed_provenance(), false);
            BOOST_TEST(read_bytes(again) == read_bytes(path));

            // Into a group of another file (-o FILE.h5:/group).
            const std::string host = dir.file(fmt::format("host-{}.h5", seed));
            raw_write(host, "/other", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {1}, std::vector<float>{1.0f}.data());
            write_decomposition(host, d, fixed_provenance(), true, "/results/t");
            const Decomposition inner = read_decomposition(host + ":/results/t", UINT64_MAX);
            check_same_blocks(sct_of(inner), d);
            BOOST_TEST(read_decomposition_info(host + ":/results/t").format_version == 3);
        }
    }
}

BOOST_AUTO_TEST_CASE(planes_are_the_modes_shorter_than_four)
{
    // 26 x 30 x 3 in blocks of 8 x 8 x 3: a full block has one plane per
    // channel; an edge block of 2 x 8 x 3 has 2 x 3 planes, each a 1-D field.
    const auto codec = zfp_block_codec();
    BOOST_TEST(codec->stream_count({8, 8, 3}) == 3u);
    BOOST_TEST(codec->stream_count({2, 8, 3}) == 6u);
    BOOST_TEST(codec->stream_count({2, 6, 3}) == 6u);
    BOOST_TEST(codec->stream_count({2, 3, 3}) == 0u);
    BOOST_TEST(codec->stream_count({4, 4, 4, 4, 4}) == 0u);
    const SignedCutDecomposition d = mixed({26, 30, 3}, {8, 8, 3}, [](std::size_t) { return true; }, 7);
    std::size_t six = 0;
    for (std::size_t b = 0; b < d.block_count(); ++b)
        if (d.codec(b) == CodecId::zfp && d.coded(b).streams.size() == 6) ++six;
    BOOST_TEST(six == 4u);  // the four blocks of the last block row
    ScratchDir dir;
    const std::string path = dir.file("planes.h5");
    write_decomposition(path, d, fixed_provenance(), false);
    check_same_blocks(sct_of(read_decomposition(path, UINT64_MAX)), d);
}

BOOST_AUTO_TEST_CASE(stored_sizes_are_the_payload)
{
    ScratchDir dir;
    struct Sized {
        Shape shape, block;
        std::function<bool(std::size_t)> zfp;
        bool richest = false;
    };
    const std::vector<Sized> cases{
        {{37, 45, 3}, {16, 16, 3}, every_other},
        {{9, 10, 11}, {4, 4, 4}, [](std::size_t b) { return b % 3 == 0; }},
        {{40, 50}, {8, 8}, [](std::size_t) { return true; }},  // no terms at all: scales and signs [0]
        // Streams of more than 1 MiB: several chunks.
        {{2048, 1024}, {64, 64}, [](std::size_t b) { return b % 8 != 0; }, true},
    };
    std::uint64_t seed = 50;
    for (const Sized& c : cases) {
        BOOST_TEST_CONTEXT("shape " << format_shape(c.shape) << " blocks " << format_shape(c.block))
        {
            const SignedCutDecomposition d = mixed(c.shape, c.block, c.zfp, seed++, c.richest);
            const std::string path = dir.file(fmt::format("sized-{}.h5", seed));
            write_decomposition(path, d, fixed_provenance(), false);
            std::uint64_t sign_bytes = 0;
            for (std::size_t b = 0; b < d.block_count(); ++b)
                sign_bytes += (d.block(b).width() * d.grid().signs_per_term(b) + 7) / 8;
            const CodedStorage storage = d.coded_storage();
            const Payload p = d.payload();
            const bool short_scales = d.scale_bits() == short_scale_bits;
            const hid_t scale_type = short_scales ? documented_short_scale_type() : H5Tcopy(H5T_IEEE_F32LE);
            std::uint64_t max_width = 0;
            for (std::size_t b = 0; b < d.block_count(); ++b)
                max_width = std::max<std::uint64_t>(max_width, d.block(b).width());
            // Widths: a uint32 of precision width_bits(max), n-bit packed.
            const hid_t widths_type = H5Tcopy(H5T_STD_U32LE);
            BOOST_TEST_REQUIRE(H5Tset_precision(widths_type, width_bits(max_width)) >= 0);
            std::uint64_t total = 0;
            for (const auto& [name, length, size, type, expected] :
                 {std::tuple{"/decomposition/widths", std::uint64_t(d.block_count()), std::size_t{4}, widths_type,
                             p.widths_bytes},
                  std::tuple{"/decomposition/scales", d.width(), std::size_t{4}, scale_type, p.scales_bytes},
                  std::tuple{"/decomposition/signs", sign_bytes, std::size_t{1}, H5T_STD_U8LE, p.signs_bytes},
                  std::tuple{"/decomposition/codecs", std::uint64_t(d.block_count()), std::size_t{1}, H5T_STD_U8LE,
                             p.codecs_bytes},
                  std::tuple{"/decomposition/stream_sizes", storage.streams, std::size_t{4}, H5T_STD_U32LE,
                             p.stream_sizes_bytes},
                  std::tuple{"/decomposition/streams", storage.stream_bytes, std::size_t{1}, H5T_STD_U8LE,
                             p.streams_bytes}}) {
                BOOST_TEST_CONTEXT(name)
                {
                    const Stored s = stored(path, name, type);
                    BOOST_TEST(s.type_ok);
                    BOOST_TEST(s.length == length);
                    // Widths and short scales are packed by the n-bit
                    // filter; nothing else is.
                    const std::string item(name);
                    const bool packed_widths = item == "/decomposition/widths" && width_bits(max_width) < 32;
                    const bool packed_scales = short_scales && item == "/decomposition/scales";
                    BOOST_TEST(s.bytes == (packed_widths   ? stored_widths_bytes(length, max_width)
                                           : packed_scales ? stored_packed_dataset_bytes(length, short_scale_bits)
                                                           : stored_dataset_bytes(length, size)));
                    BOOST_TEST(s.nbit == ((packed_widths || packed_scales) && length > 0));
                    BOOST_TEST(s.bytes == expected);
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
            H5Tclose(scale_type);
            H5Tclose(widths_type);
            BOOST_TEST(read_decomposition_info(path).payload_bytes == total);
            // What the file adds beyond its payload stays small.
            BOOST_TEST(fs::file_size(path) - total <= 24u * 1024u);
            if (c.richest) BOOST_TEST(stored(path, "/decomposition/streams", H5T_STD_U8LE).chunk < storage.stream_bytes);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_stream_bytes_are_the_codec_streams_in_block_and_plane_order)
{
    // Read with the plain HDF5 API: codecs, then the stream sizes and bytes
    // of the coded blocks in block order, each block's planes in order.
    const SignedCutDecomposition d = mixed({37, 45, 3}, {16, 16, 3}, every_other, 11);
    ScratchDir dir;
    const std::string path = dir.file("order.h5");
    write_decomposition(path, d, fixed_provenance(), false);
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t g = H5Gopen2(file, "/decomposition", H5P_DEFAULT);
    const auto codecs = read_vector<std::uint8_t>(g, "codecs", H5T_NATIVE_UINT8);
    const auto sizes = read_vector<std::uint32_t>(g, "stream_sizes", H5T_NATIVE_UINT32);
    const auto streams = read_vector<std::uint8_t>(g, "streams", H5T_NATIVE_UINT8);
    const auto widths = read_vector<std::uint32_t>(g, "widths", H5T_NATIVE_UINT32);
    H5Gclose(g);
    H5Fclose(file);
    BOOST_TEST_REQUIRE(codecs.size() == d.block_count());
    std::size_t s = 0, at = 0;
    for (std::size_t b = 0; b < d.block_count(); ++b) {
        BOOST_TEST(codecs[b] == static_cast<std::uint8_t>(d.codec(b)));
        if (codecs[b] == 0) continue;
        BOOST_TEST(widths[b] == 0u);
        for (const std::vector<std::uint8_t>& stream : d.coded(b).streams) {
            BOOST_TEST_REQUIRE(s < sizes.size());
            BOOST_TEST(sizes[s] == stream.size());
            BOOST_TEST(std::equal(stream.begin(), stream.end(), streams.begin() + static_cast<std::ptrdiff_t>(at)));
            // zfp's full header: the magic "zfp" and its codec version.
            BOOST_TEST(std::string(stream.begin(), stream.begin() + 3) == "zfp");
            at += sizes[s++];
        }
    }
    BOOST_TEST(s == sizes.size());
    BOOST_TEST(at == streams.size());
}

BOOST_AUTO_TEST_CASE(version_2_is_unchanged_without_coded_blocks)
{
    ScratchDir dir;
    for (const GridCase& c : grids()) {
        BOOST_TEST_CONTEXT("shape " << format_shape(c.shape) << " blocks " << format_shape(c.block))
        {
            // The same blocks with no codec record, and with one that says
            // "signed cuts" everywhere.
            const SignedCutDecomposition d =
                blocked(c.shape, c.block, [](std::size_t b) { return (b * 7 + 3) % 5; }, 60);
            const SignedCutDecomposition recorded(d.grid(), d.blocks(), std::vector<CodedBlock>(d.block_count()),
                                                  {zfp_block_codec()});
            BOOST_TEST(recorded.format_version() == 2);
            BOOST_TEST(payload_total(recorded) == payload_total(d));
            const std::string plain = dir.file("plain.h5"), with_record = dir.file("record.h5");
            fs::remove(plain);
            fs::remove(with_record);
            write_decomposition(plain, d, fixed_provenance(), false);
            write_decomposition(with_record, recorded, fixed_provenance(), false);
            BOOST_TEST(read_bytes(plain) == read_bytes(with_record));
            BOOST_TEST(root_version(plain) == 2);
            for (const char* name : {"/decomposition/codecs", "/decomposition/stream_sizes", "/decomposition/streams"})
                BOOST_TEST(!has_link(plain, name), name);
            DecompositionInfo info;
            const Decomposition back = read_decomposition(plain, UINT64_MAX, &info);
            BOOST_TEST(info.format_version == 2);
            BOOST_TEST(info.codecs.empty());
            BOOST_TEST(info.coded_streams == 0u);
            BOOST_TEST(info.blocks_of(CodecId::sct) == d.block_count());
            BOOST_TEST(info.blocks_of(CodecId::zfp) == 0u);
            BOOST_TEST(sct_of(back).format_version() == 2);
            BOOST_TEST(same_bits(back.reconstruct(), d.reconstruct()));
        }
    }
}

BOOST_AUTO_TEST_CASE(regions_and_slabs_equal_slices_of_the_full_read)
{
    ScratchDir dir;
    std::uint64_t seed = 70;
    for (const GridCase& c : grids()) {
        BOOST_TEST_CONTEXT("shape " << format_shape(c.shape) << " blocks " << format_shape(c.block))
        {
            const SignedCutDecomposition d = mixed(c.shape, c.block, every_other, seed++);
            const std::string path = dir.file(fmt::format("region-{}.h5", seed));
            write_decomposition(path, d, fixed_provenance(), false);
            const Decomposition full = read_decomposition(path, UINT64_MAX);
            const Region region = cut_region(c.shape);
            const Decomposition part = read_decomposition(path, UINT64_MAX, nullptr, &region);
            const Tensor a = part.reconstruct(region), b = full.reconstruct(region);
            BOOST_TEST(same_bits(a, b));
            BOOST_TEST(part.reconstruct_float64(region) == full.reconstruct_float64(region),
                       boost::test_tools::per_element());
            // Only the touched blocks were read: the others are empty blocks
            // of signed cuts.
            const SignedCutDecomposition& p = sct_of(part);
            std::size_t touched_zfp = 0;
            for (std::size_t k = 0; k < d.block_count(); ++k) {
                const Shape o = d.grid().origin(k), e = d.grid().extents(k);
                bool hit = true;
                for (std::size_t m = 0; m < c.shape.size(); ++m)
                    hit = hit && o[m] < region[m].stop && o[m] + e[m] > region[m].start;
                BOOST_TEST_CONTEXT("block " << k)
                {
                    if (hit) {
                        BOOST_TEST(static_cast<int>(p.codec(k)) == static_cast<int>(d.codec(k)));
                        BOOST_TEST(p.coded(k).streams.size() == d.coded(k).streams.size());
                        touched_zfp += d.codec(k) == CodecId::zfp;
                    } else {
                        BOOST_TEST(static_cast<int>(p.codec(k)) == static_cast<int>(CodecId::sct));
                        BOOST_TEST(p.block(k).width() == 0u);
                    }
                }
            }
            BOOST_TEST_MESSAGE(format_shape(c.shape) << ": the region touches " << touched_zfp << " zfp blocks");

            // Slab by slab, in float32 and float64, whole and the region: the
            // values of the whole read, bit for bit.
            const Tensor whole = full.reconstruct();
            const std::vector<float> whole32(whole.begin(), whole.end());
            const std::vector<double> whole64 = full.reconstruct_float64();
            for (const char* dtype : {"float32", "float64"}) {
                for (const bool use_region : {false, true}) {
                    BOOST_TEST_CONTEXT(dtype << (use_region ? " region" : " whole"))
                    {
                        const std::string out = dir.file(fmt::format("slabs-{}-{}-{}.h5", seed, dtype, use_region));
                        SlabDecompression o;
                        o.max_bytes = UINT64_MAX / 2;
                        o.region = use_region ? &region : nullptr;
                        o.dtype = dtype;
                        o.threads = 2;
                        decompress_in_slabs(path, out, "/data", o);
                        const std::vector<double> got = read_output(out);
                        std::vector<double> want;
                        if (std::string(dtype) == "float64")
                            want = use_region ? full.reconstruct_float64(region) : whole64;
                        else if (use_region)
                            want.assign(b.begin(), b.end());
                        else
                            want.assign(whole32.begin(), whole32.end());
                        BOOST_TEST(got == want, boost::test_tools::per_element());
                    }
                }
            }
            // --width: the first terms of every signed cut block, zfp blocks whole.
            const std::string out = dir.file(fmt::format("width-{}.h5", seed));
            SlabDecompression o;
            o.max_bytes = UINT64_MAX / 2;
            o.width = 1;
            o.dtype = "float32";
            decompress_in_slabs(path, out, "/data", o);
            const Tensor prefix = full.sct()->prefix(1).reconstruct();
            const std::vector<double> got = read_output(out);
            BOOST_TEST(got == std::vector<double>(prefix.begin(), prefix.end()), boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_region_reads_only_the_streams_it_touches)
{
    // Block 0's stream damaged (its header), through HDF5 so that the
    // checksums agree: a full read and a full slab-by-slab decompression
    // refuse the file, naming it and the block; a region away from block 0
    // reads it.
    ScratchDir dir;
    const SignedCutDecomposition d = mixed({37, 45, 3}, {16, 16, 3}, every_other, 80);
    BOOST_TEST_REQUIRE(d.codec(0) == CodecId::zfp);
    const std::string path = dir.file("damaged.h5");
    write_decomposition(path, d, fixed_provenance(), false);
    edit_file(path, [](hid_t, hid_t group) {
        std::vector<std::uint8_t> s = read_vector<std::uint8_t>(group, "streams", H5T_NATIVE_UINT8);
        s[0] = 'Z';  // zfp's magic
        write_vector_values(group, "streams", H5T_NATIVE_UINT8, s);
    });
    check_error([&] { read_decomposition(path, UINT64_MAX); }, errc::bad_input,
                {path, "block 0 (zfp, extents 16x16x3) in /decomposition/streams", "zfp header"});
    SlabDecompression o;
    o.max_bytes = UINT64_MAX / 2;
    o.dtype = "float32";
    const std::string out = dir.file("out.h5");
    check_error([&] { decompress_in_slabs(path, out, "/data", o); }, errc::bad_input,
                {path, "block 0 (zfp, extents 16x16x3) in /decomposition/streams", "zfp header"});
    BOOST_TEST(!fs::exists(out));
    BOOST_TEST(read_decomposition_info(path).format_version == 3);  // `info` reads no stream

    const Region far = parse_region("20:37,20:45,:", Shape{37, 45, 3});
    const Decomposition part = read_decomposition(path, UINT64_MAX, nullptr, &far);
    BOOST_TEST(same_bits(part.reconstruct(far), d.reconstruct(far)));
    o.region = &far;
    decompress_in_slabs(path, out, "/data", o);
    const Tensor want = d.reconstruct(far);
    BOOST_TEST(read_output(out) == std::vector<double>(want.begin(), want.end()), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(refuses_damaged_version_3_files)
{
    ScratchDir dir;
    // 9 x 10 x 11 in blocks of 4 x 4 x 4: a 3 x 3 x 3 grid with edge extents
    // 1, 2 and 3 (so some blocks zfp cannot store), zfp blocks where
    // every_other picks them and zfp can store them.
    const SignedCutDecomposition d = mixed({9, 10, 11}, {4, 4, 4}, every_other, 90);
    BOOST_TEST_REQUIRE(d.codec(0) == CodecId::zfp);
    const std::string good = dir.file("good.h5");
    write_decomposition(good, d, fixed_provenance(), false);
    const std::size_t G = d.block_count();
    const CodedStorage storage = d.coded_storage();
    // A block zfp cannot store (without terms), and a block of terms.
    std::size_t unstorable = G, with_terms = G;
    for (std::size_t b = 0; b < G; ++b) {
        if (zfp_block_codec()->stream_count(d.grid().extents(b)) == 0 && d.block(b).width() == 0) unstorable = b;
        if (d.codec(b) == CodecId::sct && d.block(b).width() > 0 && with_terms == G) with_terms = b;
    }
    BOOST_TEST_REQUIRE(with_terms < G);
    int serial = 0;
    // Copies the good file, applies `edit`, and expects the readers to
    // refuse the result with one line naming the file.
    const auto expect_refusal = [&](const std::function<void(hid_t, hid_t)>& edit, errc code,
                                    std::initializer_list<std::string> fragments, bool info_too = true) {
        const std::string path = dir.file(fmt::format("bad-{}.h5", ++serial));
        fs::copy_file(good, path);
        edit_file(path, edit);
        BOOST_TEST_CONTEXT("case " << serial)
        {
            check_error([&] { read_decomposition(path, UINT64_MAX); }, code, fragments);
            check_error([&] { read_decomposition(path, UINT64_MAX); }, code, {path});
            SlabDecompression o;
            o.max_bytes = UINT64_MAX / 2;
            o.dtype = "float32";
            const std::string out = dir.file(fmt::format("bad-{}.out.h5", serial));
            check_error([&] { decompress_in_slabs(path, out, "/data", o); }, code, fragments);
            BOOST_TEST(!fs::exists(out));
            if (info_too) {
                check_error([&] { read_decomposition_info(path); }, code, fragments);
            } else {
                BOOST_TEST(read_decomposition_info(path).format_version == 3);
            }
        }
    };

    // The version.
    expect_refusal([](hid_t file, hid_t) { set_i32_attribute(file, "format_version", 4); }, errc::unsupported,
                   {"format version 4 needs a newer signcut", "versions 1 to 3"});
    expect_refusal([](hid_t file, hid_t) { set_i32_attribute(file, "format_version", 2); }, errc::bad_input,
                   {"/decomposition/codecs is a format version 3 dataset, but /format_version is 2"});
    // The three datasets, each missing.
    for (const char* name : {"codecs", "stream_sizes", "streams"})
        expect_refusal([name](hid_t, hid_t group) { H5Ldelete(group, name, H5P_DEFAULT); }, errc::bad_input,
                       {std::string("dataset /decomposition/") + name + " is missing", "/format_version is 3"});
    // codecs.
    expect_refusal(
        [G](hid_t, hid_t group) {
            const std::vector<std::uint8_t> c(G + 1, 0);
            replace_dataset(group, "codecs", H5T_STD_U8LE, H5T_NATIVE_UINT8, {G + 1}, c.data());
        },
        errc::bad_input, {fmt::format("/decomposition/codecs has {} entries, expected {}", G + 1, G)});
    expect_refusal(
        [G](hid_t, hid_t group) {
            const std::vector<std::uint16_t> c(G, 0);
            replace_dataset(group, "codecs", H5T_STD_U16LE, H5T_NATIVE_UINT16, {G}, c.data());
        },
        errc::bad_input, {"/decomposition/codecs holds 2-byte unsigned integer values, expected uint8"});
    expect_refusal(
        [](hid_t, hid_t group) {
            std::vector<std::uint8_t> c = read_vector<std::uint8_t>(group, "codecs", H5T_NATIVE_UINT8);
            c[3] = 7;
            write_vector_values(group, "codecs", H5T_NATIVE_UINT8, c);
        },
        errc::bad_input, {"/decomposition/codecs entry 3 is 7, expected 0 (signed cuts) or 1 (zfp)"});
    expect_refusal(
        [with_terms](hid_t, hid_t group) {
            std::vector<std::uint8_t> c = read_vector<std::uint8_t>(group, "codecs", H5T_NATIVE_UINT8);
            c[with_terms] = 1;
            write_vector_values(group, "codecs", H5T_NATIVE_UINT8, c);
        },
        errc::bad_input,
        {fmt::format("block {} is stored by zfp", with_terms), "/decomposition/widths", "a coded block has width 0"});
    if (unstorable < G) {
        expect_refusal(
            [unstorable](hid_t, hid_t group) {
                std::vector<std::uint8_t> c = read_vector<std::uint8_t>(group, "codecs", H5T_NATIVE_UINT8);
                c[unstorable] = 1;
                write_vector_values(group, "codecs", H5T_NATIVE_UINT8, c);
            },
            errc::bad_input,
            {fmt::format("block {} is stored by zfp", unstorable), "which cannot store a block of extents",
             format_shape(d.grid().extents(unstorable))});
    } else {
        BOOST_ERROR("the grid has no block zfp cannot store");
    }
    // stream_sizes and streams.
    expect_refusal(
        [&](hid_t, hid_t group) {
            const std::vector<std::uint32_t> s(storage.streams + 1, 8);
            replace_dataset(group, "stream_sizes", H5T_STD_U32LE, H5T_NATIVE_UINT32, {storage.streams + 1}, s.data());
        },
        errc::bad_input,
        {fmt::format("/decomposition/stream_sizes has {} entries, expected {}", storage.streams + 1, storage.streams)});
    expect_refusal(
        [&](hid_t, hid_t group) {
            const std::vector<std::uint64_t> s(storage.streams, 8);
            replace_dataset(group, "stream_sizes", H5T_STD_U64LE, H5T_NATIVE_UINT64, {storage.streams}, s.data());
        },
        errc::bad_input, {"/decomposition/stream_sizes holds 8-byte unsigned integer values, expected uint32"});
    expect_refusal(
        [](hid_t, hid_t group) {
            std::vector<std::uint32_t> s = read_vector<std::uint32_t>(group, "stream_sizes", H5T_NATIVE_UINT32);
            s[0] += 1;
            write_vector_values(group, "stream_sizes", H5T_NATIVE_UINT32, s);
        },
        errc::bad_input,
        {fmt::format("/decomposition/stream_sizes sum to {} bytes, but /decomposition/streams holds {}",
                     storage.stream_bytes + 1, storage.stream_bytes)},
        false);
    expect_refusal(
        [&](hid_t, hid_t group) {
            const std::vector<std::uint8_t> s = read_vector<std::uint8_t>(group, "streams", H5T_NATIVE_UINT8);
            replace_dataset(group, "streams", H5T_STD_U8LE, H5T_NATIVE_UINT8, {1, s.size()}, s.data());
        },
        errc::bad_input, {"/decomposition/streams has shape 1x", "expected a 1-D array"});
    expect_refusal(
        [&](hid_t, hid_t group) {
            const std::vector<std::uint8_t> s = read_vector<std::uint8_t>(group, "streams", H5T_NATIVE_UINT8);
            const std::vector<std::int8_t> t(s.begin(), s.end());
            replace_dataset(group, "streams", H5T_STD_I8LE, H5T_NATIVE_INT8, {t.size()}, t.data());
        },
        errc::bad_input, {"/decomposition/streams holds 1-byte signed integer values, expected uint8"});
    expect_refusal(
        [&](hid_t, hid_t group) {
            const std::vector<std::uint8_t> s = read_vector<std::uint8_t>(group, "streams", H5T_NATIVE_UINT8);
            if (H5Lexists(group, "streams", H5P_DEFAULT) > 0) H5Ldelete(group, "streams", H5P_DEFAULT);
            const hsize_t n = s.size();
            hid_t space = H5Screate_simple(1, &n, nullptr);
            hid_t dd = H5Dcreate2(group, "streams", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            H5Dwrite(dd, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, s.data());
            H5Dclose(dd);
            H5Sclose(space);
        },
        errc::bad_input, {"/decomposition/streams has no fletcher32 checksum"});
    // Anything else in the group.
    expect_refusal(
        [](hid_t, hid_t group) {
            const std::uint8_t v = 1;
            replace_dataset(group, "stream_offsets", H5T_STD_U8LE, H5T_NATIVE_UINT8, {1}, &v);
        },
        errc::bad_input, {"/decomposition/stream_offsets is not part of a version-3 sct decomposition"});
    // A stream whose header is not zfp's (the codec refuses it when the
    // block is decoded, which the readers do on reading).
    expect_refusal(
        [](hid_t, hid_t group) {
            std::vector<std::uint8_t> s = read_vector<std::uint8_t>(group, "streams", H5T_NATIVE_UINT8);
            s[0] ^= 0xff;
            write_vector_values(group, "streams", H5T_NATIVE_UINT8, s);
        },
        errc::bad_input, {"block 0 (zfp, extents 4x4x4) in /decomposition/streams:", "zfp header"}, false);
    // Two blocks' streams swapped whole (their sizes with them): each a valid
    // stream of another block's field.
    std::size_t small = G;
    for (std::size_t b = 0; b < G; ++b)
        if (d.codec(b) == CodecId::zfp && d.grid().extents(b) != d.grid().extents(0) &&
            d.coded(b).streams.size() == 1)
            small = b;
    BOOST_TEST_REQUIRE(small < G);
    {
        // Rebuilt with block 0's stream and `small`'s exchanged: the
        // decomposition accepts it (it counts streams), the writer writes
        // it, and the readers refuse it when they decode.
        std::vector<CodedBlock> coded(G);
        for (std::size_t b = 0; b < G; ++b) coded[b] = d.coded(b);
        std::swap(coded[0].streams, coded[small].streams);
        const SignedCutDecomposition swapped(d.grid(), d.blocks(), coded, {zfp_block_codec()});
        const std::string path = dir.file("swapped.h5");
        write_decomposition(path, swapped, fixed_provenance(), false);
        check_error([&] { read_decomposition(path, UINT64_MAX); }, errc::bad_input,
                    {path, "block 0 (zfp, extents 4x4x4) in /decomposition/streams:", "describes a"});
        SlabDecompression o;
        o.max_bytes = UINT64_MAX / 2;
        check_error([&] { decompress_in_slabs(path, dir.file("swapped.out.h5"), "/data", o); }, errc::bad_input,
                    {path, "block 0 (zfp, extents 4x4x4) in /decomposition/streams:", "describes a"});
        BOOST_TEST(read_decomposition_info(path).format_version == 3);
    }
    // A flipped byte on disk in the chunks of each new dataset: fletcher32.
    for (const char* name : {"/decomposition/codecs", "/decomposition/stream_sizes", "/decomposition/streams"}) {
        BOOST_TEST_CONTEXT(name)
        {
            hid_t file = H5Fopen(good.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
            hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
            hsize_t offset = 0, size = 0;
            unsigned mask = 0;
            haddr_t address = 0;
            hid_t space = H5Dget_space(ds);
            BOOST_TEST_REQUIRE(H5Dget_chunk_info(ds, space, 0, &offset, &mask, &address, &size) >= 0);
            H5Sclose(space);
            H5Dclose(ds);
            H5Fclose(file);
            std::vector<unsigned char> bytes = read_bytes(good);
            bytes.at(address + 1) ^= 0x10;
            const std::string flipped = dir.file(fmt::format("flipped-{}.h5", fs::path(name).filename().string()));
            write_bytes(flipped, bytes.data(), bytes.size());
            check_error([&] { read_decomposition(flipped, UINT64_MAX); }, errc::bad_input,
                        {flipped, std::string("cannot read ") + name, "Fletcher32 checksum"});
        }
    }
}

BOOST_AUTO_TEST_CASE(the_memory_limit_counts_codecs_sizes_streams_and_a_decoded_block)
{
    ScratchDir dir;
    const SignedCutDecomposition d = mixed({64, 80, 3}, {16, 16, 3}, every_other, 100);
    const std::string path = dir.file("limit.h5");
    write_decomposition(path, d, fixed_provenance(), false);
    // The smallest limit a read accepts, from the bytes its refusals name.
    const auto needed_for = [&](const Region* region) {
        std::uint64_t limit = 1;
        for (int tries = 0; tries < 5; ++tries) {
            try {
                read_decomposition(path, limit, nullptr, region);
                return limit;
            } catch (const Error& e) {
                BOOST_TEST_REQUIRE(static_cast<int>(e.code()) == static_cast<int>(errc::limit), e.what());
                std::smatch m;
                const std::string text = e.what();
                BOOST_TEST_REQUIRE(std::regex_search(text, m, std::regex("needs ([0-9]+) bytes")), text);
                limit = std::stoull(m[1].str());
            }
        }
        BOOST_ERROR("the limit named in refusals does not converge");
        return std::uint64_t{0};
    };
    const std::uint64_t needed = needed_for(nullptr);
    const CodedStorage s = d.coded_storage();
    // At least: the reconstruction, the widths, the codecs, the stream
    // sizes, the streams read and kept, and one decoded block.
    const std::uint64_t floor = d.size() * 4 + d.block_count() * (12 + 1) + s.streams * 4 + 2 * s.stream_bytes +
                                16 * 16 * 3 * 4;
    BOOST_TEST(needed >= floor);
    BOOST_TEST(needed <= floor + d.block_count() * 2048 + d.width() * 64);
    check_error([&] { read_decomposition(path, needed - 1); }, errc::limit, {path, std::to_string(needed) + " bytes"});
    check_same_blocks(sct_of(read_decomposition(path, needed)), d);
    // A region needs less.
    const Region region = parse_region("0:10,0:20,:", d.shape());
    const std::uint64_t region_needed = needed_for(&region);
    BOOST_TEST(region_needed < needed);
    // The slab-by-slab decompression counts the codecs and stream sizes too.
    SlabDecompression o;
    // The widths and codecs as the info reads them, but not the stream sizes.
    o.max_bytes = d.block_count() * 14;
    check_error([&] { decompress_in_slabs(path, dir.file("o.h5"), "/data", o); }, errc::limit,
                {path, "codecs and stream sizes"});
}

BOOST_AUTO_TEST_CASE(python_reader_matches)
{
    // tests/format/read_sct_v3.py is FORMAT.md's version-3 reader, word for word.
    const std::string script = source_file("tests/format/read_sct_v3.py");
    {
        std::ifstream md(source_file("docs/FORMAT.md"));
        BOOST_TEST_REQUIRE(md.good());
        std::string line, snippet;
        bool inside = false, found = false;
        while (std::getline(md, line)) {
            if (line.find("<!-- python-reader-v3:begin -->") != std::string::npos) {
                inside = true;
                continue;
            }
            if (line.find("<!-- python-reader-v3:end -->") != std::string::npos) {
                found = inside;
                break;
            }
            if (inside && line.rfind("```", 0) != 0) snippet += line + "\n";
        }
        BOOST_TEST_REQUIRE(found, "no python-reader-v3 markers in docs/FORMAT.md");
        const std::vector<unsigned char> bytes = read_bytes(script);
        const std::string file(bytes.begin(), bytes.end());
        BOOST_TEST(file == snippet, "docs/FORMAT.md and tests/format/read_sct_v3.py differ");
    }
    const CommandResult zfpy = run_command("/usr/bin/python3 -c 'import zfpy'");
    BOOST_TEST_REQUIRE(zfpy.exit_code == 0, "python3-zfpy is missing (.ci/deps installs it): " << zfpy.output);

    ScratchDir dir;
    const std::string wrapper = dir.file("wrapper.py");
    write_text(wrapper, "import sys\nsys.path.insert(0, " + shell_quote(fs::path(script).parent_path().string()) +
                            ")\nimport numpy as np\nimport read_sct_v3\n"
                            "x = read_sct_v3.read(sys.argv[1])\n"
                            "np.ascontiguousarray(x, dtype='<f8').tofile(sys.argv[2])\n"
                            "print(' '.join(str(d) for d in x.shape))\n");
    std::uint64_t seed = 300;
    for (const GridCase& c : grids()) {
        for (const bool coded : {true, false}) {
            BOOST_TEST_CONTEXT("shape " << format_shape(c.shape) << " blocks " << format_shape(c.block)
                                        << (coded ? " with zfp blocks" : " signed cuts only"))
            {
                const SignedCutDecomposition d =
                    coded ? mixed(c.shape, c.block, every_other, seed++)
                          : blocked(c.shape, c.block, [](std::size_t b) { return (b * 7 + 3) % 5; }, seed++);
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
                // The library's own float64 reconstruction sums each block's
                // terms in double, in term order, and widens the zfp blocks'
                // float32 values: the reader's values exactly.
                const std::vector<double> want = d.reconstruct_float64();
                BOOST_TEST_REQUIRE(py.size() == want.size());
                std::uint64_t differ = 0;
                for (std::size_t i = 0; i < py.size(); ++i) differ += py[i] != want[i];
                BOOST_TEST(differ == 0u);
                // And the float32 reconstruction: zfp blocks exactly, the
                // others to float32 rounding.
                const Tensor y = d.reconstruct();
                const std::vector<float> pf(py.begin(), py.end());
                for (std::size_t b = 0; b < d.block_count(); ++b) {
                    std::vector<float> yb(d.grid().block_size(b));
                    d.grid().gather(b, y.data(), yb.data());
                    std::vector<float> pbf(yb.size());
                    d.grid().gather(b, pf.data(), pbf.data());
                    if (d.codec(b) == CodecId::zfp) {
                        BOOST_TEST(std::memcmp(yb.data(), pbf.data(), yb.size() * sizeof(float)) == 0, "block " << b);
                    } else {
                        double scale = 0;
                        for (const float s : d.block(b).scales()) scale += std::fabs(s);
                        for (std::size_t i = 0; i < yb.size(); ++i)
                            BOOST_TEST_REQUIRE(std::fabs(double(yb[i]) - double(pbf[i])) <=
                                               sum_tolerance(d.block(b).width(), scale) + 1e-6 * scale);
                    }
                }
            }
        }
    }
    // The script itself: prints nothing, refuses a damaged file.
    const std::string path = dir.file("main.h5");
    write_decomposition(path, mixed({37, 45, 3}, {16, 16, 3}, every_other, 9), fixed_provenance(), false);
    const CommandResult r = run_command("/usr/bin/python3 " + shell_quote(script) + " " + shell_quote(path) + " " +
                                        shell_quote(dir.file("out.npy")));
    BOOST_TEST(r.exit_code == 0, r.output);
    BOOST_TEST(r.output.empty(), r.output);
    BOOST_TEST(fs::exists(dir.file("out.npy")));
    edit_file(path, [](hid_t, hid_t group) {
        std::vector<std::uint32_t> s = read_vector<std::uint32_t>(group, "stream_sizes", H5T_NATIVE_UINT32);
        s[0] += 1;
        write_vector_values(group, "stream_sizes", H5T_NATIVE_UINT32, s);
    });
    const CommandResult bad = run_command("/usr/bin/python3 " + shell_quote(script) + " " + shell_quote(path));
    BOOST_TEST(bad.exit_code != 0);
    BOOST_TEST(bad.output.find("stream_sizes do not sum") != std::string::npos, bad.output);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(short_scales_round_trip_bit_exact_in_packed_chunks)
{
    // 600 001 short scales of every sign and binade (three chunks of 2^18
    // four-byte values, the last one partial) and one-value sign vectors:
    // the file stores the documented type, packed by the n-bit filter, in
    // exactly stored_packed_dataset_bytes(), and reads back bit for bit. A
    // single float32 scale among them turns the whole dataset to float32.
    ScratchDir dir;
    const std::size_t w = 600001;
    SplitMix64 g(71);
    std::vector<float> scales(w);
    for (float& c : scales) {
        const double m = 1.0 + g.uniform();
        const int e = static_cast<int>(g.next() % 240) - 120;
        c = round_to_short_scale((g.next() % 2 ? -1.0 : 1.0) * std::ldexp(m, e));
        BOOST_REQUIRE(is_short_scale(c) && c != 0.0f);
    }
    SignMatrix signs(1, w);
    const auto make = [&](std::vector<float> s) {
        return SignedCutDecomposition(SignedCutTerms(Shape{1}, std::move(s), std::vector<SignMatrix>{signs}));
    };
    const SignedCutDecomposition d = make(scales);
    BOOST_TEST(d.scale_bits() == short_scale_bits);
    const std::string path = dir.file("short.h5");
    write_decomposition(path, d, fixed_provenance(), false);
    const hid_t documented = documented_short_scale_type();
    const Stored s = stored(path, "/decomposition/scales", documented);
    H5Tclose(documented);
    BOOST_TEST(s.type_ok);
    BOOST_TEST(s.nbit);
    BOOST_TEST(s.fletcher32);
    BOOST_TEST(s.chunk == dataset_chunk_elements(w, 4));
    BOOST_TEST(s.bytes == stored_packed_dataset_bytes(w, short_scale_bits));
    BOOST_TEST(s.bytes == d.payload().scales_bytes);
    DecompositionInfo info;
    const Decomposition any = read_decomposition(path, UINT64_MAX, &info);
    BOOST_TEST(info.scale_bits == short_scale_bits);
    const std::vector<float>& back = sct_of(any).block(0).scales();
    BOOST_TEST_REQUIRE(back.size() == w);
    BOOST_TEST(std::memcmp(back.data(), scales.data(), w * sizeof(float)) == 0);

    std::vector<float> mixed = scales;
    mixed[w / 2] = std::nextafter(mixed[w / 2], 0.0f);
    const SignedCutDecomposition f = make(mixed);
    BOOST_TEST(f.scale_bits() == float32_scale_bits);
    const std::string wide = dir.file("float32.h5");
    write_decomposition(wide, f, fixed_provenance(), false);
    const Stored t = stored(wide, "/decomposition/scales", H5T_IEEE_F32LE);
    BOOST_TEST(t.type_ok);
    BOOST_TEST(!t.nbit);
    BOOST_TEST(t.bytes == stored_dataset_bytes(w, 4));
    DecompositionInfo wide_info;
    const Decomposition wide_back = read_decomposition(wide, UINT64_MAX, &wide_info);
    BOOST_TEST(wide_info.scale_bits == float32_scale_bits);
    BOOST_TEST(std::memcmp(sct_of(wide_back).block(0).scales().data(), mixed.data(), w * sizeof(float)) == 0);
}

BOOST_AUTO_TEST_CASE(short_scales_round_to_nearest)
{
    // Against a plain reference: every float32 of a sweep is short exactly
    // when its low 19 mantissa bits are zero, and rounding picks the nearer
    // of the two short neighbours (away from zero on a tie).
    BOOST_TEST(round_to_short_scale(1.0) == 1.0f);
    BOOST_TEST(round_to_short_scale(1.03125) == 1.0625f);     // a tie
    BOOST_TEST(round_to_short_scale(1.0312) == 1.0f);
    BOOST_TEST(round_to_short_scale(-1.97) == -2.0f);
    BOOST_TEST(round_to_short_scale(1e-39) == 0.0f);  // below the normal range
    BOOST_TEST(std::isinf(round_to_short_scale(3.4e38)));
    BOOST_TEST(!is_short_scale(std::numeric_limits<float>::denorm_min()));
    SplitMix64 g(5);
    for (int i = 0; i < 100000; ++i) {
        const double c = std::ldexp(1.0 + g.uniform(), static_cast<int>(g.next() % 200) - 100);
        const float r = round_to_short_scale(c);
        BOOST_TEST_REQUIRE(is_short_scale(r));
        int e = 0;
        std::frexp(c, &e);
        const double step = std::ldexp(1.0, e - 1 - 4);  // one unit of the 4-bit mantissa
        BOOST_TEST_REQUIRE(std::abs(double(r) - c) <= step / 2);
        BOOST_TEST_REQUIRE(std::abs(double(r) - c) <= 0x1p-5 * c);
    }
}

BOOST_AUTO_TEST_CASE(deflated_signs_are_counted_as_hdf5_stores_them)
{
    // A smooth field in 32x32 blocks: its signs deflate, the allocation
    // counts the deflated stream, the budget is filled to within 2 % and
    // never passed, and HDF5 stores exactly the bytes the payload counts; the
    // file reads back bit for bit, with the same payload.
    ScratchDir dir;
    const Shape shape{256, 320};
    const std::vector<float> x = smooth_field(shape, 81);
    for (const double bits : {0.5, 1.0, 2.0}) {
        BOOST_TEST_CONTEXT(bits << " bits per value")
        {
            DecomposeOptions o;
            o.bits_per_value = bits;
            o.blocks = BlockChoice::of({32, 32});
            o.sign_storage = deflated_signs();
            DecomposeOptions plain = o;
            plain.sign_storage = nullptr;
            const SignedCutDecomposition d = decompose(TensorView<float>{x.data(), shape}, o);
            const SignedCutDecomposition p = decompose(TensorView<float>{x.data(), shape}, plain);
            BOOST_TEST(d.signs_deflated());
            BOOST_TEST(!p.signs_deflated());
            const double budget = bits * double(element_count(shape));
            BOOST_TEST(double(d.payload().bits()) <= budget);
            BOOST_TEST(double(d.payload().bits()) >= 0.98 * budget);
            BOOST_TEST(d.width() > p.width());  // the bytes saved bought terms
            const std::string path = dir.file(fmt::format("deflated-{}.h5", bits));
            write_decomposition(path, d, fixed_provenance(), false);
            const Stored s = stored(path, "/decomposition/signs", H5T_STD_U8LE);
            BOOST_TEST(s.bytes == d.payload().signs_bytes);
            BOOST_TEST(s.fletcher32);
            DecompositionInfo info;
            const Decomposition any = read_decomposition(path, UINT64_MAX, &info);
            BOOST_TEST(info.signs_deflate_level == 1);  // deflated_signs()'s default
            BOOST_TEST(info.payload_bytes * 8 == d.payload().bits());
            const SignedCutDecomposition& back = sct_of(any);
            BOOST_TEST(back.signs_deflated());
            BOOST_TEST(back.payload().bits() == d.payload().bits());
            BOOST_TEST(same_bits(back.reconstruct(), d.reconstruct()));
            // A recut of it counts its candidates deflated too.
            RecutReport report;
            const SignedCutDecomposition cut = recut(back, info.norm2, bits / 2, std::nullopt, &report, info.provenance.rel_fro_error);
            BOOST_TEST(double(cut.payload().bits()) <= budget / 2);
            BOOST_TEST(double(cut.payload().bits()) >= 0.98 * budget / 2);
            const std::string cut_path = dir.file(fmt::format("deflated-{}-cut.h5", bits));
            write_decomposition(cut_path, cut, fixed_provenance(), false);
            BOOST_TEST(read_decomposition_info(cut_path).payload_bytes * 8 == cut.payload().bits());
        }
    }
}

BOOST_AUTO_TEST_CASE(deflated_signs_in_several_chunks_and_incompressible_ones)
{
    // Signs of 2.4 MiB (three chunks, the last one partial): runs of equal
    // signs, which deflate, and random ones, which do not (those stay
    // plain: deflate would store more).
    ScratchDir dir;
    const std::size_t w = 20000, e = 1000;
    SplitMix64 g(90);
    for (const bool random : {false, true}) {
        BOOST_TEST_CONTEXT((random ? "random" : "runs of") << " signs")
        {
            SignMatrix signs(e, w);
            for (std::size_t j = 0; j < w; ++j) {
                SignVector v(e);
                const std::size_t cut = g.next() % e;
                for (std::size_t i = 0; i < e; ++i)
                    if (random ? (g.next() & 1) != 0 : i >= cut) v.set(i, true);
                signs.set_column(j, v);
            }
            std::vector<float> scales(w, 1.0f);
            SignedCutDecomposition d(SignedCutTerms(Shape{e}, std::move(scales), std::vector<SignMatrix>{signs}));
            d.set_sign_storage(deflated_signs(6));
            BOOST_TEST(d.signs_deflated() == !random);
            const std::string path = dir.file(random ? "random.h5" : "runs.h5");
            write_decomposition(path, d, fixed_provenance(), false);
            const Stored s = stored(path, "/decomposition/signs", H5T_STD_U8LE);
            BOOST_TEST(s.chunk == dataset_chunk_elements(w * e / 8, 1));
            BOOST_TEST(s.bytes == d.payload().signs_bytes);
            BOOST_TEST(s.bytes == (random ? stored_dataset_bytes(w * e / 8, 1) : deflated_signs(6)->stored_bytes(d.sign_stream())));
            BOOST_TEST(read_decomposition_info(path).payload_bytes * 8 == d.payload().bits());
        }
    }
    BOOST_CHECK_THROW(deflated_signs(0), Error);
    BOOST_CHECK_THROW(deflated_signs(10), Error);
}
