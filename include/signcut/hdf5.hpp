// signcut: everything on the HDF5 side in one include. Each header below
// stands alone; the decomposition file layout is docs/FORMAT.md.
#pragma once

#include "signcut/datasets.hpp"
#include "signcut/decomposition_files.hpp"
#include "signcut/memory_limit.hpp"
#include "signcut/output_checks.hpp"
#include "signcut/whole_files.hpp"
