#define BOOST_TEST_MODULE zfp
#include <boost/test/unit_test.hpp>
