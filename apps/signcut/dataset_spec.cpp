#include "dataset_spec.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "signcut/datasets.hpp"
#include "signcut/error.hpp"

namespace signcut::cli {
namespace {

bool is_file(const std::string& path)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

/// "(datasets: /a, /b and 3 more)": enough to pick one from.
std::string listing(const std::vector<std::string>& names)
{
    constexpr std::size_t shown = 10;
    const std::vector<std::string> head(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(std::min(shown, names.size())));
    std::string list = fmt::format("{}", fmt::join(head, ", "));
    if (names.size() > shown) list += fmt::format(" and {} more", names.size() - shown);
    return fmt::format("(datasets: {})", list);
}

}  // namespace

DatasetRef resolve_dataset(std::string_view spec)
{
    if (spec.empty()) throw Error(errc::invalid_argument, "an empty input name");

    DatasetRef ref;
    bool split = false;
    if (is_file(std::string(spec))) {
        ref.file = std::string(spec);
        split = true;
    }
    for (std::size_t p = spec.find(':'); !split && p != std::string_view::npos; p = spec.find(':', p + 1)) {
        if (!is_file(std::string(spec.substr(0, p)))) continue;
        ref.file = std::string(spec.substr(0, p));
        std::string_view rest = spec.substr(p + 1);
        if (!rest.empty() && rest[0] == ':') rest.remove_prefix(1);  // "FILE::/path"
        ref.dataset = std::string(rest);
        split = true;
    }
    if (!split) {
        // No existing file: the part before the first ':' is reported missing
        // by the reader below.
        const std::size_t p = spec.find(':');
        ref.file = std::string(spec.substr(0, p));
        if (p != std::string_view::npos) ref.dataset = std::string(spec.substr(p + 1));
    }

    if (!ref.dataset.empty()) {
        if (ref.dataset[0] != '/') ref.dataset.insert(ref.dataset.begin(), '/');
        inspect_dataset(ref.file, ref.dataset);
        return ref;
    }
    const std::vector<std::string> names = list_datasets(ref.file);
    if (names.empty()) throw Error(errc::bad_input, fmt::format("{} holds no datasets", ref.file));
    if (names.size() > 1)
        throw Error(errc::bad_input, fmt::format("{} holds {} datasets; name one, as in {}:{} {}", ref.file,
                                                 names.size(), ref.file, names.front(), listing(names)));
    ref.dataset = names.front();
    return ref;
}

}  // namespace signcut::cli
