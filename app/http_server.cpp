#include "app/http_server.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <prometheus/text_serializer.h>

#include <chrono>

namespace chatrelay::app {

http_server::http_server(const relay_options& opts,
                         std::shared_ptr<relay_metrics> metrics)
    : opts_(opts), metrics_(std::move(metrics)),
      server_(std::make_unique<httplib::Server>()) {}

http_server::~http_server() {
  stop();
}

std::string http_server::start() {
  auto& srv = *server_;
  // Stopping waits for open connections: keep them short so SIGTERM ends
  // the daemon within a second even with a keep-alive client attached.
  srv.set_keep_alive_max_count(1);
  srv.set_read_timeout(0, 500000);
  srv.set_write_timeout(1, 0);
  auto metrics = metrics_;
  srv.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  srv.Get("/readyz",
          [this, metrics](const httplib::Request&, httplib::Response& res) {
            bool connected = metrics->connected.Value() > 0;
            bool active = metrics->active.Value() > 0;
            bool alive = probe_ok(); // the actors answer, not only gauges
            bool ready = connected && alive;
            nlohmann::json body{{"ready", ready},
                                {"role", !alive       ? "failed"
                                         : !connected ? "disconnected"
                                         : active     ? "active"
                                                      : "standby"}};
            res.status = ready ? 200 : 503;
            res.set_content(body.dump() + "\n", "application/json");
          });
  srv.Get("/metrics", [metrics](const httplib::Request&,
                                httplib::Response& res) {
    auto text =
        prometheus::TextSerializer{}.Serialize(metrics->registry()->Collect());
    res.set_content(text, "text/plain; version=0.0.4");
  });
  auto& o = opts_;
  nlohmann::json client_config{
      {"wsUrl", o.web_stomp_url},
      {"login", o.web_user},
      {"passcode", o.web_password},
      {"relayUser", o.amqp_user},
      {"defaultRoom", o.default_room},
      {"maxMessageSize", o.max_message_size},
      {"keepaliveMs", std::chrono::duration_cast<std::chrono::milliseconds>(
                          o.keepalive_timeout)
                          .count()},
      {"loginQueue", o.login_queue},
      {"chatQueue", o.chat_queue}};
  srv.Get("/config.json",
          [client_config](const httplib::Request&, httplib::Response& res) {
            res.set_header("Cache-Control", "no-store");
            res.set_content(client_config.dump(), "application/json");
          });
  // The built web client; a missing directory only disables it.
  srv.set_mount_point("/", o.web_root);
  auto colon = o.http.rfind(':');
  auto host = o.http.substr(0, colon);
  auto port = std::stoi(o.http.substr(colon + 1));
  if (!srv.bind_to_port(host.c_str(), port))
    return "relay.http: cannot listen on " + o.http;
  thread_ = std::thread{[this] { server_->listen_after_bind(); }};
  return {};
}

void http_server::set_probe(std::function<bool()> probe) {
  std::lock_guard<std::mutex> guard{probe_mutex_};
  probe_ = std::move(probe);
}

bool http_server::probe_ok() {
  std::function<bool()> probe;
  {
    std::lock_guard<std::mutex> guard{probe_mutex_};
    probe = probe_;
  }
  return !probe || probe();
}

void http_server::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

} // namespace chatrelay::app
