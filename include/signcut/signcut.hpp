// signcut: the whole public API in one include, for programs that do not
// mind the compile time. Each header below also stands alone.
#pragma once

// The core (libsigncut-core): tensors, signs, kernels, the decomposer.
#include "signcut/aligned_allocator.hpp"
#include "signcut/allocation.hpp"
#include "signcut/arch.hpp"
#include "signcut/block_codec.hpp"
#include "signcut/blocks.hpp"
#include "signcut/decompose.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/error.hpp"
#include "signcut/export.hpp"
#include "signcut/kernels.hpp"
#include "signcut/metrics.hpp"
#include "signcut/random.hpp"
#include "signcut/row_source.hpp"
#include "signcut/sign_storage.hpp"
#include "signcut/scale_format.hpp"
#include "signcut/signs.hpp"
#include "signcut/stored_layout.hpp"
#include "signcut/tensor.hpp"
#include "signcut/version.hpp"

// libsigncut: low-rank methods and baselines, files and images.
#include "signcut/any_decomposition.hpp"
#include "signcut/baselines.hpp"
#include "signcut/files.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/image.hpp"
#include "signcut/lplr.hpp"
#include "signcut/matricization.hpp"
#include "signcut/quantizer.hpp"
#include "signcut/unfinished_outputs.hpp"
#include "signcut/deflated_signs.hpp"
#include "signcut/zfp_block_codec.hpp"
