#include "app/http_server.hpp"

#include "app/status.hpp"
#include "app/status_page.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <prometheus/text_serializer.h>

#include <chrono>

namespace chatrelay::app {

http_server::http_server(const relay_options& opts,
                         const daemon_options& daemon,
                         std::shared_ptr<relay_metrics> metrics)
    : opts_(opts), daemon_(daemon), metrics_(std::move(metrics)),
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
  // Debian's cpp-httplib compresses with brotli at its highest quality
  // whenever a client accepts it: ~1.5 s of CPU for the web client's bundle
  // on every page load, which any client can repeat at will. Offer gzip
  // only (some 20x cheaper): hide "br" from the request before routing (the
  // request is the server's own, non-const object).
  srv.set_pre_routing_handler(
      [](const httplib::Request& req, httplib::Response&) {
        auto& headers = const_cast<httplib::Request&>(req).headers;
        auto i = headers.find("Accept-Encoding");
        if (i != headers.end() && i->second.find("br") != std::string::npos)
          i->second =
              i->second.find("gzip") != std::string::npos ? "gzip" : "identity";
        return httplib::Server::HandlerResponse::Unhandled;
      });
  auto metrics = metrics_;
  srv.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  srv.Get("/readyz",
          [this, metrics](const httplib::Request&, httplib::Response& res) {
            bool connected = metrics->connected.Value() > 0;
            bool active = metrics->active.Value() > 0;
            // Publishes sent again after a missed confirm (stalled) still
            // wait: the relay takes no chats until they are confirmed.
            bool stalled = connected && metrics->stalled.Value() > 0;
            bool alive = probe_ok(); // the actors answer, not only gauges
            bool ready = connected && alive && !stalled;
            nlohmann::json body{{"ready", ready},
                                {"role", !alive       ? "failed"
                                         : !connected ? "disconnected"
                                         : stalled    ? "stalled"
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
  auto status = std::make_shared<relay_status>(opts_, metrics);
  srv.Get("/status.json", [status](const httplib::Request&,
                                   httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(status->snapshot().dump() + "\n", "application/json");
  });
  srv.Get("/status", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(status_page_html, "text/html; charset=utf-8");
  });
  auto& o = opts_;
  auto& d = daemon_;
  nlohmann::json client_config{
      {"wsUrl", d.web_stomp_url},
      {"login", d.web_user},
      {"passcode", d.web_password},
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
  // The built web client (resolved by the daemon; "" = none).
  if (!d.web_root.empty()) srv.set_mount_point("/", d.web_root);
  auto colon = d.http.rfind(':');
  auto host = d.http.substr(0, colon);
  auto port = std::stoi(d.http.substr(colon + 1));
  if (!srv.bind_to_port(host.c_str(), port))
    return "relay.http: cannot listen on " + d.http;
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
