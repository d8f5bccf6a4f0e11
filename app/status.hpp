// GET /status.json: the relay at a glance, for the status page and for
// operators with curl (the same figures as /metrics, plus rates).
#pragma once

#include "chatrelay/metrics.hpp"
#include "chatrelay/options.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>

namespace chatrelay::app {

class relay_status {
public:
  relay_status(const relay_options& opts,
               std::shared_ptr<relay_metrics> metrics);

  /// Role, broker connection, peers, users and rooms online, message and
  /// error totals and their rates over the last few seconds.
  nlohmann::json snapshot();

private:
  using clock = std::chrono::steady_clock;

  struct sample {
    clock::time_point at;
    double in = 0;
    double out = 0;
    double errors = 0;
  };

  /// Rates of `now` against the oldest sample kept (at most ~10 s old).
  sample rates(const sample& now);

  std::string relay_;
  std::vector<std::string> addresses_;
  std::shared_ptr<relay_metrics> metrics_;
  clock::time_point started_ = clock::now();
  std::mutex mtx_;
  std::deque<sample> samples_;
};

} // namespace chatrelay::app
