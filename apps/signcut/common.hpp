// Helpers the subcommands share.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "commands.hpp"
#include "json.hpp"
#include "signcut/any_decomposition.hpp"
#include "signcut/blocks.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/metrics.hpp"
#include "signcut/tensor.hpp"

namespace signcut::cli {

/// Wall-clock seconds since construction.
class Stopwatch {
public:
    double seconds() const
    {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }

private:
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

std::uint64_t memory_limit(const CommonOptions& o);
unsigned thread_count(const CommonOptions& o);
std::uint64_t file_bytes(const std::string& path);

/// N · sizeof(dtype) / file bytes.
double compression_ratio(std::uint64_t values, const std::string& dtype, std::uint64_t bytes);

/// A file's provenance as the JSON object `info` prints.
JsonObject provenance_json(const Provenance& p);

/// The error metrics as JSON members.
void add_metrics(JsonObject& obj, const ErrorMetrics& m);

/// Prints a JSON value on stdout (one line), checked as write_stdout is.
void print_json(const JsonObject& obj);

/// Writes `text` to standard output and flushes it. A write that fails (a
/// full device, a closed stdout: EBADF) throws Error(errc::io, "cannot write
/// to standard output: …"), so the command exits 1 with one line instead of
/// losing its output with exit 0. (A pipe closed by its reader, as in
/// `signcut info f.h5 | head -1`, ends the process with SIGPIPE as it does
/// any Unix tool; no handler is installed.)
void write_stdout(std::string_view text);

/// Refuses (errc::bad_input) error figures that are not numbers: a NaN, or
/// an infinite error against a nonzero original. `what` names the
/// comparison for the message.
void check_metrics(const ErrorMetrics& m, const std::string& what);

/// Refuses (errc::bad_input) a reconstruction of `source` that holds
/// non-finite values, rather than write ±Inf or NaN: the float32 sums of
/// scales near the float32 limit overflow. The message suggests
/// `--dtype float64` (for an image output, an HDF5 output with it).
void refuse_non_finite(std::span<const float> x, const std::string& source, bool image_output);
void refuse_non_finite(std::span<const double> x, const std::string& source);

/// refuse_non_finite for one slab of a streamed reconstruction, whose first
/// value is entry `first` of the output: the entries named are the output's.
/// The run stops at the first slab that overflows, so the values counted
/// are that slab's.
void refuse_non_finite_slab(std::span<const float> x, std::uint64_t first, const std::string& source);
void refuse_non_finite_slab(std::span<const double> x, std::uint64_t first, const std::string& source);

/// `--region` of decompress checked against the decomposition's `shape`
/// (a usage error names the option); a region that selects a single value
/// is refused. Nothing given: no region.
std::optional<Region> decompress_region(const std::optional<std::string>& given, const Shape& shape);

/// Applies `--width W` (the first W terms of every block) to an sct
/// decomposition read from `path`, whose metadata is `info` (the blocks a
/// region left unread have no terms in `d`, so the check uses the file's
/// widths): a W beyond the widest block is bad input. Width 0 is refused by
/// the parser; lplr files are refused by the command, whose advice names its
/// own options.
void apply_width(Decomposition& d, std::optional<std::size_t> width, const DecompositionInfo& info,
                 const std::string& path);

/// The usage error of `--width` or `--rel-error` on an lplr decomposition,
/// with `advice` naming what the command offers instead.
[[noreturn]] void no_prefixes(const std::string& option, const std::string& advice);

/// "64x64x3 (153 blocks)" or "whole (1 block)", for summaries.
std::string blocks_text(const Shape& shape, const Shape& block_shape, std::uint64_t blocks);

/// The number of blocks of `block_shape` over `shape`.
std::uint64_t block_count(const Shape& shape, const Shape& block_shape);

}  // namespace signcut::cli
