// The options that more than one front end takes (signcut and signcut-mpi),
// defined once so that both parse and check them alike.
#pragma once

#include <initializer_list>

#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace signcut::cli {

extern const CLI::Validator at_least_one;
extern const CLI::Validator thread_number;
extern const CLI::Validator whole_number;
extern const CLI::Validator positive;
extern const CLI::Validator non_negative;

/// --json, --quiet, and where the command has them --force, --threads and
/// --max-memory.
void add_common(CLI::App* cmd, CommonOptions& c, bool outputs, bool threads, bool memory);
/// At most one of `options` may be given (the stopping rules of a command).
void mutually_exclusive(std::initializer_list<CLI::Option*> options);
/// The stopping rule and the sct options of compress and image.
void add_stop(CLI::App* cmd, StopOptions& s);
/// The options of --method lplr.
void add_lplr(CLI::App* cmd, LplrCliOptions& l);

}  // namespace signcut::cli
