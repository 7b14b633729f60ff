#include "signcut/decomposition.hpp"
