// The clock of the broker bridge's pure classes: monotonic, one type for all
// of them, so the client and the tests drive them with the same time_point.
#pragma once

#include <chrono>

namespace chatrelay::broker {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;
using duration = clock::duration;

} // namespace chatrelay::broker
