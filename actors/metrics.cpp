#include "chatrelay/metrics.hpp"

namespace chatrelay {

namespace {

prometheus::Counter& counter(prometheus::Registry& reg, const char* name,
                             const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(reg).Add({});
}

prometheus::Gauge& gauge(prometheus::Registry& reg, const char* name,
                         const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(reg).Add({});
}

} // namespace

relay_metrics::relay_metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      errors_(prometheus::BuildCounter()
                  .Name("chat_relay_errors_total")
                  .Help("Rejected bodies by error code")
                  .Register(*registry_)),
      messages_in(counter(*registry_, "chat_relay_messages_in_total",
                          "Chat bodies consumed from the chat queue")),
      messages_out(counter(*registry_, "chat_relay_messages_out_total",
                           "Chat messages broadcast to rooms or users")),
      logins(counter(*registry_, "chat_relay_logins_total", "Accepted logins")),
      logouts(counter(*registry_, "chat_relay_logouts_total",
                      "Sessions ended (logout, timeout, replaced)")),
      reconnects(counter(*registry_, "chat_relay_reconnects_total",
                         "Broker connections established after the first")),
      takeovers(counter(*registry_, "chat_relay_takeovers_total",
                        "Times this relay became the active relay")),
      redeliveries(counter(*registry_, "chat_relay_redeliveries_total",
                           "Deliveries the broker flagged as redelivered")),
      published(counter(*registry_, "chat_relay_published_total",
                        "AMQP messages published")),
      confirm_timeouts(
          counter(*registry_, "chat_relay_confirm_timeouts_total",
                  "Times a publish missed relay.confirm-timeout (the publish "
                  "channel was reopened, or the connection dropped)")),
      republished(counter(*registry_, "chat_relay_republished_total",
                          "Unconfirmed publishes sent again")),
      restamped(counter(*registry_, "chat_relay_restamped_total",
                        "Redelivered or resent chats given a new id (their "
                        "first id was below the room's latest)")),
      users_online(gauge(*registry_, "chat_relay_users_online",
                         "Users online (as known to this relay)")),
      active(gauge(*registry_, "chat_relay_active",
                   "1 while this relay is the active one")),
      connected(gauge(*registry_, "chat_relay_connected",
                      "1 while connected to a broker")),
      in_flight(gauge(*registry_, "chat_relay_in_flight",
                      "Publishes awaiting the broker's confirmation")),
      stalled(gauge(*registry_, "chat_relay_confirm_stalled",
                    "1 while publishes sent again after a missed confirm "
                    "await their confirmation")),
      publish_latency(
          prometheus::BuildHistogram()
              .Name("chat_relay_publish_latency_seconds")
              .Help("Time from publish to the broker's confirm")
              .Register(*registry_)
              .Add({}, prometheus::Histogram::BucketBoundaries{
                           0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                           0.025, 0.05, 0.1, 0.25, 1.0})) {}

void relay_metrics::count_error(const std::string& code) {
  errors_.Add({{"code", code}}).Increment();
}

} // namespace chatrelay
