// What the commands that write a whole new file from an input file
// (`compress --all`, `repack`) share: the output checks made before any
// work, and the report of what happened to each object.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "json.hpp"
#include "terminal.hpp"

namespace signcut::cli {

/// The file a whole-file command writes, checked before any work: a whole
/// new file (not FILE:object), not the input nor inside it, and the input
/// exists. `what` names the command in the message ("--all", "repack").
std::string whole_file_output(const std::string& input, const std::string& output, bool force,
                              const std::string& what);

/// One row per object, for the summary table and for --json.
class ObjectReport {
public:
    /// An object copied as it is, and why; returns nullopt so an
    /// ObjectTransform can `return report.copied(...)`.
    std::nullopt_t copied(const std::string& path, const std::string& why);

    /// An object the command transformed: its table line and its JSON row.
    void transformed(std::string line, Json row);

    std::size_t copied_count() const { return copied_; }

    /// Prints the report: with --json one object {"datasets": rows, the
    /// command's `counts`, input_bytes, file_bytes, seconds}; otherwise
    /// "TITLE: IN -> OUT", the table, then "  COUNTS; in -> out (ratio), s".
    void print(const Terminal& terminal, bool json, const std::string& title, const std::string& input,
               const std::string& output, const std::vector<std::pair<std::string, Json>>& counts,
               const std::string& counts_text, double seconds) const;

private:
    std::vector<Json> rows_;
    std::string table_;
    std::size_t copied_ = 0;
};

}  // namespace signcut::cli
