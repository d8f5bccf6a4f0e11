// The relay's Prometheus metrics (prometheus-cpp; thread-safe counters).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace chatrelay {

/// Every metric the relay exports at /metrics.
class relay_metrics {
public:
  relay_metrics();

  /// The registry to expose (HTTP) or to collect from (embedding).
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  /// Counts a rejected body by error code.
  void count_error(const std::string& code);

private:
  // Declared first: every reference below points into it.
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& errors_;

public:
  prometheus::Counter& messages_in;      ///< chat bodies consumed
  prometheus::Counter& messages_out;     ///< chat messages broadcast
  prometheus::Counter& logins;           ///< accepted logins
  prometheus::Counter& logouts;          ///< logouts (any reason)
  prometheus::Counter& reconnects;       ///< broker connections after the first
  prometheus::Counter& takeovers;        ///< times this relay became active
  prometheus::Counter& redeliveries;     ///< deliveries flagged redelivered
  prometheus::Counter& published;        ///< AMQP messages published
  prometheus::Counter& confirm_timeouts; ///< publish channel reopened
  prometheus::Counter& republished;      ///< publishes sent again
  prometheus::Counter& restamped;        ///< seen cids given a new id
  prometheus::Gauge& users_online;       ///< users known to this relay
  prometheus::Gauge& active;             ///< 1 while active, else 0
  prometheus::Gauge& connected;          ///< 1 while connected to a broker
  prometheus::Gauge& in_flight;          ///< publishes awaiting confirmation
  prometheus::Gauge& stalled;      ///< 1 while resent publishes await confirms
  prometheus::Gauge& peers;        ///< other relays seen on the events
  prometheus::Gauge& rooms_online; ///< rooms with a member online
  prometheus::Histogram& publish_latency; ///< seconds from publish to confirm
};

} // namespace chatrelay
