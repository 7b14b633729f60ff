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
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

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

inline HandMade hand_made(const Shape& shape, std::size_t width, std::uint64_t seed)
{
    HandMade h{SignedCutDecomposition(shape), {}, {}};
    SplitMix64 g(seed);
    for (std::size_t j = 0; j < width; ++j) {
        std::vector<SignVector> term;
        for (const std::size_t d : shape) term.push_back(random_signs(g, d));
        // Scales of both signs and decreasing size, as a greedy would give.
        const float scale = static_cast<float>((g.uniform() * 2.0 - 0.5) * 10.0 / static_cast<double>(j + 1));
        h.decomposition.append(scale, term);
        h.scales.push_back(scale);
        h.factors.push_back(std::move(term));
    }
    return h;
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

/// Checks that an expected signcut::Error is thrown, with the given code and
/// a message containing every fragment.
template <class F>
void check_error(F&& f, errc code, std::initializer_list<std::string> fragments)
{
    try {
        f();
    } catch (const Error& e) {
        const std::string message = e.what();
        BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(code), "code of: " << message);
        for (const std::string& fragment : fragments)
            BOOST_TEST(message.find(fragment) != std::string::npos, "'" << fragment << "' missing from: " << message);
        BOOST_TEST(message.find('\n') == std::string::npos, "multi-line message: " << message);
        return;
    }
    BOOST_ERROR("no signcut::Error thrown");
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

}  // namespace signcut::testing
