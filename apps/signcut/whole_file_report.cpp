#include "whole_file_report.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common.hpp"
#include "output.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"

namespace signcut::cli {

std::string whole_file_output(const std::string& input, const std::string& output, bool force,
                              const std::string& what)
{
    const Hdf5Target target = parse_hdf5_target(output);
    if (target.into_existing())
        throw Error(errc::invalid_argument,
                    fmt::format("{} writes a whole new file; give {} without :{}", what, target.file, target.object));
    const std::string inputs[] = {input};
    check_output_path(target.file, inputs, force);
    struct stat st {};
    if (::stat(input.c_str(), &st) != 0)
        throw Error(errc::io, fmt::format("cannot open {}: {}", input, std::strerror(errno)));
    return target.file;
}

std::nullopt_t ObjectReport::copied(const std::string& path, const std::string& why)
{
    ++copied_;
    table_ += fmt::format("  {:<32} copied: {}\n", path, why);
    JsonObject row;
    row.add("path", Json::string(path)).add("action", Json::string("copied")).add("reason", Json::string(why));
    rows_.push_back(row.json());
    return std::nullopt;
}

void ObjectReport::transformed(std::string line, Json row)
{
    table_ += line;
    rows_.push_back(std::move(row));
}

void ObjectReport::print(const Terminal& terminal, bool json, const std::string& title, const std::string& input,
                         const std::string& output, const std::vector<std::pair<std::string, Json>>& counts,
                         const std::string& counts_text, double seconds) const
{
    const std::uint64_t in_bytes = file_bytes(input), out_bytes = file_bytes(output);
    if (json) {
        JsonObject j;
        j.add("datasets", Json::array(rows_));
        for (const auto& [key, value] : counts) j.add(key, value);
        j.add("input_bytes", Json::integer(in_bytes))
            .add("file_bytes", Json::integer(out_bytes))
            .add("seconds", Json::number(seconds));
        print_json(j);
        return;
    }
    terminal.summary(fmt::format("{}: {} -> {}\n{}  {}; {} -> {} ({:.3g}x), {:.3g} s\n", title, input, output, table_,
                                 counts_text, human_bytes(double(in_bytes)), human_bytes(double(out_bytes)),
                                 double(in_bytes) / double(out_bytes), seconds));
}

}  // namespace signcut::cli
