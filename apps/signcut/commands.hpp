// The subcommands of `signcut`, one function each.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace signcut::cli {

/// The options every subcommand may share.
struct CommonOptions {
    bool json = false;
    bool quiet = false;
    bool force = false;
    unsigned threads = 0;                  ///< 0: every core
    std::optional<std::string> max_memory;  ///< "--max-memory" as given
};

/// The stopping rule of compress and image (at most one is set).
struct StopOptions {
    std::optional<std::size_t> width;
    std::optional<double> bits_per_value;
    std::optional<double> rel_error;
};

struct CompressOptions {
    CommonOptions common;
    StopOptions stop;
    std::string input, output;
    std::string method = "sct";
    std::uint64_t seed = 0;
};

struct ImageOptions {
    CommonOptions common;
    StopOptions stop;
    std::string input, output;
    std::optional<std::string> save;
    std::uint64_t seed = 0;
};

struct DecompressOptions {
    CommonOptions common;
    std::string input, output;
    std::optional<std::size_t> width;
    std::optional<std::string> dtype;
};

struct InfoOptions {
    CommonOptions common;
    std::string input;
};

struct EvalOptions {
    CommonOptions common;
    std::string original, decomposition;
    std::optional<std::size_t> width;
};

int run_compress(const CompressOptions& o);
int run_image(const ImageOptions& o);
int run_decompress(const DecompressOptions& o);
int run_info(const InfoOptions& o);
int run_eval(const EvalOptions& o);

/// "signcut 0.1.0 (avx512)".
std::string version_line();

}  // namespace signcut::cli
