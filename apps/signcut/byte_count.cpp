#include "byte_count.hpp"

#include <cctype>
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "signcut/error.hpp"

namespace signcut::cli {
namespace {

[[noreturn]] void bad_bytes(std::string_view text, std::string_view why)
{
    throw Error(errc::invalid_argument,
                fmt::format("invalid byte count '{}': {} (expected e.g. 1000000, 512M or 2G)", text, why));
}

bool iequals(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

}  // namespace

std::uint64_t parse_bytes(std::string_view text)
{
    std::size_t i = 0;
    unsigned __int128 whole = 0;
    const std::size_t digits_start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        whole = whole * 10 + static_cast<unsigned>(text[i] - '0');
        if (whole > UINT64_MAX) bad_bytes(text, "too large");
        ++i;
    }
    if (i == digits_start) bad_bytes(text, "no number");

    // Fractional digits, kept exactly as numerator / 10^count (at most 18
    // digits, which is far beyond what a byte count can resolve).
    unsigned __int128 frac = 0, frac_scale = 1;
    bool has_fraction = false;
    if (i < text.size() && text[i] == '.') {
        has_fraction = true;
        ++i;
        const std::size_t frac_start = i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
            if (frac_scale < 1'000'000'000'000'000'000ull) {
                frac = frac * 10 + static_cast<unsigned>(text[i] - '0');
                frac_scale *= 10;
            }
            ++i;
        }
        if (i == frac_start) bad_bytes(text, "no digits after the decimal point");
    }

    const std::string_view suffix = text.substr(i);
    unsigned shift = 0;
    if (suffix.empty() || iequals(suffix, "b")) {
        shift = 0;
    } else {
        static constexpr std::string_view units = "KMGT";
        const char u = static_cast<char>(std::toupper(static_cast<unsigned char>(suffix[0])));
        const std::size_t pos = units.find(u);
        const std::string_view rest = suffix.substr(1);
        if (pos == std::string_view::npos || !(rest.empty() || iequals(rest, "b") || iequals(rest, "ib")))
            bad_bytes(text, fmt::format("unknown unit '{}'", suffix));
        shift = 10 * static_cast<unsigned>(pos + 1);
    }
    if (has_fraction && shift == 0) bad_bytes(text, "a fraction of a byte");

    const unsigned __int128 bytes = (whole << shift) + ((frac << shift) / frac_scale);
    if (bytes > UINT64_MAX) bad_bytes(text, "too large");
    if (bytes == 0) bad_bytes(text, "must be positive");
    return static_cast<std::uint64_t>(bytes);
}

}  // namespace signcut::cli
