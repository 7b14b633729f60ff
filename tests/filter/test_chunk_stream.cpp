// Chunk streams (signcut/chunk_stream.hpp): round trips, the budget rules,
// raw storage, and a decoder that refuses every damaged stream it is given.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "signcut/chunk_stream.hpp"
#include "signcut/decompose.hpp"
#include "signcut/error.hpp"
#include "signcut/random.hpp"
#include "test_support.hpp"

namespace signcut::testing {
namespace {

/// A smooth field with some noise, N values of shape `dims`.
std::vector<float> field(const Shape& dims, std::uint64_t seed, double noise = 0.1)
{
    SplitMix64 g(seed);
    const std::uint64_t n = element_count(dims);
    std::vector<float> x(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < x.size(); ++i) {
        // Coordinates along each mode, for a field smooth in all of them.
        std::size_t rest = i;
        double v = 0;
        for (std::size_t a = dims.size(); a-- > 0;) {
            const double t = static_cast<double>(rest % dims[a]) / static_cast<double>(dims[a]);
            rest /= dims[a];
            v += std::sin(3.0 * (static_cast<double>(a) + 1.0) * t);
        }
        x[i] = static_cast<float>(v + noise * g.normal());
    }
    return x;
}

std::span<const std::byte> bytes_of(const std::vector<float>& x) { return std::as_bytes(std::span(x)); }
std::span<const std::byte> bytes_of(const std::vector<double>& x) { return std::as_bytes(std::span(x)); }

std::vector<float> decode32(const std::vector<std::uint8_t>& s, const Shape& dims)
{
    std::vector<float> y(static_cast<std::size_t>(element_count(dims)));
    decode_chunk(s, ChunkDtype::float32, dims, std::as_writable_bytes(std::span(y)));
    return y;
}

double rel_error(const std::vector<float>& x, const std::vector<float>& y)
{
    double e = 0, n = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        e += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
        n += double(x[i]) * x[i];
    }
    return std::sqrt(e / n);
}

ChunkEncoding bits(double b, Shape block = {})
{
    ChunkEncoding e;
    e.rule = {ChunkRule::Kind::bits_per_value, b};
    e.block_shape = std::move(block);
    return e;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(chunk_stream)

BOOST_AUTO_TEST_CASE(a_chunk_fits_its_budget_or_is_stored_raw)
{
    // Within its budget, or raw (exact) when the budget left after the
    // stream's head holds no term of the chunk's blocks.
    for (const Shape& dims : {Shape{64, 64}, Shape{37, 29}, Shape{16, 12, 3}, Shape{200}}) {
        const std::vector<float> x = field(dims, 1);
        for (const double b : {0.5, 1.0, 2.0}) {
            const std::vector<std::uint8_t> s = encode_chunk(bytes_of(x), ChunkDtype::float32, dims, bits(b));
            const std::vector<float> y = decode32(s, dims);
            if (s[5] == 0) {
                BOOST_TEST(std::equal(x.begin(), x.end(), y.begin()), format_shape(dims) << " raw");
                continue;
            }
            const double n = double(element_count(dims));
            BOOST_TEST(8.0 * double(s.size()) <= b * n, format_shape(dims) << " at " << b << ": " << s.size() << " bytes");
            BOOST_TEST(rel_error(x, y) < 1.0, format_shape(dims) << " at " << b);
        }
    }
    // Matrices of a few thousand values hold terms from half a bit on, and
    // more bits give less error.
    const Shape dims{64, 64};
    const std::vector<float> x = field(dims, 1);
    double last = 1.0;
    for (const double b : {0.5, 1.0, 2.0, 4.0}) {
        const std::vector<std::uint8_t> s = encode_chunk(bytes_of(x), ChunkDtype::float32, dims, bits(b));
        BOOST_TEST(s[5] == 1, "decomposed at " << b);
        const double e = rel_error(x, decode32(s, dims));
        BOOST_TEST(e < last, "at " << b << ": " << e);
        last = e;
    }
}

BOOST_AUTO_TEST_CASE(the_stream_holds_what_decompose_finds)
{
    // With an explicit block shape and no zfp the chunk is decomposed as
    // decompose() would at the budget the stream leaves: the decoded values
    // are that decomposition's reconstruction, bit for bit.
    const Shape dims{48, 40};
    const std::vector<float> x = field(dims, 2);
    ChunkEncoding e = bits(2, {16, 20});
    e.zfp = false;
    const std::vector<std::uint8_t> s = encode_chunk(bytes_of(x), ChunkDtype::float32, dims, e);
    const std::vector<float> y = decode32(s, dims);
    DecomposeOptions o;
    o.blocks = BlockChoice::of({16, 20});
    o.threads = 1;
    double best = 1;
    // The stream's budget is 2 bits per value less its head: search the
    // decompositions around it for the one the stream holds.
    bool found = false;
    for (int k = 0; k <= 64 && !found; ++k) {
        o.bits_per_value = 2.0 - double(k) * 8.0 / double(element_count(dims));
        const SignedCutDecomposition d = decompose(TensorView<float>{x.data(), dims}, o);
        const Tensor r = d.reconstruct(1);
        found = std::equal(y.begin(), y.end(), r.data());
        best = std::min(best, rel_error(x, std::vector<float>(r.data(), r.data() + r.size())));
    }
    BOOST_TEST(found, "no nearby budget gives the stream's values");
}

BOOST_AUTO_TEST_CASE(error_rules_are_met)
{
    const Shape dims{64, 48};
    const std::vector<float> x = field(dims, 3);
    for (const double target : {0.3, 0.1, 0.03}) {
        ChunkEncoding e;
        e.rule = {ChunkRule::Kind::rel_error, target};
        const std::vector<float> y = decode32(encode_chunk(bytes_of(x), ChunkDtype::float32, dims, e), dims);
        BOOST_TEST(rel_error(x, y) <= target * 1.0001, "rel_error " << target);
        // The same bound as an RMSE.
        double norm2 = 0;
        for (const float v : x) norm2 += double(v) * v;
        const double rmse = target * std::sqrt(norm2 / double(x.size()));
        e.rule = {ChunkRule::Kind::rmse, rmse};
        const std::vector<float> z = decode32(encode_chunk(bytes_of(x), ChunkDtype::float32, dims, e), dims);
        BOOST_TEST(rel_error(x, z) <= target * 1.0001, "rmse " << rmse);
    }
}

BOOST_AUTO_TEST_CASE(float64_chunks_round_trip_in_float64)
{
    const Shape dims{40, 30};
    const std::vector<float> x32 = field(dims, 4);
    std::vector<double> x(x32.begin(), x32.end());
    const std::vector<std::uint8_t> s = encode_chunk(bytes_of(x), ChunkDtype::float64, dims, bits(2));
    std::vector<double> y(x.size());
    decode_chunk(s, ChunkDtype::float64, dims, std::as_writable_bytes(std::span(y)));
    double e = 0, n = 0;
    for (std::size_t i = 0; i < x.size(); ++i) e += (x[i] - y[i]) * (x[i] - y[i]), n += x[i] * x[i];
    BOOST_TEST(std::sqrt(e / n) < 0.5);
    // A float64 stream is not a float32 chunk.
    std::vector<float> wrong(x.size());
    check_error([&] { decode_chunk(s, ChunkDtype::float32, dims, std::as_writable_bytes(std::span(wrong))); },
                errc::bad_input, {"the chunk holds float64, the dataset float32"});
}

BOOST_AUTO_TEST_CASE(tiny_non_finite_and_incompressible_chunks_are_stored_raw)
{
    // Fewer than 20 values, a NaN, a value beyond float32, and a budget of
    // 40 bits per value: each comes back exactly.
    const Shape small{3, 5};
    std::vector<float> a = field(small, 5);
    std::vector<float> b = field({32, 32}, 6);
    b[100] = std::nanf("");
    std::vector<double> c(64 * 8, 1.0);
    c[7] = 1e300;
    std::vector<float> d = field({32, 32}, 7, 10.0);
    for (const auto& [values, dtype, dims, budget] :
         {std::tuple{bytes_of(a), ChunkDtype::float32, small, 1.0}, std::tuple{bytes_of(b), ChunkDtype::float32, Shape{32, 32}, 1.0},
          std::tuple{bytes_of(c), ChunkDtype::float64, Shape{64, 8}, 1.0}, std::tuple{bytes_of(d), ChunkDtype::float32, Shape{32, 32}, 40.0}}) {
        const std::vector<std::uint8_t> s = encode_chunk(values, dtype, dims, bits(budget));
        BOOST_TEST(s[5] == 0, "raw flag, " << format_shape(dims));
        std::vector<std::byte> out(values.size());
        decode_chunk(s, dtype, dims, out);
        BOOST_TEST(std::memcmp(out.data(), values.data(), values.size()) == 0);
    }
}

BOOST_AUTO_TEST_CASE(a_chunk_of_zeros_costs_almost_nothing)
{
    const Shape dims{128, 128};
    const std::vector<float> x(128 * 128, 0.0f);
    const std::vector<std::uint8_t> s = encode_chunk(bytes_of(x), ChunkDtype::float32, dims, bits(1));
    BOOST_TEST(s.size() < 64u);
    const std::vector<float> y = decode32(s, dims);
    BOOST_TEST(std::all_of(y.begin(), y.end(), [](float v) { return v == 0.0f; }));
}

BOOST_AUTO_TEST_CASE(smooth_blocks_go_to_zfp_and_come_back)
{
    // A noiseless field in 16x16 blocks at 4 bits: zfp serves some blocks
    // better, and the stream records them.
    const Shape dims{64, 64};
    const std::vector<float> x = field(dims, 8, 0.0);
    const std::vector<std::uint8_t> s = encode_chunk(bytes_of(x), ChunkDtype::float32, dims, bits(4, {16, 16}));
    const std::size_t flags_at = 8 + 4 * 2 + 4 * 2 + 2;
    BOOST_TEST((s[flags_at] & 1) == 1, "no codec record: no block went to zfp");
    const std::vector<float> y = decode32(s, dims);
    BOOST_TEST(rel_error(x, y) < 0.01);
    ChunkEncoding sct_only = bits(4, {16, 16});
    sct_only.zfp = false;
    const std::vector<float> z = decode32(encode_chunk(bytes_of(x), ChunkDtype::float32, dims, sct_only), dims);
    BOOST_TEST(rel_error(x, y) <= rel_error(x, z) * 1.02);
}

BOOST_AUTO_TEST_CASE(every_damaged_byte_is_refused_by_the_crc)
{
    const Shape dims{24, 20};
    const std::vector<float> x = field(dims, 9);
    const std::vector<std::uint8_t> s = encode_chunk(bytes_of(x), ChunkDtype::float32, dims, bits(2, {8, 10}));
    std::vector<float> out(x.size());
    for (std::size_t i = 0; i < s.size(); ++i)
        for (const std::uint8_t bit : {0x01, 0x80}) {
            std::vector<std::uint8_t> d = s;
            d[i] ^= bit;
            try {
                decode_chunk(d, ChunkDtype::float32, dims, std::as_writable_bytes(std::span(out)));
                BOOST_ERROR("byte " << i << " bit " << int(bit) << ": accepted");
            } catch (const Error& e) {
                BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(errc::bad_input));
            }
        }
    // Cut short at every length.
    for (std::size_t n = 0; n < s.size(); ++n)
        check_error([&] {
            decode_chunk(std::span(s).first(n), ChunkDtype::float32, dims, std::as_writable_bytes(std::span(out)));
        }, errc::bad_input, {"signcut chunk stream"});
}

BOOST_AUTO_TEST_CASE(a_stream_for_other_dims_is_refused_before_decoding)
{
    const Shape dims{24, 20};
    const std::vector<float> x = field(dims, 10);
    const std::vector<std::uint8_t> s = encode_chunk(bytes_of(x), ChunkDtype::float32, dims, bits(2));
    std::vector<float> out(20 * 24);
    check_error([&] { decode_chunk(s, ChunkDtype::float32, {20, 24}, std::as_writable_bytes(std::span(out))); },
                errc::bad_input, {"a chunk of 24x20, the dataset's chunks are 20x24"});
    std::vector<float> three(24 * 20);
    check_error([&] { decode_chunk(s, ChunkDtype::float32, {24, 20, 1}, std::as_writable_bytes(std::span(three))); },
                errc::bad_input, {"order 2"});
    std::vector<std::uint8_t> not_ours(s.size(), 0);
    check_error([&] { decode_chunk(not_ours, ChunkDtype::float32, dims, std::as_writable_bytes(std::span(out))); },
                errc::bad_input, {"no SCUT magic"});
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused)
{
    const std::vector<float> x(100, 1.0f);
    check_error([&] { (void)encode_chunk(bytes_of(x), ChunkDtype::float32, {10, 11}, bits(1)); }, errc::invalid_argument,
                {"holds 440 bytes of values, not 400"});
    check_error([&] { (void)encode_chunk(bytes_of(x), ChunkDtype::float32, {10, 10}, bits(-1)); },
                errc::invalid_argument, {"positive and finite"});
    check_error([&] { (void)encode_chunk(bytes_of(x), ChunkDtype::float32, {10, 10}, bits(1, {11, 10})); },
                errc::invalid_argument, {});
}

BOOST_AUTO_TEST_CASE(crc32_is_zlibs)
{
    const std::string text = "123456789";
    BOOST_TEST(crc32_of({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}) == 0xCBF43926u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace signcut::testing
