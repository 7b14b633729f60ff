// The zfp block codec: which blocks it stores and as how many streams, its
// operating points against their own encode and decode, each stream alone
// as libzfp (and so zfpy) reads it, the cost of trivial blocks, and a
// decoder that refuses what does not describe the block before decoding.
#include <boost/test/unit_test.hpp>

#include <zfp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include "signcut/block_codec.hpp"
#include "signcut/error.hpp"
#include "signcut/random.hpp"
#include "signcut/zfp_block_codec.hpp"
#include "test_support.hpp"

using namespace signcut;
using namespace signcut::testing;

namespace {

// The settings as zfp_block_codec.cpp encodes them.
constexpr std::uint32_t precision(unsigned p) { return p; }
constexpr std::uint32_t accuracy(int e) { return (1u << 24) | static_cast<std::uint32_t>(e + 2048); }

constexpr std::uint64_t no_limit = std::numeric_limits<std::uint64_t>::max();

std::uint64_t count(const Shape& s)
{
    std::uint64_t n = 1;
    for (const std::size_t e : s) n *= e;
    return n;
}

/// A smooth field of C-ordered `shape` plus a little noise.
std::vector<float> smooth(const Shape& shape, std::uint64_t seed)
{
    SplitMix64 g(seed);
    const std::uint64_t n = count(shape);
    std::vector<float> v(n);
    std::vector<double> phase(shape.size());
    for (auto& p : phase) p = 6.0 * g.uniform();
    for (std::uint64_t i = 0; i < n; ++i) {
        std::uint64_t r = i;
        double x = 0;
        for (std::size_t a = shape.size(); a-- > 0;) {
            const double t = static_cast<double>(r % shape[a]) / static_cast<double>(shape[a]);
            r /= shape[a];
            x += std::sin(3.0 * t + phase[a]) * (1.0 + 0.3 * static_cast<double>(a));
        }
        v[i] = static_cast<float>(10.0 * x + 0.01 * g.normal());
    }
    return v;
}

std::vector<float> rough(const Shape& shape, std::uint64_t seed)
{
    SplitMix64 g(seed);
    std::vector<float> v(count(shape));
    for (auto& x : v) x = static_cast<float>(g.normal());
    return v;
}

/// Σ (x − y)² in double, in C order: how the codec measures a point.
double squared_error(const std::vector<float>& x, const std::vector<float>& y)
{
    double s = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double e = static_cast<double>(x[i]) - static_cast<double>(y[i]);
        s += e * e;
    }
    return s;
}

std::vector<float> decode(const CodedBlock& b, const Shape& s)
{
    std::vector<float> out(count(s), std::numeric_limits<float>::quiet_NaN());
    zfp_block_codec()->decode(b, s, out);
    return out;
}

/// Plane `p` of a block (modes shorter than 4 are planes, in C order),
/// gathered in C order of the other modes; written independently of the
/// codec's strides.
std::vector<float> plane(const std::vector<float>& x, const Shape& s, std::size_t p)
{
    std::vector<float> out;
    std::size_t plane_count = 1;
    for (const std::size_t e : s)
        if (e < 4) plane_count *= e;
    for (std::uint64_t i = 0; i < x.size(); ++i) {
        // The index of value i's plane: its plane-mode coordinates in C order.
        std::uint64_t r = i;
        std::size_t q = 0, weight = 1;
        for (std::size_t a = s.size(); a-- > 0;) {
            const std::size_t c = r % s[a];
            r /= s[a];
            if (s[a] < 4) {
                q += c * weight;
                weight *= s[a];
            }
        }
        if (q == p) out.push_back(x[i]);
    }
    BOOST_TEST_REQUIRE(plane_count > p);
    return out;
}

Shape kept_modes(const Shape& s)
{
    Shape k;
    for (const std::size_t e : s)
        if (e >= 4) k.push_back(e);
    return k;
}

/// Decodes one stream with libzfp alone, as zfpy.decompress_numpy does:
/// zfp's full header, then a contiguous float array, x fastest.
std::vector<float> zfp_alone(const std::vector<std::uint8_t>& stream, const Shape& kept)
{
    std::vector<std::uint64_t> buffer(stream.size() / 8 + 64, 0);
    std::memcpy(buffer.data(), stream.data(), stream.size());
    bitstream* bits = stream_open(buffer.data(), 8 * buffer.size());
    zfp_stream* zfp = zfp_stream_open(bits);
    zfp_field* field = zfp_field_alloc();
    std::vector<float> out;
    if (zfp_read_header(zfp, field, ZFP_HEADER_FULL) != 0) {
        BOOST_TEST(zfp_field_type(field) == zfp_type_float);
        BOOST_TEST(zfp_field_dimensionality(field) == kept.size());
        std::size_t size[4] = {0, 0, 0, 0};
        const std::size_t values = zfp_field_size(field, size);
        for (std::size_t j = 0; j < kept.size(); ++j) BOOST_TEST(size[j] == kept[kept.size() - 1 - j]);
        out.resize(values);  // what the header describes, right or wrong
        zfp_field_set_pointer(field, out.data());
        BOOST_TEST(zfp_decompress(zfp, field) == stream.size());
    } else {
        BOOST_ERROR("no zfp header");
    }
    zfp_field_free(field);
    zfp_stream_close(zfp);
    stream_close(bits);
    return out;
}

/// Checks points() of `x` against encode() and decode() of each point.
void check_points(const std::vector<float>& x, const Shape& s, std::uint64_t max_bits)
{
    const auto codec = zfp_block_codec();
    const auto points = codec->points(x, s, max_bits);
    BOOST_TEST_CONTEXT("extents " << format_shape(s) << ", max_bits " << max_bits)
    {
        BOOST_TEST(!points.empty());
        for (std::size_t i = 0; i < points.size(); ++i) {
            const CodecPoint& p = points[i];
            BOOST_TEST_CONTEXT("point " << i << ", setting " << std::hex << p.setting)
            {
                BOOST_TEST(p.bits <= max_bits);
                if (i > 0) {
                    BOOST_TEST(p.bits > points[i - 1].bits);
                    BOOST_TEST(p.squared_error < points[i - 1].squared_error);
                }
                const CodedBlock b = codec->encode(x, s, p.setting);
                BOOST_TEST(static_cast<int>(b.codec) == static_cast<int>(CodecId::zfp));
                BOOST_TEST(b.streams.size() == codec->stream_count(s));
                std::uint64_t bits = 0;
                for (const auto& stream : b.streams) bits += 8 * stream.size() + 32;
                BOOST_TEST(bits == p.bits);
                // Exactly the measured error, recomputed from the decode.
                BOOST_TEST(squared_error(x, decode(b, s)) == p.squared_error);
            }
        }
    }
}

const std::vector<Shape> shapes_with_planes = {{16, 16, 3}, {3, 8, 8}, {2, 3, 9, 5}, {5, 1, 7}, {4, 2, 4, 2}};

}  // namespace

BOOST_AUTO_TEST_CASE(stream_count_is_the_planes_of_modes_shorter_than_4)
{
    const auto codec = zfp_block_codec();
    BOOST_TEST(static_cast<int>(codec->id()) == static_cast<int>(CodecId::zfp));
    BOOST_TEST(codec->name() == "zfp");
    struct Case {
        Shape shape;
        std::size_t streams;
    };
    const Case cases[] = {
        {{5}, 1},
        {{4}, 1},
        {{7, 13}, 1},
        {{16, 16, 16}, 1},
        {{5, 7, 9, 11}, 1},
        {{16, 16, 3}, 3},
        {{3, 8, 8}, 3},
        {{2, 3, 9, 5}, 6},
        {{5, 1, 7}, 1},
        {{4, 2, 4, 2}, 4},
        {{4, 4, 4, 4, 3}, 3},
        {{3}, 0},
        {{2, 3}, 0},
        {{3, 3, 3}, 0},
        {{4, 4, 4, 4, 4}, 0},
        {{0, 8}, 0},
        {{}, 0},
        // zfp's header holds 16 bits per extent in 3-D, 12 in 4-D.
        {{65536, 4, 4}, 1},
        {{65537, 4, 4}, 0},
        {{4096, 4, 4, 4}, 1},
        {{4097, 4, 4, 4}, 0},
    };
    for (const Case& c : cases) BOOST_TEST(codec->stream_count(c.shape) == c.streams, format_shape(c.shape));
}

BOOST_AUTO_TEST_CASE(points_reproduce_through_encode_and_decode)
{
    std::uint64_t seed = 1;
    for (const Shape& s : std::vector<Shape>{{5}, {64}, {7, 13}, {16, 16}, {5, 7, 9}, {16, 16, 16}, {5, 6, 7, 4}, {4, 4, 4, 4}})
        for (const bool is_smooth : {true, false}) {
            const auto x = is_smooth ? smooth(s, seed++) : rough(s, seed++);
            check_points(x, s, no_limit);
        }
    for (const Shape& s : shapes_with_planes) check_points(smooth(s, seed++), s, no_limit);
}

BOOST_AUTO_TEST_CASE(max_bits_cuts_the_same_points)
{
    // A lower max_bits gives the points of no limit that fit, no other.
    const auto codec = zfp_block_codec();
    for (const Shape& s : std::vector<Shape>{{16, 16, 16}, {16, 16, 3}}) {
        const auto x = smooth(s, 7);
        const auto all = codec->points(x, s, no_limit);
        BOOST_TEST_REQUIRE(all.size() >= 6u);
        for (const std::uint64_t max_bits : {all[0].bits - 1, all[0].bits, all[3].bits + 1, all[all.size() / 2].bits,
                                             all.back().bits - 1}) {
            std::vector<CodecPoint> expected;
            for (const auto& p : all)
                if (p.bits <= max_bits) expected.push_back(p);
            const auto cut = codec->points(x, s, max_bits);
            BOOST_TEST_REQUIRE(cut.size() == expected.size(), format_shape(s) << ", max_bits " << max_bits);
            for (std::size_t i = 0; i < cut.size(); ++i) {
                BOOST_TEST(cut[i].bits == expected[i].bits);
                BOOST_TEST(cut[i].squared_error == expected[i].squared_error);
                BOOST_TEST(cut[i].setting == expected[i].setting);
            }
        }
        BOOST_TEST(codec->points(x, s, 0).empty());
    }
}

BOOST_AUTO_TEST_CASE(the_ladder_spans_low_rates_to_small_errors)
{
    // A smooth block: from about a bit per value or less (a 2-D zfp block
    // spends 9 of its 16 values' bits on its exponent, and a plane 128 on
    // header and size) to an error 10^-5 of the energy: at most 8 accuracy
    // points (5 a factor 2 apart in the tolerance, then 3 a factor 4 apart)
    // and the precision ladder p = 6, 8, … to an exact reconstruction, none
    // far from the next until the error is negligible.
    const auto codec = zfp_block_codec();
    for (const auto& [s, first_bits_per_value] :
         std::vector<std::pair<Shape, double>>{{{16, 16, 16}, 0.5}, {{32, 32}, 1.0}, {{16, 16, 3}, 1.5}}) {
        const auto x = smooth(s, 11);
        double energy = 0;
        for (const float v : x) energy += static_cast<double>(v) * v;
        const auto points = codec->points(x, s, no_limit);
        BOOST_TEST_CONTEXT(format_shape(s))
        {
            BOOST_TEST_REQUIRE(points.size() >= 7u);
            BOOST_TEST(points.size() <= 8u + 14u);
            BOOST_TEST(static_cast<double>(points.front().bits) < first_bits_per_value * static_cast<double>(x.size()));
            BOOST_TEST(points.front().squared_error < 0.5 * energy);
            BOOST_TEST(points.back().squared_error < 1e-5 * energy);
            for (std::size_t i = 1; i < points.size(); ++i)
                if (points[i].squared_error > 1e-6 * energy)
                    BOOST_TEST(points[i - 1].squared_error < 64 * points[i].squared_error);
            std::size_t accuracy = 0, precision = 0;
            for (const auto& p : points) {
                const std::uint32_t mode = p.setting >> 24, parameter = p.setting & 0xffffffu;
                BOOST_TEST(mode <= 1u);
                if (mode == 1) ++accuracy;
                if (mode == 0) {
                    ++precision;
                    BOOST_TEST((parameter >= 6 && parameter % 2 == 0));
                }
            }
            BOOST_TEST(accuracy >= 1u);
            BOOST_TEST(accuracy <= 8u);
        }
    }
}

BOOST_AUTO_TEST_CASE(each_stream_decodes_alone_as_its_plane)
{
    const auto codec = zfp_block_codec();
    std::uint64_t seed = 100;
    for (const Shape& s : shapes_with_planes)
        for (const std::uint32_t setting : {precision(12), accuracy(-6)}) {
            const auto x = smooth(s, seed++);
            const CodedBlock b = codec->encode(x, s, setting);
            const auto whole = decode(b, s);
            const Shape kept = kept_modes(s);
            BOOST_TEST_REQUIRE(b.streams.size() == codec->stream_count(s));
            for (std::size_t p = 0; p < b.streams.size(); ++p) {
                BOOST_TEST_CONTEXT(format_shape(s) << " plane " << p)
                {
                    const auto expected = plane(whole, s, p);
                    // As libzfp (zfpy) reads the stream alone.
                    const auto alone = zfp_alone(b.streams[p], kept);
                    BOOST_TEST(alone == expected, boost::test_tools::per_element());
                    // As the codec reads it: a block of the kept modes.
                    CodedBlock one{CodecId::zfp, {b.streams[p]}};
                    BOOST_TEST(decode(one, kept) == expected, boost::test_tools::per_element());
                    // And the stream is that of the gathered plane.
                    const CodedBlock gathered = codec->encode(plane(x, s, p), kept, setting);
                    BOOST_TEST(gathered.streams[0] == b.streams[p]);
                }
            }
        }
}

BOOST_AUTO_TEST_CASE(the_setting_is_the_zfp_mode_in_the_header)
{
    const Shape s{8, 8};
    const auto x = smooth(s, 5);
    const auto codec = zfp_block_codec();
    const auto header_mode = [&](std::uint32_t setting, unsigned& prec, double& tolerance) {
        const auto b = codec->encode(x, s, setting);
        std::vector<std::uint64_t> buffer(b.streams[0].size() / 8 + 8, 0);
        std::memcpy(buffer.data(), b.streams[0].data(), b.streams[0].size());
        bitstream* bits = stream_open(buffer.data(), 8 * buffer.size());
        zfp_stream* zfp = zfp_stream_open(bits);
        zfp_field* field = zfp_field_alloc();
        BOOST_TEST(zfp_read_header(zfp, field, ZFP_HEADER_FULL) == 96u);  // 32 magic + 52 field + 12 mode
        prec = zfp_stream_precision(zfp);
        tolerance = zfp_stream_accuracy(zfp);
        zfp_field_free(field);
        zfp_stream_close(zfp);
        stream_close(bits);
    };
    unsigned p = 0;
    double t = 0;
    header_mode(precision(1), p, t);
    BOOST_TEST(p == 1u);
    header_mode(precision(32), p, t);
    BOOST_TEST(p == 32u);
    header_mode(accuracy(-3), p, t);
    BOOST_TEST(t == 0.125);
    header_mode(accuracy(20), p, t);
    BOOST_TEST(t == 1048576.0);
    for (const std::uint32_t bad : {precision(0), precision(33), accuracy(-1075), accuracy(844), 2u << 24, 0xffffffffu})
        check_error([&] { codec->encode(x, s, bad); }, errc::invalid_argument, {"setting"});
}

BOOST_AUTO_TEST_CASE(zeros_and_constants_cost_a_few_bits_per_zfp_block)
{
    const auto codec = zfp_block_codec();
    // A stream is zfp's 96-bit full header and the zfp blocks' bits, in
    // whole stream words, and counts 32 bits more (its size); a zero zfp
    // block is one bit.
    const auto stream_bits = [](std::uint64_t payload) {
        const std::uint64_t w = stream_word_bits;
        return (96 + payload + w - 1) / w * w + 32;
    };
    struct Case {
        Shape shape;
        std::uint64_t zfp_blocks;  // per plane
    };
    for (const Case& c : {Case{{16, 16, 16}, 64}, Case{{5, 7, 9}, 12}, Case{{16, 16, 3}, 16}, Case{{64}, 16}}) {
        const std::uint64_t planes = codec->stream_count(c.shape);
        const std::vector<float> zeros(count(c.shape), 0.0f);
        const auto z = codec->points(zeros, c.shape, no_limit);
        BOOST_TEST_REQUIRE(z.size() == 1u);
        BOOST_TEST(z[0].squared_error == 0.0);
        BOOST_TEST(z[0].bits == planes * stream_bits(c.zfp_blocks), format_shape(c.shape));

        // A constant: the transform leaves one nonzero coefficient per zfp
        // block, which costs 1 + 8 bits of exponent and 2 bits a bit plane
        // (the coefficient's bit and a group test): 0.75 = 0.11b is exact
        // with 4 planes, 17 bits; any constant with all 32 planes, at most
        // 73. The last point is exact.
        for (const float value : {0.75f, -0.1f, 255.0f, 1e-20f}) {
            BOOST_TEST_CONTEXT(format_shape(c.shape) << " constant " << value)
            {
                const std::vector<float> constant(count(c.shape), value);
                const auto pts = codec->points(constant, c.shape, no_limit);
                BOOST_TEST_REQUIRE(!pts.empty());
                BOOST_TEST(pts.back().squared_error == 0.0);
                const std::uint64_t per_zfp_block = value == 0.75f ? 9 + 2 * 4 : 9 + 2 * 32;
                const std::uint64_t bound = planes * stream_bits(c.zfp_blocks * per_zfp_block);
                if (value == 0.75f)
                    BOOST_TEST(pts.back().bits == bound);
                else
                    BOOST_TEST(pts.back().bits <= bound);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(non_finite_values_have_no_points)
{
    const auto codec = zfp_block_codec();
    const Shape s{8, 8};
    for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity()}) {
        auto x = smooth(s, 3);
        x[37] = bad;
        BOOST_TEST(codec->points(x, s, no_limit).empty());
        check_error([&] { codec->encode(x, s, precision(8)); }, errc::bad_input, {"index 37"});
    }
}

BOOST_AUTO_TEST_CASE(blocks_it_cannot_store_have_no_points)
{
    const auto codec = zfp_block_codec();
    for (const Shape& s : std::vector<Shape>{{2, 3}, {3, 3, 3}, {4, 4, 4, 4, 4}}) {
        const auto x = smooth(s, 9);
        BOOST_TEST(codec->points(x, s, no_limit).empty());
        check_error([&] { codec->encode(x, s, precision(8)); }, errc::invalid_argument, {format_shape(s)});
    }
    check_error([&] { codec->points(std::vector<float>(10), Shape{4, 4}, no_limit); }, errc::invalid_argument, {"10 values"});
}

BOOST_AUTO_TEST_CASE(decode_refuses_what_is_not_this_block)
{
    const auto codec = zfp_block_codec();
    const Shape s{16, 16, 3};
    const auto x = smooth(s, 21);
    const CodedBlock good = codec->encode(x, s, accuracy(-4));
    std::vector<float> out(count(s));

    CodedBlock fewer = good;
    fewer.streams.pop_back();
    check_error([&] { codec->decode(fewer, s, out); }, errc::bad_input, {"2 zfp streams", "has 3"});

    CodedBlock other_codec = good;
    other_codec.codec = CodecId::sct;
    check_error([&] { codec->decode(other_codec, s, out); }, errc::bad_input, {"codec 0"});

    std::vector<float> small(count(s) - 1);
    check_error([&] { codec->decode(good, s, small); }, errc::bad_input, {"room for 767"});

    // A stream of other extents: another nx, another dimensionality.
    {
        const Shape t{16, 17, 3};
        std::vector<float> o(count(t));
        check_error([&] { codec->decode(good, t, o); }, errc::bad_input, {"stream 0", "nx=16", "nx=17"});
        const Shape u{16, 4, 4, 3};
        std::vector<float> p(count(u));
        check_error([&] { codec->decode(good, u, p); }, errc::bad_input, {"stream 0", "2-D", "3-D"});
    }
    // One stream of the wrong extents among right ones is named, and found
    // before anything is decoded.
    for (const std::size_t wrong : {std::size_t{1}, std::size_t{2}}) {
        const Shape t{3, 16, 17};
        CodedBlock b = codec->encode(smooth(t, 22), t, precision(8));
        b.streams[wrong] = good.streams[0];
        std::vector<float> o(count(t), -1.0f);
        check_error([&] { codec->decode(b, t, o); }, errc::bad_input, {"stream " + std::to_string(wrong), "ny=16", "nx=17"});
        BOOST_TEST(std::all_of(o.begin(), o.end(), [](float v) { return v == -1.0f; }));
    }

    // A float64 stream of the right shape.
    {
        const Shape t{8, 8};
        std::vector<double> d(64, 1.5);
        std::vector<std::uint64_t> buffer(4096, 0);
        bitstream* bits = stream_open(buffer.data(), 8 * buffer.size());
        zfp_stream* zfp = zfp_stream_open(bits);
        zfp_stream_set_precision(zfp, 20);
        zfp_field* field = zfp_field_2d(d.data(), zfp_type_double, 8, 8);
        BOOST_TEST_REQUIRE(zfp_write_header(zfp, field, ZFP_HEADER_FULL) > 0u);
        const std::size_t bytes = zfp_compress(zfp, field);
        BOOST_TEST_REQUIRE(bytes > 0u);
        const auto* p = reinterpret_cast<const std::uint8_t*>(buffer.data());
        CodedBlock b{CodecId::zfp, {std::vector<std::uint8_t>(p, p + bytes)}};
        zfp_field_free(field);
        zfp_stream_close(zfp);
        stream_close(bits);
        std::vector<float> o(64);
        check_error([&] { codec->decode(b, t, o); }, errc::bad_input, {"stream 0", "not float32"});
    }

    // Garbage: no zfp magic.
    {
        SplitMix64 g(5);
        CodedBlock b = good;
        for (auto& v : b.streams[1]) v = static_cast<std::uint8_t>(g.next());
        check_error([&] { codec->decode(b, s, out); }, errc::bad_input, {"stream 1", "header"});
        b.streams[1].clear();
        check_error([&] { codec->decode(b, s, out); }, errc::bad_input, {"stream 1", "header"});
    }
}

BOOST_AUTO_TEST_CASE(damaged_streams_never_read_past_their_copy)
{
    // Truncated at every length, and with the data after the header
    // scrambled: an Error or garbage values, never a crash or a read out of
    // bounds (valgrind on test-zfp checks the latter).
    const auto codec = zfp_block_codec();
    const Shape s{13, 9};
    const auto x = rough(s, 31);
    std::vector<float> out(count(s));
    std::size_t thrown = 0, decoded = 0;
    for (const std::uint32_t setting : {precision(32), accuracy(-20), precision(3)}) {
        const CodedBlock good = codec->encode(x, s, setting);
        for (std::size_t len = 0; len < good.streams[0].size(); ++len) {
            CodedBlock b = good;
            b.streams[0].resize(len);
            try {
                codec->decode(b, s, out);
                ++decoded;
            } catch (const Error& e) {
                BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(errc::bad_input));
                ++thrown;
            }
        }
        SplitMix64 g(setting);
        for (int trial = 0; trial < 50; ++trial) {
            CodedBlock b = good;
            for (std::size_t i = 12; i < b.streams[0].size(); ++i) b.streams[0][i] = static_cast<std::uint8_t>(g.next());
            try {
                codec->decode(b, s, out);
                ++decoded;
            } catch (const Error&) {
                ++thrown;
            }
        }
    }
    // A stream cut inside its data reads past its end: the decoder says so.
    BOOST_TEST(thrown > 0u);
    BOOST_TEST_MESSAGE(thrown << " damaged streams refused, " << decoded << " decoded to garbage");
}

BOOST_AUTO_TEST_CASE(truncated_stream_is_reported)
{
    const auto codec = zfp_block_codec();
    const Shape s{16, 16};
    const auto x = rough(s, 41);
    CodedBlock b = codec->encode(x, s, precision(16));
    const std::size_t full = b.streams[0].size();
    b.streams[0].resize(full - 10);
    std::vector<float> out(256);
    check_error([&] { codec->decode(b, s, out); }, errc::bad_input, {"stream 0", "truncated", std::to_string(full - 10) + " bytes"});
}

BOOST_AUTO_TEST_CASE(points_are_deterministic_across_threads)
{
    const auto codec = zfp_block_codec();
    const Shape s{16, 16, 3};
    const auto x = smooth(s, 51);
    const auto reference = codec->points(x, s, no_limit);
    std::vector<std::vector<CodecPoint>> results(4);
    std::vector<std::thread> threads;
    for (auto& r : results) threads.emplace_back([&] { r = codec->points(x, s, no_limit); });
    for (auto& t : threads) t.join();
    for (const auto& r : results) {
        BOOST_TEST_REQUIRE(r.size() == reference.size());
        for (std::size_t i = 0; i < r.size(); ++i) {
            BOOST_TEST(r[i].bits == reference[i].bits);
            BOOST_TEST(r[i].squared_error == reference[i].squared_error);
            BOOST_TEST(r[i].setting == reference[i].setting);
        }
    }
}
