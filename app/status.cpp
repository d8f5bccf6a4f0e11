#include "app/status.hpp"

#include "app/service.hpp"

#include <map>

namespace chatrelay::app {

namespace {

/// Sum of every sample of each counter and gauge family, by name.
std::map<std::string, double> totals(prometheus::Registry& registry) {
  std::map<std::string, double> result;
  for (auto& family : registry.Collect())
    for (auto& m : family.metric)
      result[family.name] += m.counter.value + m.gauge.value;
  return result;
}

} // namespace

relay_status::relay_status(const relay_options& opts,
                           std::shared_ptr<relay_metrics> metrics)
    : relay_(opts.id), metrics_(std::move(metrics)) {
  for (auto& a : broker_addresses(opts))
    addresses_.push_back(a.host + ":" + std::to_string(a.port));
}

relay_status::sample relay_status::rates(const sample& now) {
  constexpr auto window = std::chrono::seconds{10};
  std::lock_guard<std::mutex> guard{mtx_};
  // Keep one sample a second; the oldest within the window is the base.
  if (samples_.empty() ||
      now.at - samples_.back().at >= std::chrono::seconds{1})
    samples_.push_back(now);
  while (samples_.size() > 1 && now.at - samples_[1].at >= window)
    samples_.pop_front();
  auto& base = samples_.front();
  double secs = std::chrono::duration<double>(now.at - base.at).count();
  if (secs < 0.5) return {now.at};
  return {now.at, (now.in - base.in) / secs, (now.out - base.out) / secs,
          (now.errors - base.errors) / secs};
}

nlohmann::json relay_status::snapshot() {
  auto t = totals(*metrics_->registry());
  sample now{clock::now(), t["chat_relay_messages_in_total"],
             t["chat_relay_messages_out_total"], t["chat_relay_errors_total"]};
  auto per_s = rates(now);
  bool connected = t["chat_relay_connected"] > 0;
  bool active = t["chat_relay_active"] > 0;
  auto count = [&](const char* name) { return static_cast<uint64_t>(t[name]); };
  using nlohmann::json;
  return json{
      {"relay", relay_},
      {"version", version_text()},
      {"uptime_s",
       std::chrono::duration_cast<std::chrono::seconds>(now.at - started_)
           .count()},
      {"role", !connected ? "disconnected"
               : active   ? "active"
                          : "standby"},
      {"broker",
       {{"connected", connected},
        {"addresses", addresses_},
        {"reconnects", count("chat_relay_reconnects_total")},
        {"in_flight", count("chat_relay_in_flight")}}},
      {"peers", count("chat_relay_peers")},
      {"users_online", count("chat_relay_users_online")},
      {"rooms_online", count("chat_relay_rooms_online")},
      {"messages",
       {{"in_total", count("chat_relay_messages_in_total")},
        {"out_total", count("chat_relay_messages_out_total")},
        {"in_per_s", per_s.in},
        {"out_per_s", per_s.out}}},
      {"errors",
       {{"total", count("chat_relay_errors_total")}, {"per_s", per_s.errors}}},
      {"logins_total", count("chat_relay_logins_total")}};
}

} // namespace chatrelay::app
