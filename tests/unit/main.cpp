// The one file that defines the test runner's main.
#include <caf/test/unit_test_impl.hpp>
