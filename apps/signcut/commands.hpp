// The subcommands of `signcut`, one function each.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
    bool refit = false;          ///< --refit: least-squares scales after the greedy
    std::optional<std::size_t> restarts;  ///< --restarts: extra random starts per term
    std::optional<std::size_t> screen_cycles;  ///< --screen-cycles: cycles every start runs before one goes on
    std::optional<std::size_t> max_updates;  ///< --max-updates: cap on mode updates per term
    std::optional<std::string> block;        ///< --block auto|whole|B0xB1x… as given (sct; default auto)
    std::string codecs = "sct,zfp";          ///< --codecs: what a block may be stored with (sct; "sct" or "sct,zfp")
    std::string scales = "short";            ///< --scales: short (13 bits) or float32
    std::string signs = "deflate";           ///< --signs: deflate (where it stores less) or plain
};

/// Options of --method lplr (and the low-rank methods of compare).
struct LplrCliOptions {
    std::optional<std::size_t> rank;
    std::optional<unsigned> bits_l, bits_r;
    std::optional<std::string> matricize;  ///< "0,1|2,3"
    std::optional<unsigned> power_iterations;  ///< default: LplrOptions' default
};

struct CompressOptions {
    CommonOptions common;
    StopOptions stop;
    LplrCliOptions lplr;
    std::string input, output;
    std::string method = "sct";
    std::uint64_t seed = 0;
    bool all = false;  ///< --all: every float dataset of the input file
};

struct ImageOptions {
    CommonOptions common;
    StopOptions stop;
    std::string input, output;
    std::optional<std::string> save;
    std::uint64_t seed = 0;
    bool scale = false;  ///< --scale: map the reconstruction's min..max onto the output's sample range
};

struct DecompressOptions {
    CommonOptions common;
    std::string input, output;
    std::optional<std::size_t> width;
    std::optional<std::string> dtype;
    std::optional<std::string> region;  ///< "--region 0:10,:,5" as given
    bool all = false;                   ///< --all: every decomposition of the input file
    bool scale = false;                 ///< --scale: image outputs map min..max onto the sample range
};

struct RecutOptions {
    CommonOptions common;
    std::string input, output;
    std::optional<double> bits_per_value;
    std::optional<double> rel_error;
};

struct RepackOptions {
    CommonOptions common;
    std::string input, output;
    std::optional<double> bits_per_value;
    std::optional<double> rel_error;
    std::optional<double> rmse;
    std::optional<std::string> chunk;  ///< "--chunk 64x64" as given
    std::optional<std::string> block;  ///< "--block 16x16" as given
    std::string codecs = "sct,zfp";
    std::uint64_t seed = 0;
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

struct CompareOptions {
    CommonOptions common;
    std::string input;
    std::vector<double> budgets;       ///< --bits-per-value, as given
    std::vector<std::string> methods;  ///< empty: every method
    std::optional<std::string> plot;   ///< an SVG to write
    std::optional<std::string> csv;    ///< a CSV table to write
    std::optional<std::string> matricize;
    std::uint64_t seed = 0;
};

int run_compress(const CompressOptions& o);
int run_compress_all(const CompressOptions& o);
int run_image(const ImageOptions& o);
int run_decompress(const DecompressOptions& o);
int run_decompress_all(const DecompressOptions& o);
int run_info(const InfoOptions& o);
int run_eval(const EvalOptions& o);
int run_compare(const CompareOptions& o);
int run_recut(const RecutOptions& o);
int run_repack(const RepackOptions& o);

/// "signcut 0.1.0 (avx512)".
std::string version_line();

}  // namespace signcut::cli
