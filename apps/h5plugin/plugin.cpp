// The HDF5 filter plugin: the module HDF5 loads from its plugin path when it
// meets a dataset filtered with signcut's id. All the work is in
// libsigncut's filter (signcut/hdf5_filter.hpp); this shell only tells HDF5
// what it is.
#include <H5PLextern.h>

#include "signcut/hdf5_filter.hpp"

extern "C" H5PL_type_t H5PLget_plugin_type(void) { return H5PL_TYPE_FILTER; }

extern "C" const void* H5PLget_plugin_info(void) { return signcut::hdf5_filter_class(); }
