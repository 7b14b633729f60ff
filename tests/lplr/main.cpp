#define BOOST_TEST_MODULE lplr
#include <boost/test/unit_test.hpp>
