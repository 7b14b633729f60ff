// Reading and writing plain HDF5 datasets.
#include <boost/test/unit_test.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "dataset_spec.hpp"
#include "io_test_support.hpp"
#include "signcut/hdf5.hpp"

using namespace signcut;
using namespace signcut::testing;

namespace {

/// Reads a whole dataset with the plain C API, converting to `memory_type`.
template <class T>
std::vector<T> raw_read(const std::string& path, const std::string& name, hid_t memory_type,
                        std::vector<hsize_t>* dims = nullptr)
{
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    hid_t d = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    BOOST_TEST_REQUIRE(d >= 0);
    hid_t space = H5Dget_space(d);
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    if (dims != nullptr) {
        dims->resize(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
        H5Sget_simple_extent_dims(space, dims->data(), nullptr);
    }
    std::vector<T> out(static_cast<std::size_t>(n));
    BOOST_TEST_REQUIRE(H5Dread(d, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0);
    H5Sclose(space);
    H5Dclose(d);
    H5Fclose(file);
    return out;
}

/// The dtype of a dataset as the C API describes it: class, size, sign.
struct RawType {
    H5T_class_t type_class;
    std::size_t size;
    H5T_order_t order;
};

RawType raw_type(const std::string& path, const std::string& name)
{
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    hid_t t = H5Dget_type(d);
    RawType r{H5Tget_class(t), H5Tget_size(t), H5Tget_order(t)};
    H5Tclose(t);
    H5Dclose(d);
    H5Fclose(file);
    return r;
}

template <class T>
void check_integer_type(const std::string& path, hid_t file_type, hid_t memory_type, const char* dtype)
{
    // The extremes, zero, and values around 2^24 where float32 starts to
    // round (for the wide types).
    std::vector<T> values{std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), T(0), T(1), T(100)};
    if constexpr (sizeof(T) >= 4) {
        values.push_back(T(16777217));
        values.push_back(T(2147483000));
    }
    if constexpr (std::is_signed_v<T>) values.push_back(T(-100));
    const std::vector<hsize_t> dims{1, values.size()};
    raw_write(path, "/v", file_type, memory_type, dims, values.data());

    const DatasetInfo info = inspect_dataset(path, "/v");
    BOOST_TEST(info.dtype == dtype);
    BOOST_TEST(info.shape == Shape({1, values.size()}), boost::test_tools::per_element());

    std::string original;
    const Tensor t = read_dataset(path, "/v", UINT64_MAX, &original);
    BOOST_TEST(original == dtype);
    BOOST_TEST_REQUIRE(t.size() == values.size());
    for (std::size_t i = 0; i < values.size(); ++i)
        BOOST_TEST(t.data()[i] == static_cast<float>(values[i]), dtype << " value " << +values[i]);
}

/// All positive finite binary16 values in increasing order (their bit
/// patterns 0x0000..0x7bff are monotonic), converted by HDF5 itself.
std::vector<float> positive_halves_by_hdf5(const std::string& path)
{
    std::vector<std::uint16_t> bits(0x7c00);
    std::iota(bits.begin(), bits.end(), std::uint16_t{0});
    hid_t half = make_half_type();
    raw_write(path, "/h", half, half, {bits.size()}, bits.data());
    H5Tclose(half);
    return raw_read<float>(path, "/h", H5T_NATIVE_FLOAT);
}

/// The binary16 nearest to v (ties to the even bit pattern), clamped to the
/// largest finite value: the policy write_dataset documents, by brute force.
std::uint16_t reference_half(float v, const std::vector<float>& halves)
{
    if (std::isinf(v)) return v > 0 ? 0x7c00 : 0xfc00;
    const std::uint16_t sign = std::signbit(v) ? 0x8000 : 0;
    const float a = std::fabs(v);
    const auto it = std::lower_bound(halves.begin(), halves.end(), a);
    if (it == halves.end()) return sign | 0x7bff;
    auto hi = static_cast<std::uint16_t>(it - halves.begin());
    if (*it == a || hi == 0) return sign | hi;
    const std::uint16_t lo = hi - 1;
    const double dlo = static_cast<double>(a) - halves[lo], dhi = static_cast<double>(halves[hi]) - a;
    if (dlo < dhi) return sign | lo;
    if (dhi < dlo) return sign | hi;
    return sign | ((lo & 1) == 0 ? lo : hi);
}

bool values_equal(const Tensor& t, const std::vector<float>& expected)
{
    return std::vector<float>(t.begin(), t.end()) == expected;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dataset)

BOOST_AUTO_TEST_CASE(float32_contiguous)
{
    ScratchDir dir;
    const std::string path = dir.file("f32.h5");
    std::vector<float> values(3 * 4 * 5);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.37f - 7.0f;
    raw_write(path, "/group/x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {3, 4, 5}, values.data());

    const DatasetInfo info = inspect_dataset(path, "/group/x");
    BOOST_TEST(info.dtype == "float32");
    BOOST_TEST(info.shape == Shape({3, 4, 5}), boost::test_tools::per_element());

    std::string original;
    const Tensor t = read_dataset(path, "/group/x", UINT64_MAX, &original);
    BOOST_TEST(original == "float32");
    BOOST_TEST(Shape(t.shape().begin(), t.shape().end()) == Shape({3, 4, 5}), boost::test_tools::per_element());
    BOOST_TEST(std::vector<float>(t.begin(), t.end()) == values, boost::test_tools::per_element());
    // A relative dataset name means the same dataset.
    const Tensor same = read_dataset(path, "group/x", UINT64_MAX);
    BOOST_TEST(std::vector<float>(same.begin(), same.end()) == values, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(float64_both_byte_orders_round_to_float32)
{
    ScratchDir dir;
    const std::vector<double> values{0.1, -1.0 / 3.0, 1e30, -2.5e-40, 123456789.123, 0.0, -0.0, 3.4028234e38};
    for (const hid_t file_type : {H5T_IEEE_F64LE, H5T_IEEE_F64BE}) {
        const std::string path = dir.file(file_type == H5T_IEEE_F64LE ? "le.h5" : "be.h5");
        raw_write(path, "/d", file_type, H5T_NATIVE_DOUBLE, {values.size()}, values.data());
        std::string original;
        const Tensor t = read_dataset(path, "/d", UINT64_MAX, &original);
        BOOST_TEST(original == "float64");
        for (std::size_t i = 0; i < values.size(); ++i)
            BOOST_TEST(std::bit_cast<std::uint32_t>(t.data()[i]) ==
                       std::bit_cast<std::uint32_t>(static_cast<float>(values[i])), "value " << values[i]);
    }
}

BOOST_AUTO_TEST_CASE(every_integer_type)
{
    ScratchDir dir;
    check_integer_type<std::int8_t>(dir.file("i8.h5"), H5T_STD_I8LE, H5T_NATIVE_INT8, "int8");
    check_integer_type<std::int16_t>(dir.file("i16.h5"), H5T_STD_I16BE, H5T_NATIVE_INT16, "int16");
    check_integer_type<std::int32_t>(dir.file("i32.h5"), H5T_STD_I32LE, H5T_NATIVE_INT32, "int32");
    check_integer_type<std::int64_t>(dir.file("i64.h5"), H5T_STD_I64BE, H5T_NATIVE_INT64, "int64");
    check_integer_type<std::uint8_t>(dir.file("u8.h5"), H5T_STD_U8LE, H5T_NATIVE_UINT8, "uint8");
    check_integer_type<std::uint16_t>(dir.file("u16.h5"), H5T_STD_U16LE, H5T_NATIVE_UINT16, "uint16");
    check_integer_type<std::uint32_t>(dir.file("u32.h5"), H5T_STD_U32BE, H5T_NATIVE_UINT32, "uint32");
    check_integer_type<std::uint64_t>(dir.file("u64.h5"), H5T_STD_U64LE, H5T_NATIVE_UINT64, "uint64");
}

BOOST_AUTO_TEST_CASE(float16_every_finite_value_matches_hdf5s_own_conversion)
{
    ScratchDir dir;
    // Every finite half, positive and negative, in a 2 x 31744 dataset.
    std::vector<std::uint16_t> bits;
    for (std::uint32_t b = 0; b < 0x7c00; ++b) bits.push_back(static_cast<std::uint16_t>(b));
    for (std::uint32_t b = 0x8000; b < 0xfc00; ++b) bits.push_back(static_cast<std::uint16_t>(b));
    for (const H5T_order_t order : {H5T_ORDER_LE, H5T_ORDER_BE}) {
        const std::string path = dir.file(order == H5T_ORDER_LE ? "half-le.h5" : "half-be.h5");
        const hid_t file_type = make_half_type(order);
        const hid_t memory_type = make_half_type(H5T_ORDER_LE);
        raw_write(path, "/h", file_type, memory_type, {2, bits.size() / 2}, bits.data());
        H5Tclose(file_type);
        H5Tclose(memory_type);

        const std::vector<float> expected = raw_read<float>(path, "/h", H5T_NATIVE_FLOAT);
        std::string original;
        const Tensor t = read_dataset(path, "/h", UINT64_MAX, &original);
        BOOST_TEST(original == "float16");
        BOOST_TEST_REQUIRE(t.size() == bits.size());
        std::size_t mismatches = 0;
        for (std::size_t i = 0; i < bits.size(); ++i)
            mismatches += std::bit_cast<std::uint32_t>(t.data()[i]) != std::bit_cast<std::uint32_t>(expected[i]);
        BOOST_TEST(mismatches == 0u);
        // Known values, independent of HDF5.
        BOOST_TEST(t.data()[0x3c00] == 1.0f);
        BOOST_TEST(t.data()[0x0001] == 0x1p-24f);
        BOOST_TEST(t.data()[0x03ff] == 1023 * 0x1p-24f);
        BOOST_TEST(t.data()[0x7bff] == 65504.0f);
        BOOST_TEST(t.data()[0x7c00 + 0x4000] == -2.0f);
        BOOST_TEST(std::signbit(t.data()[0x7c00]));  // -0
    }
}

BOOST_AUTO_TEST_CASE(chunked_gzip_shuffle)
{
    ScratchDir dir;
    const std::string path = dir.file("chunked.h5");
    // Dims that chunks do not divide, so edge chunks are partial.
    const std::vector<hsize_t> dims{37, 53}, chunk{8, 16};
    std::vector<float> f(37 * 53);
    std::vector<std::int16_t> s(37 * 53);
    for (std::size_t i = 0; i < f.size(); ++i) {
        f[i] = std::sin(static_cast<float>(i)) * 100.0f;
        s[i] = static_cast<std::int16_t>(static_cast<int>(i * 37) % 30000 - 15000);
    }
    raw_write(path, "/f", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, dims, f.data(), chunk, true, 6);
    raw_write(path, "/s", H5T_STD_I16LE, H5T_NATIVE_INT16, dims, s.data(), chunk, true, 9, true);

    // The datasets really are chunked and filtered (shuffle + deflate).
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    for (const char* name : {"/f", "/s"}) {
        hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
        hid_t dcpl = H5Dget_create_plist(d);
        BOOST_TEST(H5Pget_layout(dcpl) == H5D_CHUNKED);
        BOOST_TEST(H5Pget_nfilters(dcpl) == 2);
        H5Pclose(dcpl);
        H5Dclose(d);
    }
    H5Fclose(file);

    const Tensor tf = read_dataset(path, "/f", UINT64_MAX);
    BOOST_TEST(std::vector<float>(tf.begin(), tf.end()) == f, boost::test_tools::per_element());
    std::string original;
    const Tensor ts = read_dataset(path, "/s", UINT64_MAX, &original);
    BOOST_TEST(original == "int16");
    for (std::size_t i = 0; i < s.size(); ++i) BOOST_TEST_REQUIRE(ts.data()[i] == static_cast<float>(s[i]));
}

BOOST_AUTO_TEST_CASE(refuses_non_numeric_classes)
{
    ScratchDir dir;
    const std::string path = dir.file("classes.h5");
    // Fixed-length and variable-length strings.
    const char fixed[2][4] = {"abc", "def"};
    hid_t s4 = H5Tcopy(H5T_C_S1);
    H5Tset_size(s4, 4);
    raw_write(path, "/fixed", s4, s4, {2}, fixed);
    H5Tclose(s4);
    const char* vl[2] = {"x", "yz"};
    hid_t svl = H5Tcopy(H5T_C_S1);
    H5Tset_size(svl, H5T_VARIABLE);
    raw_write(path, "/vlen", svl, svl, {2}, vl, {}, false, -1, true);
    H5Tclose(svl);
    // A compound of two floats.
    struct Pair {
        float a, b;
    } pairs[3] = {{1, 2}, {3, 4}, {5, 6}};
    hid_t pair = H5Tcreate(H5T_COMPOUND, sizeof(Pair));
    H5Tinsert(pair, "a", HOFFSET(Pair, a), H5T_NATIVE_FLOAT);
    H5Tinsert(pair, "b", HOFFSET(Pair, b), H5T_NATIVE_FLOAT);
    raw_write(path, "/compound", pair, pair, {3}, pairs, {}, false, -1, true);
    H5Tclose(pair);
    // An enum over int8.
    hid_t colour = H5Tenum_create(H5T_NATIVE_INT8);
    std::int8_t red = 0, green = 1;
    H5Tenum_insert(colour, "red", &red);
    H5Tenum_insert(colour, "green", &green);
    const std::int8_t colours[2] = {0, 1};
    raw_write(path, "/enum", colour, colour, {2}, colours, {}, false, -1, true);
    H5Tclose(colour);
    // A 24-bit integer and a bfloat16-like float.
    hid_t i24 = H5Tcopy(H5T_STD_I32LE);
    H5Tset_precision(i24, 24);
    H5Tset_size(i24, 3);
    raw_write(path, "/int24", i24, H5T_NATIVE_INT32, {2}, std::vector<std::int32_t>{1, 2}.data(), {}, false, -1, true);
    H5Tclose(i24);
    hid_t bf16 = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(bf16, 15, 7, 8, 0, 7);
    H5Tset_size(bf16, 2);
    H5Tset_ebias(bf16, 127);
    raw_write(path, "/bfloat16", bf16, H5T_NATIVE_FLOAT, {2}, std::vector<float>{1, 2}.data(), {}, false, -1, true);
    H5Tclose(bf16);

    check_error([&] { read_dataset(path, "/fixed", UINT64_MAX); }, errc::bad_input, {path, "/fixed", "string"});
    check_error([&] { read_dataset(path, "/vlen", UINT64_MAX); }, errc::bad_input, {"/vlen", "string"});
    check_error([&] { read_dataset(path, "/compound", UINT64_MAX); }, errc::bad_input, {"/compound", "compound"});
    check_error([&] { read_dataset(path, "/enum", UINT64_MAX); }, errc::bad_input, {"/enum", "enum"});
    check_error([&] { inspect_dataset(path, "/enum"); }, errc::bad_input, {"/enum", "enum"});
    check_error([&] { read_dataset(path, "/int24", UINT64_MAX); }, errc::bad_input, {"/int24", "3-byte integer"});
    check_error([&] { read_dataset(path, "/bfloat16", UINT64_MAX); }, errc::bad_input, {"/bfloat16", "not IEEE binary16"});
}

BOOST_AUTO_TEST_CASE(refuses_rank_zero_and_zero_size)
{
    ScratchDir dir;
    const std::string path = dir.file("shapes.h5");
    const float one = 1.0f;
    raw_write(path, "/scalar", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {}, &one);
    raw_write(path, "/empty", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {4, 0}, nullptr, {}, false, -1, true);
    check_error([&] { read_dataset(path, "/scalar", UINT64_MAX); }, errc::bad_input, {"/scalar", "rank 0"});
    check_error([&] { inspect_dataset(path, "/scalar"); }, errc::bad_input, {"/scalar", "rank 0"});
    check_error([&] { read_dataset(path, "/empty", UINT64_MAX); }, errc::bad_input, {"/empty", "zero size", "4x0"});
}

BOOST_AUTO_TEST_CASE(refuses_nan_and_inf_naming_the_counts)
{
    ScratchDir dir;
    const std::string path = dir.file("nan.h5");
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    const std::vector<float> f{1, nan, 2, nan, -inf, nan, 3, 4};
    raw_write(path, "/f32", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {2, 4}, f.data());
    const std::vector<double> d{inf, 1, -inf, std::nan("")};
    raw_write(path, "/f64", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {4}, d.data(), {}, false, -1, true);
    const std::vector<std::uint16_t> h{0x3c00, 0x7c00, 0x7e00, 0xfc00, 0x7c01};
    const hid_t half = make_half_type();
    raw_write(path, "/f16", half, half, {5}, h.data(), {}, false, -1, true);
    H5Tclose(half);
    const std::vector<double> big{1.0, 1e300, -1e39, 5.0};
    raw_write(path, "/big", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {4}, big.data(), {}, false, -1, true);
    const std::vector<double> big_be{1e39, -std::numeric_limits<double>::infinity(), 3.0, -1e300, 1e40};
    raw_write(path, "/big_be", H5T_IEEE_F64BE, H5T_NATIVE_DOUBLE, {5}, big_be.data(), {}, false, -1, true);
    raw_write(path, "/f64_be", H5T_IEEE_F64BE, H5T_NATIVE_DOUBLE, {4}, d.data(), {}, false, -1, true);

    check_error([&] { read_dataset(path, "/f32", UINT64_MAX); }, errc::bad_input, {"/f32", "contains 3 NaN and 1 Inf values"});
    check_error([&] { read_dataset(path, "/f64", UINT64_MAX); }, errc::bad_input, {"/f64", "contains 1 NaN and 2 Inf values"});
    check_error([&] { read_dataset(path, "/f16", UINT64_MAX); }, errc::bad_input, {"/f16", "contains 2 NaN and 2 Inf values"});
    check_error([&] { read_dataset(path, "/f64_be", UINT64_MAX); }, errc::bad_input, {"/f64_be", "contains 1 NaN and 2 Inf values"});
    check_error([&] { read_dataset(path, "/big", UINT64_MAX); }, errc::bad_input, {"/big", "2 float64 values beyond the float32 range"});
    check_error([&] { read_dataset(path, "/big_be", UINT64_MAX); }, errc::bad_input, {"/big_be", "3 float64 values beyond the float32 range"});
}

BOOST_AUTO_TEST_CASE(refuses_missing_and_foreign_files)
{
    ScratchDir dir;
    const std::string missing = dir.file("missing.h5");
    check_error([&] { read_dataset(missing, "/x", UINT64_MAX); }, errc::io, {missing, "No such file"});
    check_error([&] { list_datasets(missing); }, errc::io, {missing});

    const std::string text = dir.file("text.h5");
    write_text(text, "this is not an HDF5 file, only some text\n");
    check_error([&] { read_dataset(text, "/x", UINT64_MAX); }, errc::bad_input, {text, "not an HDF5 file"});

    const std::string path = dir.file("ok.h5");
    const std::vector<float> v(1000, 1.0f);
    raw_write(path, "/a/x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {10, 100}, v.data());
    raw_write(path, "/b", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {1000}, v.data(), {}, false, -1, true);
    check_error([&] { read_dataset(path, "/nope", UINT64_MAX); }, errc::bad_input, {path, "no dataset /nope", "/a/x", "/b"});
    check_error([&] { read_dataset(path, "/a/nope/deeper", UINT64_MAX); }, errc::bad_input, {"no dataset /a/nope/deeper"});
    check_error([&] { read_dataset(path, "/a", UINT64_MAX); }, errc::bad_input, {"/a is not a dataset"});

    // A damaged file: the first half of a valid one.
    const std::vector<unsigned char> bytes = read_bytes(path);
    const std::string truncated = dir.file("truncated.h5");
    write_bytes(truncated, bytes.data(), bytes.size() / 2);
    check_error([&] { read_dataset(truncated, "/b", UINT64_MAX); }, errc::bad_input, {truncated});
}

BOOST_AUTO_TEST_CASE(refuses_data_beyond_the_memory_limit_before_reading)
{
    ScratchDir dir;
    const std::string path = dir.file("big.h5");
    // A 2^20 x 2^20 float32 dataset that is never written: HDF5 allocates
    // nothing for it, and the reader must refuse it from the shape alone.
    raw_write(path, "/huge", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {1u << 20, 1u << 20}, nullptr);
    check_error([&] { read_dataset(path, "/huge", 8ull << 30); }, errc::limit,
                {"/huge", "1048576x1048576", "4398046511104 bytes", "8589934592 bytes"});
    const std::vector<float> v(100, 2.0f);
    raw_write(path, "/small", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {10, 10}, v.data(), {}, false, -1, true);
    check_error([&] { read_dataset(path, "/small", 399); }, errc::limit, {"400 bytes", "399 bytes"});
    BOOST_TEST(read_dataset(path, "/small", 400).size() == 100u);
}

BOOST_AUTO_TEST_CASE(lists_and_resolves_datasets)
{
    ScratchDir dir;
    const std::vector<float> v(6, 1.0f);
    const std::string one = dir.file("one.h5");
    raw_write(one, "/only/here", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {2, 3}, v.data());
    const std::string many = dir.file("many.h5");
    raw_write(many, "/z", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {6}, v.data());
    raw_write(many, "/a/b", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {6}, v.data(), {}, false, -1, true);
    raw_write(many, "/a/c/d", H5T_STD_I8LE, H5T_NATIVE_FLOAT, {6}, v.data(), {}, false, -1, true);

    BOOST_TEST(list_datasets(many) == std::vector<std::string>({"/a/b", "/a/c/d", "/z"}), boost::test_tools::per_element());

    cli::DatasetRef r = cli::resolve_dataset(one);
    BOOST_TEST(r.file == one);
    BOOST_TEST(r.dataset == "/only/here");
    r = cli::resolve_dataset(many + ":/a/c/d");
    BOOST_TEST(r.file == many);
    BOOST_TEST(r.dataset == "/a/c/d");
    r = cli::resolve_dataset(many + "::/a/b");
    BOOST_TEST(r.dataset == "/a/b");
    r = cli::resolve_dataset(many + ":z");
    BOOST_TEST(r.dataset == "/z");

    check_error([&] { cli::resolve_dataset(many); }, errc::bad_input, {many, "holds 3 datasets", "/a/b", "/a/c/d", "/z"});
    check_error([&] { cli::resolve_dataset(many + ":/q"); }, errc::bad_input, {"no dataset /q"});
    check_error([&] { cli::resolve_dataset(dir.file("absent.h5") + ":/x"); }, errc::io, {dir.file("absent.h5"), "No such file"});

    // A file name with a colon in it.
    const std::string colon = dir.file("run:7.h5");
    raw_write(colon, "/x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {6}, v.data());
    r = cli::resolve_dataset(colon + ":/x");
    BOOST_TEST(r.file == colon);
    BOOST_TEST(r.dataset == "/x");
    BOOST_TEST(cli::resolve_dataset(colon).dataset == "/x");

    const std::string none = dir.file("none.h5");
    hid_t f = H5Fcreate(none.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(H5Gcreate2(f, "/empty_group", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(f);
    check_error([&] { cli::resolve_dataset(none); }, errc::bad_input, {none, "holds no datasets"});
}

BOOST_AUTO_TEST_CASE(write_float32_and_float64_exactly)
{
    ScratchDir dir;
    std::vector<float> v(2 * 3 * 4);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::ldexp(static_cast<float>(i) - 11.3f, static_cast<int>(i % 7) - 3);
    const Shape shape{2, 3, 4};
    const std::string p32 = dir.file("w32.h5"), p64 = dir.file("w64.h5");
    write_dataset(p32, "/data", v.data(), shape, "float32", false);
    write_dataset(p64, "nested/deeper/data", v.data(), shape, "float64", false);

    std::vector<hsize_t> dims;
    BOOST_TEST(raw_read<float>(p32, "/data", H5T_NATIVE_FLOAT, &dims) == v, boost::test_tools::per_element());
    BOOST_TEST(dims == std::vector<hsize_t>({2, 3, 4}), boost::test_tools::per_element());
    const RawType t32 = raw_type(p32, "/data");
    BOOST_TEST((t32.type_class == H5T_FLOAT && t32.size == 4 && t32.order == H5T_ORDER_LE));

    const std::vector<double> d = raw_read<double>(p64, "/nested/deeper/data", H5T_NATIVE_DOUBLE);
    for (std::size_t i = 0; i < v.size(); ++i) BOOST_TEST(d[i] == static_cast<double>(v[i]));
    const RawType t64 = raw_type(p64, "/nested/deeper/data");
    BOOST_TEST((t64.type_class == H5T_FLOAT && t64.size == 8));
    // And the project's reader agrees.
    std::string original;
    const Tensor back = read_dataset(p64, "/nested/deeper/data", UINT64_MAX, &original);
    BOOST_TEST(original == "float64");
    BOOST_TEST(std::vector<float>(back.begin(), back.end()) == v, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(write_integers_rounds_half_away_and_clamps)
{
    ScratchDir dir;
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<float> v{-40000.0f, -2.5f, -1.5f, -0.5f, 0.49f, 0.5f, 1.5f, 2.5f, 32767.4f, 32767.5f, 1e9f, inf, -inf};
    const std::string p16 = dir.file("i16.h5");
    write_dataset(p16, "/data", v.data(), Shape{v.size()}, "int16", false);
    BOOST_TEST(raw_read<std::int16_t>(p16, "/data", H5T_NATIVE_INT16) ==
                   std::vector<std::int16_t>({-32768, -3, -2, -1, 0, 1, 2, 3, 32767, 32767, 32767, 32767, -32768}),
               boost::test_tools::per_element());
    const RawType t16 = raw_type(p16, "/data");
    BOOST_TEST((t16.type_class == H5T_INTEGER && t16.size == 2));

    const std::vector<float> u{-1.0f, -0.4f, 0.5f, 127.5f, 254.5f, 255.5f, 1000.0f};
    const std::string p8 = dir.file("u8.h5");
    write_dataset(p8, "/data", u.data(), Shape{u.size()}, "uint8", false);
    BOOST_TEST(raw_read<std::uint8_t>(p8, "/data", H5T_NATIVE_UINT8) == std::vector<std::uint8_t>({0, 0, 1, 128, 255, 255, 255}),
               boost::test_tools::per_element());

    // 64-bit ends: 2^63 and 2^64 are the first floats past the ranges.
    const std::vector<float> w{9.2233720e18f, -9.3e18f, 1e19f, 0x1p64f, 0x1p62f};
    const std::string p64 = dir.file("i64.h5"), pu64 = dir.file("u64.h5");
    write_dataset(p64, "/data", w.data(), Shape{w.size()}, "int64", false);
    write_dataset(pu64, "/data", w.data(), Shape{w.size()}, "uint64", false);
    BOOST_TEST(raw_read<std::int64_t>(p64, "/data", H5T_NATIVE_INT64) ==
                   std::vector<std::int64_t>({INT64_MAX, INT64_MIN, INT64_MAX, INT64_MAX, std::int64_t{1} << 62}),
               boost::test_tools::per_element());
    BOOST_TEST(raw_read<std::uint64_t>(pu64, "/data", H5T_NATIVE_UINT64) ==
                   std::vector<std::uint64_t>({9223372036854775808ull, 0, 9999999980506447872ull, UINT64_MAX,
                                               std::uint64_t{1} << 62}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(write_integers_in_blocks_over_several_axes)
{
    ScratchDir dir;
    // 3 x 1100 x 1000 needs several hyperslab blocks per outer index, and
    // 2 x 3 x (2^20 + 5) splits inside the last axis.
    for (const Shape& shape : {Shape{3, 1100, 1000}, Shape{2, 3, (1u << 20) + 5}}) {
        std::uint64_t n = 1;
        for (const std::size_t d : shape) n *= d;
        std::vector<float> v(n);
        for (std::uint64_t i = 0; i < n; ++i) v[i] = static_cast<float>(static_cast<int>(i % 251) - 125);
        const std::string path = dir.file(fmt::format("blocks-{}.h5", shape.size() * shape[1]));
        write_dataset(path, "/data", v.data(), shape, "int8", false);
        std::vector<hsize_t> dims;
        const std::vector<std::int8_t> back = raw_read<std::int8_t>(path, "/data", H5T_NATIVE_INT8, &dims);
        BOOST_TEST(dims == std::vector<hsize_t>(shape.begin(), shape.end()), boost::test_tools::per_element());
        std::uint64_t wrong = 0;
        for (std::uint64_t i = 0; i < n; ++i) wrong += back[i] != static_cast<std::int8_t>(v[i]);
        BOOST_TEST(wrong == 0u);
    }
}

BOOST_AUTO_TEST_CASE(write_float16_rounds_to_nearest_even_and_clamps)
{
    ScratchDir dir;
    const std::vector<float> halves = positive_halves_by_hdf5(dir.file("halves.h5"));
    BOOST_TEST_REQUIRE(halves.size() == 0x7c00u);

    std::vector<float> v{0.0f, -0.0f, 1.0f / 3.0f, -2.0f / 3.0f, 65504.0f, 65519.0f, 65520.0f, 70000.0f, -1e30f,
                         std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), 1e-7f,
                         -3e-8f, 2.9802322e-08f /* 2^-25, a tie that goes to 0 */, 0x1p-14f, 0x1.ffcp-15f};
    // Every midpoint between neighbouring halves (ties) and points just
    // around them: where rounding mistakes show.
    SplitMix64 g(7);
    for (int i = 0; i < 3000; ++i) {
        const std::size_t k = static_cast<std::size_t>(g.next() % (halves.size() - 1));
        const float mid = static_cast<float>((static_cast<double>(halves[k]) + halves[k + 1]) / 2);
        v.push_back(mid);
        v.push_back(std::nextafter(mid, 0.0f));
        v.push_back(-std::nextafter(mid, 1e9f));
    }
    const std::string path = dir.file("f16.h5");
    write_dataset(path, "/data", v.data(), Shape{v.size()}, "float16", false);

    const RawType t = raw_type(path, "/data");
    BOOST_TEST((t.type_class == H5T_FLOAT && t.size == 2));
    const hid_t half = make_half_type();
    const std::vector<std::uint16_t> bits = raw_read<std::uint16_t>(path, "/data", half);
    H5Tclose(half);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const std::uint16_t expected = reference_half(v[i], halves);
        if (bits[i] != expected && wrong++ < 10)
            BOOST_ERROR(fmt::format("{:a} -> {:#06x}, expected {:#06x}", v[i], bits[i], expected));
    }
    BOOST_TEST(wrong == 0u);
    // And the project's reader returns the rounded, clamped values.
    const std::vector<float> finite{65519.0f, -1e30f, 1.0f / 3.0f};
    write_dataset(dir.file("finite16.h5"), "/data", finite.data(), Shape{3}, "float16", false);
    std::string original;
    const Tensor back = read_dataset(dir.file("finite16.h5"), "/data", UINT64_MAX, &original);
    BOOST_TEST(original == "float16");
    BOOST_TEST(values_equal(back, {65504.0f, -65504.0f, 0.333251953125f}));
}

BOOST_AUTO_TEST_CASE(write_refuses_bad_arguments_and_nan_integers)
{
    ScratchDir dir;
    const std::vector<float> v{1.0f, std::nanf(""), 3.0f};
    const std::string path = dir.file("nan.h5");
    check_error([&] { write_dataset(path, "/data", v.data(), Shape{3}, "int16", false); }, errc::invalid_argument,
                {path, "NaN", "entry 1", "int16"});
    BOOST_TEST(dir.entries().empty());  // neither output nor temporary

    check_error([&] { write_dataset(path, "/data", v.data(), Shape{3}, "complex64", false); }, errc::invalid_argument,
                {"complex64"});
    check_error([&] { write_dataset(path, "/", v.data(), Shape{3}, "float32", false); }, errc::invalid_argument,
                {"dataset name"});
    check_error([&] { write_dataset(path, "/data", v.data(), Shape{}, "float32", false); }, errc::invalid_argument,
                {"rank 0"});
    check_error([&] { write_dataset(path, "/data", v.data(), Shape{3, 0}, "float32", false); }, errc::invalid_argument,
                {"zero size"});
    BOOST_TEST(dir.entries().empty());
}

BOOST_AUTO_TEST_SUITE_END()
