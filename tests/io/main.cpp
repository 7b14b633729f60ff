// The I/O test suite: HDF5 datasets, decomposition files, atomic outputs,
// images.
#define BOOST_TEST_MODULE io
#include <boost/test/unit_test.hpp>
