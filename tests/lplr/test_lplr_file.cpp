// The lplr file layout: round trips, the stored bits counted from the
// packed arrays themselves, and what the readers refuse.
#include <boost/test/unit_test.hpp>

#include <hdf5.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <tuple>

#include <fmt/format.h>

#include "lplr_test_support.hpp"
#include "signcut/decompose.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/lplr.hpp"

using namespace signcut;
using namespace signcut::testing;
namespace fs = std::filesystem;

namespace {

class Scratch {
public:
    Scratch()
    {
        std::string pattern = (fs::temp_directory_path() / "signcut-lplr-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~Scratch()
    {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

Provenance fixed_provenance()
{
    Provenance p;
    p.original_dtype = "uint8";
    p.source = "test";
    p.seed = 3;
    p.signcut_version = "0.0.0";
    p.rel_fro_error = 0.25;
    p.created = "2024-01-01T00:00:00Z";
    return p;
}

/// A rank-5 factorization of an order-3 tensor under a permuted split.
LplrDecomposition sample_factorization()
{
    const Tensor m = low_rank_matrix(24, 35, 7, 31);
    Tensor t = Tensor::from_shape({5, 24, 7});
    for (std::size_t i = 0; i < 24; ++i)
        for (std::size_t a = 0; a < 5; ++a)
            for (std::size_t b = 0; b < 7; ++b) t(a, i, b) = m(i, a * 7 + b);
    LplrOptions o;
    o.rank = 5;
    o.bits_l = 5;
    o.bits_r = 11;
    o.matricization = Matricization::parse("1|0,2", 3);
    return lplr(view_of(t), o);
}

/// Opens `path` read-write, lets `edit` change /decomposition, closes it.
void edit_file(const std::string& path, const std::function<void(hid_t group)>& edit)
{
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    const hid_t group = H5Gopen2(file, "/decomposition", H5P_DEFAULT);
    edit(group);
    H5Gclose(group);
    H5Fclose(file);
}

void set_string(hid_t object, const char* name, const std::string& value)
{
    H5Adelete(object, name);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, value.size() + 1);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, type, value.c_str());
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
}

void set_u64(hid_t object, const char* name, std::uint64_t value)
{
    H5Adelete(object, name);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(object, name, H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_UINT64, &value);
    H5Aclose(a);
    H5Sclose(space);
}

std::vector<hsize_t> dims_of(hid_t group, const char* name)
{
    const hid_t d = H5Dopen2(group, name, H5P_DEFAULT);
    const hid_t space = H5Dget_space(d);
    std::vector<hsize_t> dims(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    H5Sclose(space);
    H5Dclose(d);
    return dims;
}

std::vector<std::uint64_t> words_of(hid_t group, const char* name)
{
    const std::vector<hsize_t> dims = dims_of(group, name);
    std::vector<std::uint64_t> words(dims[0] * dims[1]);
    const hid_t d = H5Dopen2(group, name, H5P_DEFAULT);
    H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, words.data());
    H5Dclose(d);
    return words;
}

void replace_words(hid_t group, const char* name, const std::vector<hsize_t>& dims, const std::vector<std::uint64_t>& words)
{
    H5Ldelete(group, name, H5P_DEFAULT);
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t d = H5Dcreate2(group, name, H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, words.data());
    H5Dclose(d);
    H5Sclose(space);
}

std::uint64_t u64_attribute(hid_t object, const char* name)
{
    std::uint64_t v = 0;
    const hid_t a = H5Aopen(object, name, H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_UINT64, &v);
    H5Aclose(a);
    return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lplr_file)

BOOST_AUTO_TEST_CASE(round_trip_keeps_every_code_and_scale)
{
    Scratch dir;
    const LplrDecomposition f = sample_factorization();
    const std::string path = dir.file("f.lplr.h5");
    write_lplr(path, f, fixed_provenance(), false);
    BOOST_TEST(read_decomposition_method(path) == "lplr");

    LplrFileInfo info;
    const LplrDecomposition back = read_lplr(path, UINT64_MAX, &info);
    BOOST_TEST((back.left() == f.left()));
    BOOST_TEST((back.right() == f.right()));
    BOOST_TEST(back.matricization().to_string() == "1|0,2");
    BOOST_TEST(back.shape() == f.shape(), boost::test_tools::per_element());
    const Tensor a = f.reconstruct(), b = back.reconstruct();
    BOOST_TEST(std::equal(a.begin(), a.end(), b.begin()));

    const LplrFileInfo meta = read_lplr_info(path);
    BOOST_TEST(meta.rank == 5u);
    BOOST_TEST(meta.bits_l == 5u);
    BOOST_TEST(meta.bits_r == 11u);
    BOOST_TEST(meta.matricization.to_string() == "1|0,2");
    BOOST_TEST(meta.provenance.original_dtype == "uint8");
    BOOST_TEST(meta.provenance.seed == 3u);
    BOOST_TEST(meta.provenance.rel_fro_error == 0.25);
    BOOST_TEST(meta.provenance.created == "2024-01-01T00:00:00Z");
    BOOST_TEST(meta.bits_per_value() == f.bits_per_value());

    // Two writes of the same factorization are byte-identical.
    const std::string again = dir.file("g.lplr.h5");
    write_lplr(again, f, fixed_provenance(), false);
    std::ifstream x(path, std::ios::binary), y(again, std::ios::binary);
    const std::string bx((std::istreambuf_iterator<char>(x)), {}), by((std::istreambuf_iterator<char>(y)), {});
    BOOST_TEST((bx == by));

    // An sct file says so, and the lplr reader refuses it.
    const std::string sct = dir.file("s.sct.h5");
    const Tensor m = low_rank_matrix(10, 12, 2, 32);
    DecomposeOptions o;
    o.width = 3;
    write_decomposition(sct, decompose(m, o), fixed_provenance(), false);
    BOOST_TEST(read_decomposition_method(sct) == "sct");
    expect_error([&] { read_lplr_info(sct); }, errc::bad_input, "holds a sct decomposition");
}

BOOST_AUTO_TEST_CASE(stored_bits_are_the_bits_in_the_arrays)
{
    // Count from the file alone: every code of every packed row (its length
    // from the shape and split, checked against the words the row holds)
    // at its bit width, plus 32 per stored scale.
    Scratch dir;
    const LplrDecomposition f = sample_factorization();
    const std::string path = dir.file("bits.h5");
    write_lplr(path, f, fixed_provenance(), false);
    std::uint64_t bits = 0;
    edit_file(path, [&](hid_t g) {
        const std::uint64_t bl = u64_attribute(g, "bits_l"), br = u64_attribute(g, "bits_r");
        const std::uint64_t n = 24, d = 35;  // rows and columns of split 1|0,2 of 5 × 24 × 7
        for (const auto& [codes, scales, length, b] :
             {std::tuple{"l_codes", "l_scales", n, bl}, std::tuple{"r_codes", "r_scales", d, br}}) {
            const std::vector<hsize_t> dims = dims_of(g, codes);
            BOOST_TEST_REQUIRE(dims.size() == 2u);
            BOOST_TEST(dims[1] * 64 >= length * b);
            BOOST_TEST((dims[1] - 1) * 64 < length * b);
            const std::vector<std::uint64_t> words = words_of(g, codes);
            for (hsize_t row = 0; row < dims[0]; ++row)
                if (length * b % 64 != 0) BOOST_TEST((words[row * dims[1] + dims[1] - 1] >> (length * b % 64)) == 0u);
            bits += dims[0] * length * b + 32 * dims_of(g, scales)[0];
        }
    });
    BOOST_TEST(bits == f.stored_bits());
    BOOST_TEST(static_cast<double>(bits) / (5 * 24 * 7) == read_lplr_info(path).bits_per_value());
}

BOOST_AUTO_TEST_CASE(refuses_damaged_files)
{
    Scratch dir;
    const LplrDecomposition f = sample_factorization();
    const std::string good = dir.file("good.h5");
    write_lplr(good, f, fixed_provenance(), false);
    int serial = 0;
    const auto expect_refusal = [&](const std::function<void(hid_t)>& edit, errc code, const std::string& fragment,
                                    bool info_too) {
        const std::string path = dir.file(fmt::format("bad-{}.h5", ++serial));
        fs::copy_file(good, path);
        edit_file(path, edit);
        BOOST_TEST_CONTEXT("case " << serial)
        {
            expect_error([&] { read_lplr(path, UINT64_MAX); }, code, fragment);
            if (info_too) expect_error([&] { read_lplr_info(path); }, code, fragment);
        }
    };
    expect_refusal([](hid_t g) { set_string(g, "matricize", "1|0"); }, errc::bad_input, "leaves out mode 2", true);
    expect_refusal([](hid_t g) { set_string(g, "matricize", "1,0,2"); }, errc::bad_input, "/decomposition/matricize", true);
    expect_refusal([](hid_t g) { set_u64(g, "bits_l", 17); }, errc::bad_input, "/decomposition/bits_l is 17", true);
    expect_refusal([](hid_t g) { set_u64(g, "bits_r", 1); }, errc::bad_input, "/decomposition/bits_r is 1", true);
    expect_refusal([](hid_t g) { set_u64(g, "width", 0); }, errc::bad_input, "rank >= 1", true);
    expect_refusal([](hid_t g) { set_u64(g, "width", 6); }, errc::bad_input, "/decomposition/l_codes has shape 5x2, expected 6x2", true);
    expect_refusal([](hid_t g) { set_u64(g, "bits_l", 6); }, errc::bad_input, "/decomposition/l_codes has shape 5x2, expected 5x3", true);
    expect_refusal([](hid_t g) { H5Ldelete(g, "r_scales", H5P_DEFAULT); }, errc::bad_input, "dataset /decomposition/r_scales is missing", true);
    expect_refusal([](hid_t g) { H5Adelete(g, "matricize"); }, errc::bad_input, "/decomposition/matricize is missing", true);
    // Arrays are read only by read_lplr: padding bits and the unused code.
    expect_refusal(
        [](hid_t g) {
            std::vector<std::uint64_t> w = words_of(g, "l_codes");  // 24 codes of 5 bits: 120 of 128 bits
            w[2 * 2 + 1] |= std::uint64_t{1} << 60;
            replace_words(g, "l_codes", {5, 2}, w);
        },
        errc::bad_input, "padding bits", false);
    expect_refusal(
        [](hid_t g) {
            std::vector<std::uint64_t> w = words_of(g, "r_codes");
            w[0] &= ~std::uint64_t{0x7ff};  // code 0 of row 0 becomes 0 (unused)
            replace_words(g, "r_codes", {5, 7}, w);
        },
        errc::bad_input, "all-zero pattern", false);
    expect_error([&] { read_lplr(good, 1000); }, errc::limit, "memory limit");
}

BOOST_AUTO_TEST_SUITE_END()
