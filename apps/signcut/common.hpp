// Helpers the subcommands share.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "commands.hpp"
#include "json.hpp"
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

/// Prints a JSON value on stdout (one line).
void print_json(const JsonObject& obj);

/// Applies `--width` to a decomposition read from `path`: a usage error for 0
/// is caught by the parser; a width beyond the file's is bad input.
void apply_width(SignedCutDecomposition& d, std::optional<std::size_t> width, const std::string& path);

}  // namespace signcut::cli
