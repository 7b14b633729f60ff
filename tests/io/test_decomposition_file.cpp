// Decomposition files: round trips, an independent reader, byte-identical
// rewrites, h5dump, the Python reader of docs/FORMAT.md, and refusals.
#include <boost/test/unit_test.hpp>

#include <array>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>
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

const std::vector<Shape>& test_shapes()
{
    // Orders 1 to 4; dims below, at and above word boundaries, mostly not
    // multiples of 64.
    static const std::vector<Shape> shapes{{1}, {130}, {64, 3}, {5, 70}, {3, 65, 7}, {2, 3, 129, 5}};
    return shapes;
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
    return p;
}

/// Opens a file read-write, runs `edit`, closes it: for building damaged
/// files the way a careless writer would.
void edit_file(const std::string& path, const std::function<void(hid_t file, hid_t group)>& edit)
{
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    hid_t group = H5Gopen2(file, "/decomposition", H5P_DEFAULT);
    BOOST_TEST_REQUIRE(group >= 0);
    edit(file, group);
    H5Gclose(group);
    BOOST_TEST_REQUIRE(H5Fclose(file) >= 0);
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

void set_i32_attribute(hid_t object, const char* name, std::int32_t value)
{
    if (H5Aexists(object, name) > 0) H5Adelete(object, name);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(object, name, H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT32, &value);
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

void replace_sign_array(hid_t group, std::size_t mode, const std::vector<hsize_t>& dims,
                        const std::vector<std::uint64_t>& words)
{
    const std::string name = fmt::format("signs/mode_{}", mode);
    if (H5Lexists(group, name.c_str(), H5P_DEFAULT) > 0) H5Ldelete(group, name.c_str(), H5P_DEFAULT);
    hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    hid_t d = H5Dcreate2(group, name.c_str(), H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(d >= 0);
    if (!words.empty()) H5Dwrite(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, words.data());
    H5Dclose(d);
    H5Sclose(space);
}

// --- an independent reader: raw HDF5 calls only ----------------------------------

std::string raw_string_attribute(hid_t object, const char* name)
{
    hid_t a = H5Aopen(object, name, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(a >= 0, "attribute " << name);
    hid_t type = H5Aget_type(a);
    // The format prescribes variable-length UTF-8 scalars.
    BOOST_TEST(H5Tget_class(type) == H5T_STRING);
    BOOST_TEST(H5Tis_variable_str(type) > 0, name << " is not variable-length");
    BOOST_TEST(H5Tget_cset(type) == H5T_CSET_UTF8, name << " is not UTF-8");
    hid_t space = H5Aget_space(a);
    BOOST_TEST(H5Sget_simple_extent_type(space) == H5S_SCALAR);
    char* text = nullptr;
    BOOST_TEST_REQUIRE(H5Aread(a, type, &text) >= 0);
    std::string value = text;
    H5free_memory(text);
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
std::vector<T> raw_dataset(hid_t group, const std::string& name, hid_t expected, hid_t memory_type,
                           std::vector<hsize_t>& dims)
{
    hid_t d = H5Dopen2(group, name.c_str(), H5P_DEFAULT);
    BOOST_TEST_REQUIRE(d >= 0, "dataset " << name);
    hid_t type = H5Dget_type(d);
    BOOST_TEST(H5Tequal(type, expected) > 0, "stored type of " << name);
    hid_t space = H5Dget_space(d);
    dims.resize(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    std::vector<T> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    if (!values.empty()) BOOST_TEST_REQUIRE(H5Dread(d, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
    H5Sclose(space);
    H5Tclose(type);
    H5Dclose(d);
    return values;
}

/// Rebuilds the tensor of a file element by element from the bits, as
/// FORMAT.md describes it, in double.
std::vector<double> raw_reconstruct(const std::string& path, Shape& shape_out)
{
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    BOOST_TEST(raw_string_attribute(file, "signcut_format") == "signcut-decomposition");
    BOOST_TEST(raw_attribute<std::int32_t>(file, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32).at(0) == 1);
    hid_t g = H5Gopen2(file, "/decomposition", H5P_DEFAULT);
    BOOST_TEST_REQUIRE(g >= 0);
    BOOST_TEST(raw_string_attribute(g, "method") == "sct");
    const std::vector<std::uint64_t> shape = raw_attribute<std::uint64_t>(g, "shape", H5T_STD_U64LE, H5T_NATIVE_UINT64);
    const std::uint64_t width = raw_attribute<std::uint64_t>(g, "width", H5T_STD_U64LE, H5T_NATIVE_UINT64).at(0);
    BOOST_TEST(raw_attribute<std::uint8_t>(g, "scales_refit", H5T_STD_U8LE, H5T_NATIVE_UINT8).size() == 1u);
    BOOST_TEST(raw_attribute<std::uint64_t>(g, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64).size() == 1u);
    BOOST_TEST(raw_attribute<double>(g, "rel_fro_error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE).size() == 1u);
    for (const char* name : {"original_dtype", "source", "signcut_version", "created"}) raw_string_attribute(g, name);

    std::vector<hsize_t> dims;
    const std::vector<float> scales = raw_dataset<float>(g, "scales", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, dims);
    BOOST_TEST(dims == std::vector<hsize_t>({width}), boost::test_tools::per_element());
    std::vector<std::vector<std::uint64_t>> words;
    for (std::size_t a = 0; a < shape.size(); ++a) {
        words.push_back(raw_dataset<std::uint64_t>(g, fmt::format("signs/mode_{}", a), H5T_STD_U64LE,
                                                   H5T_NATIVE_UINT64, dims));
        BOOST_TEST(dims == std::vector<hsize_t>({width, (shape[a] + 63) / 64}), boost::test_tools::per_element());
    }
    H5Gclose(g);
    H5Fclose(file);

    shape_out.assign(shape.begin(), shape.end());
    std::uint64_t n = 1;
    for (const std::uint64_t d : shape) n *= d;
    std::vector<double> x(n);
    std::vector<std::uint64_t> index(shape.size(), 0);
    for (std::uint64_t flat = 0; flat < n; ++flat) {
        double sum = 0;
        for (std::uint64_t j = 0; j < width; ++j) {
            int sign = 1;
            for (std::size_t a = 0; a < shape.size(); ++a) {
                const std::uint64_t stride = (shape[a] + 63) / 64;
                const std::uint64_t word = words[a][j * stride + index[a] / 64];
                if ((word >> (index[a] % 64)) & 1u) sign = -sign;
            }
            sum += static_cast<double>(scales[j]) * sign;
        }
        x[flat] = sum;
        for (std::size_t a = shape.size(); a-- > 0;) {
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

double abs_scale_sum(const std::vector<float>& scales)
{
    double s = 0;
    for (const float c : scales) s += std::fabs(c);
    return s;
}

/// The Python reader of docs/FORMAT.md, cut out between its marker lines.
std::string python_reader_from_format_md()
{
    const std::string path = std::string(SIGNCUT_SOURCE_DIR) + "/docs/FORMAT.md";
    std::ifstream in(path);
    BOOST_TEST_REQUIRE(in.good(), "cannot read " << path);
    std::string line, code;
    bool inside = false, found_end = false;
    while (std::getline(in, line)) {
        if (line.find("<!-- python-reader:begin -->") != std::string::npos) {
            inside = true;
            continue;
        }
        if (line.find("<!-- python-reader:end -->") != std::string::npos) {
            found_end = inside;
            break;
        }
        if (inside && line.rfind("```", 0) != 0) code += line + "\n";
    }
    BOOST_TEST_REQUIRE(found_end, "no python-reader markers in " << path);
    BOOST_TEST_REQUIRE(code.find("def read_signcut(") != std::string::npos);
    return code;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(decomposition_file)

BOOST_AUTO_TEST_CASE(round_trip_keeps_every_bit_and_scale)
{
    ScratchDir dir;
    std::uint64_t seed = 1;
    for (const Shape& shape : test_shapes()) {
        for (const std::size_t width : {0u, 1u, 7u}) {
            BOOST_TEST_CONTEXT("shape " << format_shape(shape) << " width " << width)
            {
                HandMade h = hand_made(shape, width, seed++);
                if (width == 7 && shape.size() == 3) {
                    std::vector<float> refit = h.scales;
                    for (float& c : refit) c *= 1.25f;
                    h.decomposition.set_refit_scales(refit);
                }
                const std::string path = dir.file(fmt::format("rt-{}-{}.h5", seed, width));
                const Provenance p = fixed_provenance();
                write_decomposition(path, h.decomposition, p, false);

                DecompositionInfo info;
                const SignedCutDecomposition back = read_decomposition(path, UINT64_MAX, &info);
                BOOST_TEST(back.shape() == shape, boost::test_tools::per_element());
                BOOST_TEST(back.width() == width);
                BOOST_TEST(back.scales_refit() == h.decomposition.scales_refit());
                BOOST_TEST_REQUIRE(back.scales().size() == width);
                for (std::size_t j = 0; j < width; ++j)
                    BOOST_TEST(std::bit_cast<std::uint32_t>(back.scales()[j]) ==
                               std::bit_cast<std::uint32_t>(h.decomposition.scales()[j]));
                for (std::size_t a = 0; a < shape.size(); ++a) BOOST_TEST((back.signs(a) == h.decomposition.signs(a)));

                BOOST_TEST(info.method == "sct");
                BOOST_TEST(info.shape == shape, boost::test_tools::per_element());
                BOOST_TEST(info.width == width);
                BOOST_TEST(info.scales_refit == h.decomposition.scales_refit());
                BOOST_TEST(info.provenance.original_dtype == p.original_dtype);
                BOOST_TEST(info.provenance.source == p.source);
                BOOST_TEST(info.provenance.seed == p.seed);
                BOOST_TEST(info.provenance.signcut_version == p.signcut_version);
                BOOST_TEST(info.provenance.rel_fro_error == p.rel_fro_error);
                BOOST_TEST(info.provenance.created == p.created);
                BOOST_TEST(info.bits_per_value() == h.decomposition.bits_per_value());

                const DecompositionInfo meta = read_decomposition_info(path);
                BOOST_TEST(meta.width == width);
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
    BOOST_TEST(info.provenance.created.size() == 20u);
    BOOST_TEST(info.provenance.created.back() == 'Z');
}

BOOST_AUTO_TEST_CASE(independent_reader_matches_a_dense_sum)
{
    ScratchDir dir;
    std::uint64_t seed = 100;
    for (const Shape& shape : test_shapes()) {
        for (const std::size_t width : {0u, 5u}) {
            BOOST_TEST_CONTEXT("shape " << format_shape(shape) << " width " << width)
            {
                const HandMade h = hand_made(shape, width, seed++);
                const std::string path = dir.file(fmt::format("raw-{}.h5", seed));
                write_decomposition(path, h.decomposition, fixed_provenance(), false);

                Shape raw_shape;
                const std::vector<double> raw = raw_reconstruct(path, raw_shape);
                const std::vector<double> dense = dense_sum(shape, h.scales, h.factors);
                BOOST_TEST(raw_shape == shape, boost::test_tools::per_element());
                // Same terms, same order, same double arithmetic: equal.
                BOOST_TEST(raw == dense, boost::test_tools::per_element());

                // The library's own reconstruction of what it read back.
                const Tensor y = read_decomposition(path, UINT64_MAX).reconstruct();
                BOOST_TEST_REQUIRE(y.size() == dense.size());
                const double tol = sum_tolerance(width, abs_scale_sum(h.scales)) + 1e-6 * abs_scale_sum(h.scales);
                for (std::size_t i = 0; i < dense.size(); ++i)
                    BOOST_TEST_REQUIRE(std::fabs(static_cast<double>(y.data()[i]) - dense[i]) <= tol);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(h5dump_reads_the_file)
{
    ScratchDir dir;
    const HandMade h = hand_made({3, 65, 7}, 4, 11);
    const std::string path = dir.file("dump.h5");
    write_decomposition(path, h.decomposition, fixed_provenance(), false);
    const CommandResult r = run_command("/usr/bin/h5dump " + shell_quote(path));
    BOOST_TEST(r.exit_code == 0, r.output);
    for (const char* expected : {"signcut-decomposition", "format_version", "GROUP \"decomposition\"", "DATASET \"scales\"",
                                 "DATASET \"mode_2\"", "H5T_STD_U64LE", "H5T_IEEE_F32LE", "2024-02-29T23:59:58Z"})
        BOOST_TEST(r.output.find(expected) != std::string::npos, "h5dump output lacks " << expected);
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
    write_decomposition(path, hand_made({3, 65}, 2, 5).decomposition, fixed_provenance(), false);
    for (const char* object : {"/", "/decomposition", "/decomposition/scales", "/decomposition/signs",
                               "/decomposition/signs/mode_0", "/decomposition/signs/mode_1"}) {
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
    const HandMade h = hand_made({2, 3, 129, 5}, 6, 21);
    Provenance p = fixed_provenance();
    const std::string a = dir.file("a.h5"), b = dir.file("b.h5"), c = dir.file("c.h5");
    write_decomposition(a, h.decomposition, p, false);
    // HDF5 times have one-second resolution: let the clock move on, so a
    // recorded time could not go unnoticed.
    ::usleep(1'100'000);
    write_decomposition(b, h.decomposition, p, false);
    const std::vector<unsigned char> ba = read_bytes(a), bb = read_bytes(b);
    BOOST_TEST(ba.size() == bb.size());
    BOOST_TEST((ba == bb), "two writes of the same decomposition differ");

    // Only `created` differs between runs; with another timestamp of the
    // same length, the files differ in at most that string's bytes.
    p.created = "2031-11-05T01:02:03Z";
    write_decomposition(c, h.decomposition, p, false);
    const std::vector<unsigned char> bc = read_bytes(c);
    BOOST_TEST_REQUIRE(ba.size() == bc.size());
    std::size_t first = ba.size(), last = 0;
    for (std::size_t i = 0; i < ba.size(); ++i)
        if (ba[i] != bc[i]) {
            first = std::min(first, i);
            last = i;
        }
    BOOST_TEST_REQUIRE(first < ba.size(), "changing `created` changed nothing");
    BOOST_TEST(last - first < p.created.size());
}

BOOST_AUTO_TEST_CASE(python_reader_in_format_md_matches)
{
    ScratchDir dir;
    const std::string code = python_reader_from_format_md();
    const std::string script = dir.file("reader.py");
    write_text(script, code + R"(
import sys
x = read_signcut(sys.argv[1], None if sys.argv[3] == "all" else int(sys.argv[3]))
np.ascontiguousarray(x, dtype="<f8").tofile(sys.argv[2])
print(" ".join(str(d) for d in x.shape))
)");

    std::uint64_t seed = 300;
    for (const Shape& shape : test_shapes()) {
        for (const std::size_t width : {0u, 6u}) {
            BOOST_TEST_CONTEXT("shape " << format_shape(shape) << " width " << width)
            {
                const HandMade h = hand_made(shape, width, seed++);
                const std::string path = dir.file(fmt::format("py-{}.h5", seed));
                const std::string out = dir.file(fmt::format("py-{}.f64", seed));
                write_decomposition(path, h.decomposition, fixed_provenance(), false);
                const CommandResult r = run_command("/usr/bin/python3 " + shell_quote(script) + " " + shell_quote(path) +
                                                    " " + shell_quote(out) + " all");
                BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
                std::ostringstream expected_shape;
                for (std::size_t a = 0; a < shape.size(); ++a) expected_shape << (a ? " " : "") << shape[a];
                BOOST_TEST(r.output == expected_shape.str() + "\n");

                const std::vector<unsigned char> bytes = read_bytes(out);
                std::vector<double> py(bytes.size() / sizeof(double));
                std::memcpy(py.data(), bytes.data(), py.size() * sizeof(double));
                const Tensor y = h.decomposition.reconstruct();
                BOOST_TEST_REQUIRE(py.size() == y.size());
                const double scale = std::max(1.0, abs_scale_sum(h.scales));
                const std::vector<double> dense = dense_sum(shape, h.scales, h.factors);
                for (std::size_t i = 0; i < py.size(); ++i) {
                    BOOST_TEST_REQUIRE(std::fabs(py[i] - static_cast<double>(y.data()[i])) <= 1e-5 * scale);
                    BOOST_TEST_REQUIRE(std::fabs(py[i] - dense[i]) <= 1e-12 * scale);
                }
            }
        }
    }

    // A prefix, through the snippet's `width` argument.
    const HandMade h = hand_made({5, 70}, 9, 999);
    const std::string path = dir.file("prefix.h5"), out = dir.file("prefix.f64");
    write_decomposition(path, h.decomposition, fixed_provenance(), false);
    const CommandResult r = run_command("/usr/bin/python3 " + shell_quote(script) + " " + shell_quote(path) + " " +
                                        shell_quote(out) + " 4");
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.output);
    const std::vector<unsigned char> bytes = read_bytes(out);
    std::vector<double> py(bytes.size() / sizeof(double));
    std::memcpy(py.data(), bytes.data(), py.size() * sizeof(double));
    const std::vector<double> dense = dense_sum({5, 70}, std::vector<float>(h.scales.begin(), h.scales.begin() + 4),
                                                std::vector<std::vector<SignVector>>(h.factors.begin(), h.factors.begin() + 4));
    BOOST_TEST_REQUIRE(py.size() == dense.size());
    for (std::size_t i = 0; i < py.size(); ++i) BOOST_TEST_REQUIRE(std::fabs(py[i] - dense[i]) <= 1e-12 * abs_scale_sum(h.scales));
}

BOOST_AUTO_TEST_CASE(fixed_length_ascii_strings_are_accepted)
{
    ScratchDir dir;
    const HandMade h = hand_made({5, 70}, 3, 5);
    const std::string path = dir.file("fixed.h5");
    write_decomposition(path, h.decomposition, fixed_provenance(), false);
    edit_file(path, [](hid_t file, hid_t group) {
        set_fixed_string_attribute(file, "signcut_format", "signcut-decomposition", H5T_STR_NULLTERM);
        set_fixed_string_attribute(group, "method", "sct", H5T_STR_NULLPAD);
        set_fixed_string_attribute(group, "original_dtype", "uint8", H5T_STR_SPACEPAD);
        set_fixed_string_attribute(group, "source", "somewhere", H5T_STR_NULLPAD);
        set_fixed_string_attribute(group, "created", "2020-01-01T00:00:00Z", H5T_STR_NULLTERM);
    });
    DecompositionInfo info;
    const SignedCutDecomposition back = read_decomposition(path, UINT64_MAX, &info);
    BOOST_TEST(info.provenance.original_dtype == "uint8");
    BOOST_TEST(info.provenance.source == "somewhere");
    BOOST_TEST(info.provenance.created == "2020-01-01T00:00:00Z");
    BOOST_TEST(back.width() == 3u);
    BOOST_TEST((back.signs(1) == h.decomposition.signs(1)));
}

BOOST_AUTO_TEST_CASE(refuses_damaged_metadata)
{
    ScratchDir dir;
    const HandMade h = hand_made({3, 70}, 4, 77);
    const std::string good = dir.file("good.h5");
    write_decomposition(good, h.decomposition, fixed_provenance(), false);
    int serial = 0;
    // Copies the good file, applies `edit`, and expects both readers to
    // refuse the result.
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

    expect_refusal([](hid_t file, hid_t) { set_i32_attribute(file, "format_version", 2); }, errc::unsupported,
                   {"format_version 2", "version 1"});
    expect_refusal([](hid_t file, hid_t) { set_i32_attribute(file, "format_version", 0); }, errc::bad_input,
                   {"format_version 0"});
    expect_refusal([](hid_t file, hid_t) { H5Adelete(file, "signcut_format"); }, errc::bad_input,
                   {"not a signcut decomposition", "signcut_format"});
    expect_refusal([](hid_t file, hid_t) { set_fixed_string_attribute(file, "signcut_format", "netcdf", H5T_STR_NULLTERM); },
                   errc::bad_input, {"not a signcut decomposition", "netcdf"});
    for (const char* name : {"method", "shape", "original_dtype", "width", "scales_refit", "source", "seed",
                             "signcut_version", "rel_fro_error", "created"})
        expect_refusal([name](hid_t, hid_t group) { H5Adelete(group, name); }, errc::bad_input,
                       {"bad-", std::string("/decomposition/") + name + " is missing"});
    expect_refusal([](hid_t, hid_t group) { H5Adelete(group, "method"); set_fixed_string_attribute(group, "method", "tucker", H5T_STR_NULLTERM); },
                   errc::bad_input, {"unknown method 'tucker'"});
    expect_refusal([](hid_t, hid_t group) { set_fixed_string_attribute(group, "method", "lplr", H5T_STR_NULLTERM); },
                   errc::unsupported, {"lplr decompositions are not supported by this reader yet"});
    expect_refusal([](hid_t, hid_t group) { set_fixed_string_attribute(group, "original_dtype", "float8", H5T_STR_NULLTERM); },
                   errc::bad_input, {"original_dtype", "float8"});
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
    // Sign arrays of the wrong size: too few words per row, too many rows.
    expect_refusal([](hid_t, hid_t group) { replace_sign_array(group, 1, {4, 1}, std::vector<std::uint64_t>(4, 0)); },
                   errc::bad_input, {"/decomposition/signs/mode_1 has shape 4x1, expected 4x2"});
    expect_refusal([](hid_t, hid_t group) { replace_sign_array(group, 0, {5, 1}, std::vector<std::uint64_t>(5, 0)); },
                   errc::bad_input, {"/decomposition/signs/mode_0 has shape 5x1, expected 4x1"});
    expect_refusal([](hid_t, hid_t group) { replace_sign_array(group, 0, {4}, std::vector<std::uint64_t>(4, 0)); },
                   errc::bad_input, {"/decomposition/signs/mode_0 has shape 4, expected 4x1"});
    expect_refusal([](hid_t, hid_t group) { H5Ldelete(group, "scales", H5P_DEFAULT); }, errc::bad_input,
                   {"dataset /decomposition/scales is missing"});
}

BOOST_AUTO_TEST_CASE(refuses_padding_bits_but_info_does_not_read_arrays)
{
    ScratchDir dir;
    const HandMade h = hand_made({3, 70}, 4, 78);
    const std::string path = dir.file("padding.h5");
    write_decomposition(path, h.decomposition, fixed_provenance(), false);
    // Set bit 70 % 64 = 6 of the last word of row 2 of mode 1: a padding bit.
    edit_file(path, [&](hid_t, hid_t group) {
        std::vector<std::uint64_t> words(h.decomposition.signs(1).words().begin(), h.decomposition.signs(1).words().end());
        words[2 * 2 + 1] |= std::uint64_t{1} << 6;
        replace_sign_array(group, 1, {4, 2}, words);
    });
    check_error([&] { read_decomposition(path, UINT64_MAX); }, errc::bad_input,
                {path, "/decomposition/signs/mode_1 row 2 has padding bits set past sign 70"});
    // Metadata alone is fine: `info` must not look at the words.
    BOOST_TEST(read_decomposition_info(path).width == 4u);
}

BOOST_AUTO_TEST_CASE(refuses_non_finite_scales)
{
    ScratchDir dir;
    const HandMade h = hand_made({6}, 3, 79);
    const std::string path = dir.file("nan-scale.h5");
    write_decomposition(path, h.decomposition, fixed_provenance(), false);
    edit_file(path, [](hid_t, hid_t group) {
        const float values[3] = {1.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()};
        hid_t d = H5Dopen2(group, "scales", H5P_DEFAULT);
        H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
        H5Dclose(d);
    });
    check_error([&] { read_decomposition(path, UINT64_MAX); }, errc::bad_input, {"/decomposition/scales holds 2 non-finite"});
}

BOOST_AUTO_TEST_CASE(refuses_claims_beyond_the_memory_limit_before_reading_arrays)
{
    ScratchDir dir;
    // A consistent file that claims a 2^20 x 2^20 tensor: 4 TiB to rebuild,
    // though the file itself holds 256 KiB of signs.
    SignedCutDecomposition big(Shape{1u << 20, 1u << 20});
    SplitMix64 g(5);
    const std::vector<SignVector> term{random_signs(g, 1u << 20), random_signs(g, 1u << 20)};
    big.append(1.5f, term);
    const std::string path = dir.file("big.h5");
    write_decomposition(path, big, fixed_provenance(), false);
    const std::uint64_t needed = (std::uint64_t{1} << 40) * 4 + 4 + 2 * (1u << 14) * 8;
    check_error([&] { read_decomposition(path, 64ull << 30); }, errc::limit,
                {path, "1048576x1048576", std::to_string(needed) + " bytes", std::to_string(64ull << 30) + " bytes"});
    // `info` needs no memory for the tensor.
    const DecompositionInfo info = read_decomposition_info(path);
    BOOST_TEST(info.shape == Shape({1u << 20, 1u << 20}), boost::test_tools::per_element());

    // The limit counts the reconstruction and the arrays exactly.
    const HandMade h = hand_made({10, 100}, 3, 80);
    const std::string small = dir.file("small.h5");
    write_decomposition(small, h.decomposition, fixed_provenance(), false);
    const std::uint64_t exact = 1000 * 4 + 3 * 4 + 3 * 1 * 8 + 3 * 2 * 8;
    check_error([&] { read_decomposition(small, exact - 1); }, errc::limit, {std::to_string(exact) + " bytes"});
    BOOST_TEST(read_decomposition(small, exact).width() == 3u);

    // A damaged shape attribute that claims an absurd size: refused, not allocated.
    edit_file(small, [](hid_t, hid_t group) { set_u64_attribute(group, "shape", {1ull << 40, 1ull << 40}, false); });
    check_error([&] { read_decomposition(small, 1ull << 30); }, errc::limit, {small, "has more than 2^64 entries"});
}

BOOST_AUTO_TEST_CASE(refuses_truncated_foreign_and_missing_files)
{
    ScratchDir dir;
    const HandMade h = hand_made({3, 65, 7}, 5, 81);
    const std::string good = dir.file("good.h5");
    write_decomposition(good, h.decomposition, fixed_provenance(), false);
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
    check_error([&] { write_decomposition(path, hand_made({4}, 1, 1).decomposition, p, false); }, errc::invalid_argument,
                {"float128"});
    BOOST_TEST(dir.entries().empty());
}

BOOST_AUTO_TEST_SUITE_END()
