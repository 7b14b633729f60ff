// Helpers for the I/O tests: scratch folders, files as bytes, child
// processes, hand-built decompositions and raw HDF5 writes.
#pragma once

#include <boost/test/unit_test.hpp>

#include <hdf5.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "signcut/any_decomposition.hpp"
#include "signcut/blocks.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/error.hpp"
#include "signcut/random.hpp"
#include "test_support.hpp"

namespace signcut::testing {

namespace fs = std::filesystem;

/// A fresh folder under the system's temporary directory, removed with
/// everything in it when the test ends.
class ScratchDir {
public:
    ScratchDir()
    {
        std::string pattern = (fs::temp_directory_path() / "signcut-io-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~ScratchDir()
    {
        std::error_code ec;
        // A test may have removed the write permission of a subfolder.
        for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::recursive_directory_iterator(); ++it)
            fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const fs::path& path() const { return path_; }

    /// Names in the folder (not recursive), sorted.
    std::vector<std::string> entries() const
    {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }

private:
    fs::path path_;
};

inline std::vector<unsigned char> read_bytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    BOOST_TEST_REQUIRE(in.good(), "cannot read " << path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const void* data, std::size_t size)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    BOOST_TEST_REQUIRE(out.good(), "cannot write " << path);
}

inline void write_text(const std::string& path, const std::string& text) { write_bytes(path, text.data(), text.size()); }

struct CommandResult {
    int exit_code = -1;
    std::string output;  ///< stdout and stderr
};

/// Runs a shell command, capturing what it prints.
inline CommandResult run_command(const std::string& command)
{
    CommandResult r;
    std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    BOOST_TEST_REQUIRE(pipe != nullptr, "cannot run " << command);
    std::array<char, 4096> buffer{};
    std::size_t n = 0;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.output.append(buffer.data(), n);
    const int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

inline std::string shell_quote(const std::string& s)
{
    std::string q = "'";
    for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

/// A decomposition built term by term from random signs and scales, plus the
/// same terms as plain vectors for the dense reference.
struct HandMade {
    SignedCutDecomposition decomposition;
    std::vector<float> scales;
    std::vector<std::vector<SignVector>> factors;  ///< factors[j][a]
};

/// Terms of one block (or tensor) of `shape`: random signs and scales of
/// both signs and decreasing size, as a greedy would give.
inline SignedCutTerms random_terms(const Shape& shape, std::size_t width, SplitMix64& g,
                                   std::vector<float>* scales = nullptr,
                                   std::vector<std::vector<SignVector>>* factors = nullptr)
{
    SignedCutTerms t(shape);
    for (std::size_t j = 0; j < width; ++j) {
        std::vector<SignVector> term;
        for (const std::size_t d : shape) term.push_back(random_signs(g, d));
        const float scale = static_cast<float>((g.uniform() * 2.0 - 0.5) * 10.0 / static_cast<double>(j + 1));
        t.append(scale, term);
        if (scales != nullptr) scales->push_back(scale);
        if (factors != nullptr) factors->push_back(std::move(term));
    }
    return t;
}

/// One block, the whole tensor.
inline HandMade hand_made(const Shape& shape, std::size_t width, std::uint64_t seed)
{
    HandMade h;
    SplitMix64 g(seed);
    h.decomposition = SignedCutDecomposition(random_terms(shape, width, g, &h.scales, &h.factors));
    return h;
}

/// A blocked decomposition: block b gets width_of(b) random terms.
template <class WidthOf>
SignedCutDecomposition blocked(const Shape& shape, const Shape& block_shape, WidthOf&& width_of, std::uint64_t seed)
{
    BlockGrid grid(shape, block_shape);
    SplitMix64 g(seed);
    std::vector<SignedCutTerms> blocks;
    for (std::size_t b = 0; b < grid.count(); ++b) blocks.push_back(random_terms(grid.extents(b), width_of(b), g));
    return SignedCutDecomposition(std::move(grid), std::move(blocks));
}

/// Σ_j c_j ⊗_a s_j^(a), computed in double entry by entry from the factors
/// (C order). Obviously correct, and fine for the small shapes of tests.
inline std::vector<double> dense_sum(const Shape& shape, const std::vector<float>& scales,
                                     const std::vector<std::vector<SignVector>>& factors)
{
    std::uint64_t n = 1;
    for (const std::size_t d : shape) n *= d;
    std::vector<double> x(n, 0.0);
    std::vector<std::size_t> index(shape.size(), 0);
    for (std::uint64_t flat = 0; flat < n; ++flat) {
        double sum = 0;
        for (std::size_t j = 0; j < scales.size(); ++j) {
            int sign = 1;
            for (std::size_t a = 0; a < shape.size(); ++a) sign *= factors[j][a][index[a]];
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

/// The same for a blocked decomposition, element by element from each
/// block's sign matrices (no kernels): element i of the tensor is the sum,
/// in term order, over the terms of the block holding it.
inline std::vector<double> dense_sum(const SignedCutDecomposition& d)
{
    const Shape& shape = d.shape();
    const std::size_t k = shape.size();
    std::uint64_t n = 1;
    for (const std::size_t e : shape) n *= e;
    std::vector<double> x(n, 0.0);
    std::vector<std::size_t> index(k, 0);
    const Shape& grid = d.grid().grid_shape();
    for (std::uint64_t flat = 0; flat < n; ++flat) {
        std::size_t b = 0;
        for (std::size_t a = 0; a < k; ++a) b = b * grid[a] + index[a] / d.block_shape()[a];
        const SignedCutTerms& t = d.block(b);
        double sum = 0;
        for (std::size_t j = 0; j < t.width(); ++j) {
            int sign = 1;
            for (std::size_t a = 0; a < k; ++a) sign *= t.signs(a)(index[a] % d.block_shape()[a], j);
            sum += static_cast<double>(t.scales()[j]) * sign;
        }
        x[flat] = sum;
        for (std::size_t a = k; a-- > 0;) {
            if (++index[a] < shape[a]) break;
            index[a] = 0;
        }
    }
    return x;
}

// --- version-1 files, written as the version-1 writer wrote them --------------

/// A variable-length UTF-8 scalar string attribute (version 1's strings).
inline void put_vlen_string(hid_t object, const char* name, const std::string& value)
{
    if (H5Aexists(object, name) > 0) H5Adelete(object, name);
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(a >= 0);
    const char* text = value.c_str();
    BOOST_TEST_REQUIRE(H5Awrite(a, type, &text) >= 0);
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
}

inline void put_scalar(hid_t object, const char* name, hid_t file_type, hid_t memory_type, const void* value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(object, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(a >= 0);
    BOOST_TEST_REQUIRE(H5Awrite(a, memory_type, value) >= 0);
    H5Aclose(a);
    H5Sclose(space);
}

/// A contiguous dataset written whole (nothing written when empty).
inline void put_array(hid_t parent, const char* name, hid_t file_type, hid_t memory_type,
                      const std::vector<hsize_t>& dims, const void* data)
{
    hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    hid_t d = H5Dcreate2(parent, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(d >= 0);
    bool empty = false;
    for (const hsize_t n : dims) empty = empty || n == 0;
    if (!empty) BOOST_TEST_REQUIRE(H5Dwrite(d, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(d);
    H5Sclose(space);
}

/// The root attributes and the common /decomposition attributes of a
/// version-1 file (variable-length strings); returns the open group.
inline hid_t write_v1_common(hid_t file, const std::string& method, const Shape& shape, std::uint64_t width,
                             const std::string& dtype = "float32", std::uint64_t seed = 0,
                             const std::string& created = "2020-01-01T00:00:00Z")
{
    put_vlen_string(file, "signcut_format", "signcut-decomposition");
    const std::int32_t version = 1;
    put_scalar(file, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32, &version);
    hid_t g = H5Gcreate2(file, "decomposition", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(g >= 0);
    put_vlen_string(g, "method", method);
    const std::vector<std::uint64_t> dims(shape.begin(), shape.end());
    const hsize_t k = dims.size();
    hid_t space = H5Screate_simple(1, &k, nullptr);
    hid_t a = H5Acreate2(g, "shape", H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_UINT64, dims.data());
    H5Aclose(a);
    H5Sclose(space);
    put_vlen_string(g, "original_dtype", dtype);
    put_scalar(g, "width", H5T_STD_U64LE, H5T_NATIVE_UINT64, &width);
    put_vlen_string(g, "source", "v1-writer");
    put_scalar(g, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seed);
    put_vlen_string(g, "signcut_version", "0.1.0");
    const double error = 0.25;
    put_scalar(g, "rel_fro_error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &error);
    put_vlen_string(g, "created", created);
    return g;
}

/// A version-1 sct file holding `terms`, laid out as signcut 0.1's writer
/// laid it out: variable-length strings, contiguous arrays, scales [w] and
/// signs/mode_a [w][ceil(d_a/64)] uint64 words.
inline void write_v1_sct(const std::string& path, const SignedCutTerms& terms, const std::string& dtype = "float32")
{
    hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    hid_t g = write_v1_common(file, "sct", terms.shape(), terms.width(), dtype);
    const std::uint8_t refit = terms.scales_refit() ? 1 : 0;
    put_scalar(g, "scales_refit", H5T_STD_U8LE, H5T_NATIVE_UINT8, &refit);
    put_array(g, "scales", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {terms.width()}, terms.scales().data());
    hid_t signs = H5Gcreate2(g, "signs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    for (std::size_t a = 0; a < terms.order(); ++a) {
        const std::string name = "mode_" + std::to_string(a);
        put_array(signs, name.c_str(), H5T_STD_U64LE, H5T_NATIVE_UINT64,
                  {terms.width(), words_for(terms.shape()[a])}, terms.signs(a).data());
    }
    H5Gclose(signs);
    H5Gclose(g);
    BOOST_TEST_REQUIRE(H5Fclose(file) >= 0);
}

// --- raw HDF5, for building inputs the way other programs would ---------------

/// Writes one dataset with the plain C API. `chunk` empty: contiguous.
inline void raw_write(const std::string& path, const std::string& name, hid_t file_type, hid_t memory_type,
                      const std::vector<hsize_t>& dims, const void* data, const std::vector<hsize_t>& chunk = {},
                      bool shuffle = false, int gzip_level = -1, bool append = false)
{
    hid_t file = append ? H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)
                        : H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    hid_t space = dims.empty() ? H5Screate(H5S_SCALAR)
                               : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (!chunk.empty()) {
        H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
        if (shuffle) H5Pset_shuffle(dcpl);
        if (gzip_level >= 0) H5Pset_deflate(dcpl, static_cast<unsigned>(gzip_level));
    }
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t d = H5Dcreate2(file, name.c_str(), file_type, space, lcpl, dcpl, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(d >= 0);
    if (data != nullptr) BOOST_TEST_REQUIRE(H5Dwrite(d, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(d);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(file);
}

/// IEEE binary16, described the way h5py and netCDF describe it.
inline hid_t make_half_type(H5T_order_t order = H5T_ORDER_LE)
{
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(t, 15, 10, 5, 0, 10);
    H5Tset_size(t, 2);
    H5Tset_ebias(t, 15);
    H5Tset_order(t, order);
    return t;
}

// ---- shared by the decomposition-file tests ---------------------------------

inline const SignedCutDecomposition& sct_of(const Decomposition& d)
{
    BOOST_TEST_REQUIRE(d.sct() != nullptr, "not an sct decomposition");
    return *d.sct();
}

/// Opens a file read-write, runs `edit` on it and its /decomposition group,
/// closes it: for building damaged files the way a careless writer would.
inline void edit_file(const std::string& path, const std::function<void(hid_t file, hid_t group)>& edit)
{
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(file >= 0);
    hid_t group = H5Gopen2(file, "/decomposition", H5P_DEFAULT);
    BOOST_TEST_REQUIRE(group >= 0);
    edit(file, group);
    H5Gclose(group);
    BOOST_TEST_REQUIRE(H5Fclose(file) >= 0);
}

inline void set_i32_attribute(hid_t object, const char* name, std::int32_t value)
{
    if (H5Aexists(object, name) > 0) H5Adelete(object, name);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(object, name, H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT32, &value);
    H5Aclose(a);
    H5Sclose(space);
}

template <class T>
std::vector<T> read_vector(hid_t group, const char* name, hid_t memory_type)
{
    hid_t d = H5Dopen2(group, name, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(d >= 0, "dataset " << name);
    hid_t space = H5Dget_space(d);
    std::vector<T> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    if (!values.empty()) BOOST_TEST_REQUIRE(H5Dread(d, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
    H5Sclose(space);
    H5Dclose(d);
    return values;
}

/// Overwrites a dataset's values through HDF5 (checksums stay valid).
template <class T>
void write_vector_values(hid_t group, const char* name, hid_t memory_type, const std::vector<T>& values)
{
    hid_t d = H5Dopen2(group, name, H5P_DEFAULT);
    BOOST_TEST_REQUIRE(d >= 0);
    BOOST_TEST_REQUIRE(H5Dwrite(d, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
    H5Dclose(d);
}

inline std::string source_file(const std::string& relative) { return std::string(SIGNCUT_SOURCE_DIR) + "/" + relative; }

}  // namespace signcut::testing
