// The lplr file layout, format version 2 (and version 1, still read): round
// trips through the one reader, the stored sizes against the payload the
// library counts, the bits counted from the packed arrays themselves, and
// what the reader refuses.
#include <boost/test/unit_test.hpp>

#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
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
    p.norm2 = 4321.5;
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

/// Factors quantized from random values (no fit): large ones cheaply.
LplrDecomposition random_factorization(std::size_t n, std::size_t d, std::size_t rank, unsigned bl, unsigned br,
                                       std::uint64_t seed)
{
    SplitMix64 g(seed);
    std::vector<float> l(n * rank), r(rank * d);
    for (float& v : l) v = static_cast<float>(g.normal());
    for (float& v : r) v = static_cast<float>(g.normal());
    return LplrDecomposition(Shape{n, d}, Matricization::parse("0|1", 2),
                             quantize(l.data(), n, rank, bl, ScaleAxis::column),
                             quantize(r.data(), rank, d, br, ScaleAxis::row));
}

const LplrDecomposition& lplr_of(const Decomposition& d)
{
    BOOST_TEST_REQUIRE(d.lplr() != nullptr, "not an lplr decomposition");
    return *d.lplr();
}

/// Opens `path` read-write, lets `edit` change /decomposition (and the
/// root), closes it.
void edit_file(const std::string& path, const std::function<void(hid_t group)>& edit,
               const std::function<void(hid_t file)>& edit_root = {})
{
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    const hid_t group = H5Gopen2(file, "/decomposition", H5P_DEFAULT);
    if (edit) edit(group);
    if (edit_root) edit_root(file);
    H5Gclose(group);
    H5Fclose(file);
}

void set_string(hid_t object, const char* name, const std::string& value, bool variable = false)
{
    if (H5Aexists(object, name) > 0) H5Adelete(object, name);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, variable ? H5T_VARIABLE : value.size() + 1);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char* text = value.c_str();
    if (variable)
        H5Awrite(a, type, &text);
    else
        H5Awrite(a, type, text);
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
}

void set_u64(hid_t object, const char* name, std::uint64_t value)
{
    if (H5Aexists(object, name) > 0) H5Adelete(object, name);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(object, name, H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_UINT64, &value);
    H5Aclose(a);
    H5Sclose(space);
}

void set_f64(hid_t object, const char* name, double value)
{
    if (H5Aexists(object, name) > 0) H5Adelete(object, name);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(object, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &value);
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
    std::uint64_t n = 1;
    for (const hsize_t d : dims_of(group, name)) n *= d;
    std::vector<std::uint64_t> words(n);
    const hid_t d = H5Dopen2(group, name, H5P_DEFAULT);
    H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, words.data());
    H5Dclose(d);
    return words;
}

/// Rewrites the words of a dataset through HDF5 (its checksums stay valid).
void rewrite_words(hid_t group, const char* name, const std::vector<std::uint64_t>& words)
{
    const hid_t d = H5Dopen2(group, name, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(H5Dwrite(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, words.data()) >= 0);
    H5Dclose(d);
}

/// Replaces a dataset with a contiguous one of `dims`.
void replace_words(hid_t group, const char* name, const std::vector<hsize_t>& dims, const std::vector<std::uint64_t>& words)
{
    if (H5Lexists(group, name, H5P_DEFAULT) > 0) H5Ldelete(group, name, H5P_DEFAULT);
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

/// A dataset's stored bytes, and whether fletcher32 protects it.
std::pair<std::uint64_t, bool> storage_of(hid_t group, const char* name)
{
    const hid_t d = H5Dopen2(group, name, H5P_DEFAULT);
    const std::uint64_t bytes = H5Dget_storage_size(d);
    const hid_t dcpl = H5Dget_create_plist(d);
    bool fletcher32 = false;
    for (int i = 0; i < H5Pget_nfilters(dcpl); ++i) {
        unsigned flags = 0, config = 0;
        std::size_t n = 0;
        char filter_name[64];
        if (H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &n, nullptr, sizeof filter_name, filter_name,
                           &config) == H5Z_FILTER_FLETCHER32)
            fletcher32 = true;
    }
    H5Pclose(dcpl);
    H5Dclose(d);
    return {bytes, fletcher32};
}

bool is_variable_string(hid_t object, const char* name)
{
    const hid_t a = H5Aopen(object, name, H5P_DEFAULT);
    const hid_t t = H5Aget_type(a);
    const bool variable = H5Tis_variable_str(t) > 0;
    H5Tclose(t);
    H5Aclose(a);
    return variable;
}

// --- version 1, as signcut 0.1 wrote it ------------------------------------------

void put_vlen(hid_t object, const char* name, const std::string& value) { set_string(object, name, value, true); }

void put_number(hid_t object, const char* name, hid_t file_type, hid_t memory_type, const void* value)
{
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(object, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, memory_type, value);
    H5Aclose(a);
    H5Sclose(space);
}

void put_array(hid_t group, const char* name, hid_t file_type, hid_t memory_type, const std::vector<hsize_t>& dims,
               const void* data)
{
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t d = H5Dcreate2(group, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(H5Dwrite(d, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(d);
    H5Sclose(space);
}

/// A version-1 lplr file: variable-length strings, contiguous arrays, codes
/// as [groups][words per group].
void write_v1_lplr(const std::string& path, const LplrDecomposition& f)
{
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    put_vlen(file, "signcut_format", "signcut-decomposition");
    const std::int32_t version = 1;
    put_number(file, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32, &version);
    const hid_t g = H5Gcreate2(file, "decomposition", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    put_vlen(g, "method", "lplr");
    const std::vector<std::uint64_t> shape(f.shape().begin(), f.shape().end());
    const hsize_t k = shape.size();
    const hid_t shape_space = H5Screate_simple(1, &k, nullptr);
    const hid_t a = H5Acreate2(g, "shape", H5T_STD_U64LE, shape_space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_UINT64, shape.data());
    H5Aclose(a);
    H5Sclose(shape_space);
    put_vlen(g, "original_dtype", "uint8");
    const std::uint64_t rank = f.rank(), seed = 3;
    put_number(g, "width", H5T_STD_U64LE, H5T_NATIVE_UINT64, &rank);
    put_vlen(g, "matricize", f.matricization().to_string());
    const std::uint8_t bl = static_cast<std::uint8_t>(f.bits_l()), br = static_cast<std::uint8_t>(f.bits_r());
    put_number(g, "bits_l", H5T_STD_U8LE, H5T_NATIVE_UINT8, &bl);
    put_number(g, "bits_r", H5T_STD_U8LE, H5T_NATIVE_UINT8, &br);
    put_vlen(g, "source", "v1");
    put_number(g, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seed);
    put_vlen(g, "signcut_version", "0.1.0");
    const double error = 0.5;
    put_number(g, "rel_fro_error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &error);
    put_vlen(g, "created", "2023-01-01T00:00:00Z");
    const hsize_t m = f.rank();
    put_array(g, "l_codes", H5T_STD_U64LE, H5T_NATIVE_UINT64, {m, f.left().words_per_group()}, f.left().words().data());
    put_array(g, "l_scales", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {m}, f.left().scales().data());
    put_array(g, "r_codes", H5T_STD_U64LE, H5T_NATIVE_UINT64, {m, f.right().words_per_group()},
              f.right().words().data());
    put_array(g, "r_scales", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {m}, f.right().scales().data());
    H5Gclose(g);
    BOOST_TEST_REQUIRE(H5Fclose(file) >= 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lplr_file)

BOOST_AUTO_TEST_CASE(round_trip_keeps_every_code_and_scale)
{
    Scratch dir;
    const LplrDecomposition f = sample_factorization();
    const std::string path = dir.file("f.lplr.h5");
    write_lplr(path, f, fixed_provenance(), false);

    DecompositionInfo info;
    const Decomposition any = read_decomposition(path, UINT64_MAX, &info);
    BOOST_TEST(any.method() == "lplr");
    const LplrDecomposition& back = lplr_of(any);
    BOOST_TEST((back.left() == f.left()));
    BOOST_TEST((back.right() == f.right()));
    BOOST_TEST(back.matricization().to_string() == "1|0,2");
    BOOST_TEST(back.shape() == f.shape(), boost::test_tools::per_element());
    const Tensor a = f.reconstruct(), b = back.reconstruct();
    BOOST_TEST(std::equal(a.begin(), a.end(), b.begin()));

    const DecompositionInfo meta = read_decomposition_info(path);
    for (const DecompositionInfo* i : std::initializer_list<const DecompositionInfo*>{&info, &meta}) {
        BOOST_TEST(i->method == "lplr");
        BOOST_TEST(i->format_version == 2);
        BOOST_TEST(i->width == 5u);
        BOOST_TEST(i->bits_l == 5u);
        BOOST_TEST(i->bits_r == 11u);
        BOOST_TEST(i->matricization.to_string() == "1|0,2");
        BOOST_TEST(i->norm2 == 4321.5);
        BOOST_TEST(i->provenance.norm2 == 4321.5);
        BOOST_TEST(i->provenance.original_dtype == "uint8");
        BOOST_TEST(i->provenance.seed == 3u);
        BOOST_TEST(i->provenance.rel_fro_error == 0.25);
        BOOST_TEST(i->provenance.created == "2024-01-01T00:00:00Z");
        BOOST_TEST(i->counted_bits_per_value() == f.bits_per_value());
        BOOST_TEST(i->bits_per_value() == any.bits_per_value());
        BOOST_TEST(i->file_bytes == fs::file_size(path));
    }

    // Two writes of the same factorization are byte-identical.
    const std::string again = dir.file("g.lplr.h5");
    write_lplr(again, f, fixed_provenance(), false);
    std::ifstream x(path, std::ios::binary), y(again, std::ios::binary);
    const std::string bx((std::istreambuf_iterator<char>(x)), {}), by((std::istreambuf_iterator<char>(y)), {});
    BOOST_TEST((bx == by));

    // The one reader returns an sct decomposition from an sct file.
    const std::string sct = dir.file("s.sct.h5");
    const Tensor m = low_rank_matrix(10, 12, 2, 32);
    DecomposeOptions o;
    o.width = 3;
    write_decomposition(sct, decompose(m, o), fixed_provenance(), false);
    BOOST_TEST(read_decomposition(sct, UINT64_MAX).method() == "sct");
    BOOST_TEST(read_decomposition_info(sct).method == "sct");

    // A region is served from the whole factorization.
    const Region region = parse_region("1:4,3,2:", f.shape());
    const Decomposition part = read_decomposition(path, UINT64_MAX, nullptr, &region);
    const Tensor r1 = part.reconstruct(region), r2 = any.reconstruct(region);
    BOOST_TEST(r1.size() == 3u * 5u);
    BOOST_TEST(std::equal(r1.begin(), r1.end(), r2.begin()));
}

BOOST_AUTO_TEST_CASE(stored_sizes_are_the_payload_the_library_counts)
{
    Scratch dir;
    // Small arrays, and codes of 1.2 MB that need two chunks.
    for (const auto& [f, name] : {std::pair{sample_factorization(), "sample"},
                                  std::pair{random_factorization(20000, 10, 60, 8, 3, 7), "large"}}) {
        BOOST_TEST_CONTEXT(name)
        {
            const std::string path = dir.file(fmt::format("{}.h5", name));
            write_lplr(path, f, fixed_provenance(), false);
            std::uint64_t total = 0;
            edit_file(path, [&](hid_t g) {
                for (const auto& [dataset, q, is_codes] :
                     {std::tuple{"l_codes", &f.left(), true}, std::tuple{"l_scales", &f.left(), false},
                      std::tuple{"r_codes", &f.right(), true}, std::tuple{"r_scales", &f.right(), false}}) {
                    BOOST_TEST_CONTEXT(dataset)
                    {
                        const std::uint64_t n = is_codes ? std::uint64_t(q->groups()) * q->words_per_group() : q->groups();
                        BOOST_TEST(dims_of(g, dataset) == std::vector<hsize_t>({n}), boost::test_tools::per_element());
                        const auto [bytes, fletcher32] = storage_of(g, dataset);
                        BOOST_TEST(bytes == stored_dataset_bytes(n, is_codes ? 8 : 4));
                        BOOST_TEST(fletcher32);
                        total += bytes;
                    }
                }
            });
            const DecompositionInfo info = read_decomposition_info(path);
            BOOST_TEST(info.payload_bytes == total);
            const Decomposition any = read_decomposition(path, UINT64_MAX);
            BOOST_TEST(any.bits_per_value() == 8.0 * static_cast<double>(total) / static_cast<double>(f.size()));
            BOOST_TEST(info.bits_per_value() == any.bits_per_value());
            BOOST_TEST((lplr_of(any).left() == f.left()));
            BOOST_TEST((lplr_of(any).right() == f.right()));
        }
    }
    BOOST_TEST(dataset_chunk_elements(60 * 2500, 8) < 60u * 2500u);  // the large codes span chunks
}

BOOST_AUTO_TEST_CASE(strings_are_fixed_length)
{
    Scratch dir;
    const std::string path = dir.file("strings.h5");
    write_lplr(path, sample_factorization(), fixed_provenance(), false);
    edit_file(
        path,
        [](hid_t g) {
            for (const char* name : {"method", "original_dtype", "matricize", "source", "signcut_version", "created"})
                BOOST_TEST(!is_variable_string(g, name), name);
        },
        [](hid_t file) { BOOST_TEST(!is_variable_string(file, "signcut_format")); });
}

BOOST_AUTO_TEST_CASE(stored_bits_are_the_bits_in_the_arrays)
{
    // Count from the file alone: every code of every packed group (its
    // length from the shape and split, checked against the words the group
    // holds) at its bit width, plus 32 per stored scale.
    Scratch dir;
    const LplrDecomposition f = sample_factorization();
    const std::string path = dir.file("bits.h5");
    write_lplr(path, f, fixed_provenance(), false);
    std::uint64_t bits = 0;
    edit_file(path, [&](hid_t g) {
        const std::uint64_t bl = u64_attribute(g, "bits_l"), br = u64_attribute(g, "bits_r");
        const std::uint64_t m = u64_attribute(g, "width");
        const std::uint64_t n = 24, d = 35;  // rows and columns of split 1|0,2 of 5 × 24 × 7
        for (const auto& [codes, scales, length, b] :
             {std::tuple{"l_codes", "l_scales", n, bl}, std::tuple{"r_codes", "r_scales", d, br}}) {
            const std::vector<hsize_t> dims = dims_of(g, codes);
            BOOST_TEST_REQUIRE(dims.size() == 1u);
            BOOST_TEST_REQUIRE(dims[0] % m == 0u);
            const std::uint64_t per_group = dims[0] / m;
            BOOST_TEST(per_group * 64 >= length * b);
            BOOST_TEST((per_group - 1) * 64 < length * b);
            const std::vector<std::uint64_t> words = words_of(g, codes);
            for (std::uint64_t group = 0; group < m; ++group)
                if (length * b % 64 != 0)
                    BOOST_TEST((words[group * per_group + per_group - 1] >> (length * b % 64)) == 0u);
            bits += m * length * b + 32 * dims_of(g, scales)[0];
        }
    });
    BOOST_TEST(bits == f.stored_bits());
    BOOST_TEST(static_cast<double>(bits) / (5 * 24 * 7) == read_decomposition_info(path).counted_bits_per_value());
}

BOOST_AUTO_TEST_CASE(version_1_files_are_still_read)
{
    Scratch dir;
    const LplrDecomposition f = sample_factorization();
    const std::string path = dir.file("v1.h5");
    write_v1_lplr(path, f);
    DecompositionInfo info;
    const Decomposition any = read_decomposition(path, UINT64_MAX, &info);
    BOOST_TEST((lplr_of(any).left() == f.left()));
    BOOST_TEST((lplr_of(any).right() == f.right()));
    BOOST_TEST(info.format_version == 1);
    BOOST_TEST(std::isnan(info.norm2));
    BOOST_TEST(info.provenance.source == "v1");
    BOOST_TEST(info.matricization.to_string() == "1|0,2");
    const std::uint64_t words = 5 * (f.left().words_per_group() + f.right().words_per_group());
    BOOST_TEST(info.payload_bytes == words * 8 + 2 * 5 * 4);  // contiguous: exactly the arrays
    BOOST_TEST(read_decomposition_info(path).counted_bits_per_value() == f.bits_per_value());
    // Version 1's shapes are checked as version 1 laid them out.
    edit_file(path, [](hid_t g) { set_u64(g, "width", 6); });
    expect_error([&] { read_decomposition_info(path); }, errc::bad_input,
                 "/decomposition/l_codes has shape 5x2, expected 6x2");
}

BOOST_AUTO_TEST_CASE(refuses_damaged_files)
{
    Scratch dir;
    const LplrDecomposition f = sample_factorization();
    const std::string good = dir.file("good.h5");
    write_lplr(good, f, fixed_provenance(), false);
    int serial = 0;
    const auto expect_refusal = [&](const std::function<void(hid_t)>& edit, errc code, const std::string& fragment,
                                    bool info_too, const std::function<void(hid_t)>& edit_root = {}) {
        const std::string path = dir.file(fmt::format("bad-{}.h5", ++serial));
        fs::copy_file(good, path);
        edit_file(path, edit, edit_root);
        BOOST_TEST_CONTEXT("case " << serial)
        {
            expect_error([&] { read_decomposition(path, UINT64_MAX); }, code, fragment);
            expect_error([&] { read_decomposition(path, UINT64_MAX); }, code, path);
            if (info_too) expect_error([&] { read_decomposition_info(path); }, code, fragment);
        }
    };
    // l_codes: 5 groups of ceil(24·5/64) = 2 words; r_codes: 5 of ceil(35·11/64) = 7.
    expect_refusal([](hid_t g) { set_string(g, "matricize", "1|0"); }, errc::bad_input, "leaves out mode 2", true);
    expect_refusal([](hid_t g) { set_string(g, "matricize", "1,0,2"); }, errc::bad_input, "/decomposition/matricize", true);
    expect_refusal([](hid_t g) { set_u64(g, "bits_l", 17); }, errc::bad_input, "/decomposition/bits_l is 17", true);
    expect_refusal([](hid_t g) { set_u64(g, "bits_r", 1); }, errc::bad_input, "/decomposition/bits_r is 1", true);
    expect_refusal([](hid_t g) { set_u64(g, "width", 0); }, errc::bad_input, "rank >= 1", true);
    expect_refusal([](hid_t g) { set_u64(g, "width", 6); }, errc::bad_input,
                   "/decomposition/l_codes has 10 entries, expected 12", true);
    expect_refusal([](hid_t g) { set_u64(g, "bits_l", 6); }, errc::bad_input,
                   "/decomposition/l_codes has 10 entries, expected 15", true);
    expect_refusal([](hid_t g) { replace_words(g, "l_codes", {5, 2}, words_of(g, "l_codes")); }, errc::bad_input,
                   "/decomposition/l_codes has shape 5x2, expected a 1-D array of 10 entries", true);
    expect_refusal([](hid_t g) { H5Ldelete(g, "r_scales", H5P_DEFAULT); }, errc::bad_input,
                   "dataset /decomposition/r_scales is missing", true);
    expect_refusal([](hid_t g) { H5Adelete(g, "matricize"); }, errc::bad_input, "/decomposition/matricize is missing",
                   true);
    expect_refusal([](hid_t g) { H5Adelete(g, "norm2"); }, errc::bad_input, "/decomposition/norm2 is missing", true);
    expect_refusal([](hid_t g) { set_f64(g, "norm2", -2.0); }, errc::bad_input, "/decomposition/norm2 is -2", true);
    expect_refusal([](hid_t g) { set_f64(g, "norm2", std::numeric_limits<double>::infinity()); }, errc::bad_input,
                   "/decomposition/norm2 is inf", true);
    expect_refusal([](hid_t g) { set_string(g, "matricize", "1|0,2", true); }, errc::bad_input,
                   "/decomposition/matricize is a variable-length string", true);
    expect_refusal([](hid_t g) { set_u64(g, "scales_refit", 0); }, errc::bad_input,
                   "/decomposition/scales_refit is not an attribute of a version-2 lplr decomposition", true);
    expect_refusal([](hid_t g) { set_u64(g, "block_shape", 1); }, errc::bad_input,
                   "/decomposition/block_shape is not an attribute of a version-2 lplr decomposition", true);
    expect_refusal(
        [](hid_t g) { replace_words(g, "widths", {1}, {1}); }, errc::bad_input,
        "/decomposition/widths is not part of a version-2 lplr decomposition", true);
    expect_refusal({}, errc::unsupported, "format version 4 needs a newer signcut", true, [](hid_t file) {
        const std::int32_t v = 4;
        H5Adelete(file, "format_version");
        put_number(file, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32, &v);
    });
    // Version 3 adds the codec record of sct blocks: never an lplr file.
    expect_refusal({}, errc::bad_input, "format_version 3 and method lplr", true, [](hid_t file) {
        const std::int32_t v = 3;
        H5Adelete(file, "format_version");
        put_number(file, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32, &v);
    });
    // Arrays are read only by read_decomposition: padding bits and the unused code.
    expect_refusal(
        [](hid_t g) {
            std::vector<std::uint64_t> w = words_of(g, "l_codes");  // 24 codes of 5 bits: 120 of 128 bits
            w[2 * 2 + 1] |= std::uint64_t{1} << 60;
            rewrite_words(g, "l_codes", w);
        },
        errc::bad_input, "padding bits", false);
    expect_refusal(
        [](hid_t g) {
            std::vector<std::uint64_t> w = words_of(g, "r_codes");
            w[0] &= ~std::uint64_t{0x7ff};  // code 0 of group 0 becomes 0 (unused)
            rewrite_words(g, "r_codes", w);
        },
        errc::bad_input, "all-zero pattern", false);
    expect_error([&] { read_decomposition(good, 1000); }, errc::limit, "memory limit");

    // A flipped byte on disk: the checksum fails.
    std::ifstream in(good, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    const hid_t file = H5Fopen(good.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    const hid_t d = H5Dopen2(file, "/decomposition/r_codes", H5P_DEFAULT);
    const hid_t space = H5Dget_space(d);
    hsize_t offset = 0, size = 0;
    unsigned mask = 0;
    haddr_t address = 0;
    BOOST_TEST_REQUIRE(H5Dget_chunk_info(d, space, 0, &offset, &mask, &address, &size) >= 0);
    H5Sclose(space);
    H5Dclose(d);
    H5Fclose(file);
    bytes.at(address + 3) ^= 0x01;
    const std::string flipped = dir.file("flipped.h5");
    std::ofstream(flipped, std::ios::binary) << bytes;
    expect_error([&] { read_decomposition(flipped, UINT64_MAX); }, errc::bad_input, "Fletcher32 checksum");
}

BOOST_AUTO_TEST_CASE(writer_refuses_bad_input)
{
    Scratch dir;
    const std::string path = dir.file("out.h5");
    Provenance p = fixed_provenance();
    p.norm2 = -1;
    expect_error([&] { write_lplr(path, sample_factorization(), p, false); }, errc::invalid_argument, "norm2");
    p = fixed_provenance();
    p.original_dtype = "complex64";
    expect_error([&] { write_lplr(path, sample_factorization(), p, false); }, errc::invalid_argument, "complex64");
    expect_error([&] { write_lplr(path, LplrDecomposition{}, fixed_provenance(), false); }, errc::invalid_argument,
                 "order 0");
    BOOST_TEST(!fs::exists(path));
}

BOOST_AUTO_TEST_SUITE_END()
