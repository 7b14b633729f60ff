// Byte counts as the command line gives them (--max-memory).
#pragma once

#include <cstdint>
#include <string_view>

namespace signcut::cli {

/// Parses a byte count such as "1000000", "512M", "2G", "1.5G", "64KiB" or
/// "3TB". Suffixes K, M, G, T (case-insensitive, optionally followed by "B"
/// or "iB") are powers of 1024; a bare number, or one followed by "B", is
/// bytes. Throws Error(errc::invalid_argument) on anything else, on zero and
/// on values beyond 2^64 - 1.
std::uint64_t parse_bytes(std::string_view text);

}  // namespace signcut::cli
