// signcut: everything, for programs that do not mind the compile time.
#pragma once

#include "signcut/aligned_allocator.hpp"
#include "signcut/arch.hpp"
#include "signcut/baselines.hpp"
#include "signcut/error.hpp"
#include "signcut/kernels.hpp"
#include "signcut/lplr.hpp"
#include "signcut/matricization.hpp"
#include "signcut/quantizer.hpp"
#include "signcut/random.hpp"
#include "signcut/signs.hpp"
#include "signcut/version.hpp"
