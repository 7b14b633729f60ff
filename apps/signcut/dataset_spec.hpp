// Datasets as the command line names them: "FILE.h5:/path", the silx
// spelling "FILE.h5::/path", or a bare "FILE.h5" holding one dataset.
#pragma once

#include <string>
#include <string_view>

namespace signcut::cli {

struct DatasetRef {
    std::string file;
    std::string dataset;  ///< absolute path inside the file, e.g. "/temperature"
};

/// Splits `spec` into a file and a dataset and checks that both exist. The
/// file part is the longest prefix ending before a ':' that names an existing
/// file, so file names containing ':' work. A bare file with zero or several
/// datasets is refused (errc::bad_input) with a message listing them; a
/// dataset signcut cannot read (a string, a compound) is refused here, before
/// any work, with the reason read_dataset would give.
DatasetRef resolve_dataset(std::string_view spec);

}  // namespace signcut::cli
