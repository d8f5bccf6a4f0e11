// The daemon's HTTP port: web client, health, readiness, metrics.
#pragma once

#include "chatrelay/metrics.hpp"
#include "chatrelay/options.hpp"

#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace chatrelay::app {

class http_server {
public:
  http_server(const relay_options& opts,
              std::shared_ptr<relay_metrics> metrics);
  ~http_server();

  /// Binds and serves on a thread of its own; returns an error or "".
  std::string start();

  void stop();

private:
  relay_options opts_;
  std::shared_ptr<relay_metrics> metrics_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

} // namespace chatrelay::app
