// From compress's options to the decomposer's: shared by signcut and
// signcut-mpi, so that both decompose with the same options bit for bit.
#pragma once

#include <cstdint>
#include <string>

#include "commands.hpp"
#include "signcut/decompose.hpp"

namespace signcut::cli {

/// `--block` as given, checked against the input's shape before any data is
/// read (a usage error names what is wrong).
BlockChoice block_choice(const StopOptions& stop, const Shape& shape);

/// `--codecs`: signed cuts always, zfp when named.
BlockCodecs parse_codecs(const std::string& text);

/// The decomposer's options for compress's stopping rule and sct options.
DecomposeOptions decompose_options(const StopOptions& stop, std::uint64_t seed, unsigned threads,
                                   const std::string& original_dtype);

}  // namespace signcut::cli
