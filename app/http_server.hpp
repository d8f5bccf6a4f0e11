// The daemon's HTTP port: web client, health, readiness, metrics.
#pragma once

#include "app/config.hpp"
#include "chatrelay/metrics.hpp"
#include "chatrelay/options.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace chatrelay::app {

class http_server {
public:
  http_server(const relay_options& opts, const daemon_options& daemon,
              std::shared_ptr<relay_metrics> metrics);
  ~http_server();

  /// Binds and serves on a thread of its own; returns an error or "".
  std::string start();

  void stop();

  /// Asks the relay's actors whether they answer: /readyz says not ready
  /// while this returns false (a failed or stalled relay), whatever the
  /// gauges say. May be set at any time; unset, only the gauges count.
  void set_probe(std::function<bool()> probe);

private:
  bool probe_ok();

  std::mutex probe_mutex_;
  std::function<bool()> probe_;
  relay_options opts_;
  daemon_options daemon_;
  std::shared_ptr<relay_metrics> metrics_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

} // namespace chatrelay::app
