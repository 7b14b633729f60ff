// The greedy decomposer (in progress).
#include "signcut/decompose.hpp"
