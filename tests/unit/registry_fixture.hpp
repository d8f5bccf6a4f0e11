// The registry under test: a real registry actor, the mock broker, and
// helpers that log users in, chat and read what was published.
#pragma once

#include "actors/registry_actor.hpp"
#include "mock_broker.hpp"
#include "test.hpp"

#include <nlohmann/json.hpp>

namespace chatrelay::test {

using json = nlohmann::json;
using namespace std::chrono_literals;

inline relay_options default_options() {
  relay_options o;
  o.id = "relay-under-test";
  o.history_size = 3;
  o.keepalive_timeout = 10s;
  o.rate_limit = 1;
  o.rate_burst = 100;
  return o;
}

struct registry_fixture : test_coordinator_fixture<test::config> {
  std::shared_ptr<test::broker_log> log = std::make_shared<test::broker_log>();
  std::shared_ptr<relay_metrics> metrics = std::make_shared<relay_metrics>();
  broker_actor broker;
  registry_actor reg;
  uint64_t next_tag = 1;

  explicit registry_fixture(relay_options opts = default_options(),
                            relay_role role = relay_role::active) {
    broker = sys.spawn(test::mock_broker, log);
    reg = sys.spawn(registry, opts, broker, metrics);
    sched.run();
    caf::anon_send(reg, role_atom::value, role, uint64_t{1});
    sched.run();
  }

  ~registry_fixture() {
    caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(broker, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// chat_relay_errors_total{code=...} so far.
  double errors(const std::string& code) {
    for (auto& family : metrics->registry()->Collect())
      for (auto& m : family.metric)
        for (auto& label : m.label)
          if (family.name == "chat_relay_errors_total" &&
              label.name == "code" && label.value == code)
            return m.counter.value;
    return 0;
  }

  /// The value of gauge `name` (e.g. chat_relay_rooms_online).
  double gauge(const std::string& name) {
    for (auto& family : metrics->registry()->Collect())
      if (family.name == name && !family.metric.empty())
        return family.metric.front().gauge.value;
    return -1;
  }

  registry_state& state() {
    return deref<registry_actor::stateful_base<registry_state>>(reg).state;
  }

  /// Id number n (from 1) of the active term: ids start at a time floor.
  uint64_t id(uint64_t n) { return state().id_floor + n - 1; }

  /// A relay event on the events exchange, from another relay.
  void event(json body) {
    if (!body.contains("origin")) body["origin"] = "other-relay";
    deliver(delivery_source::events, body.dump());
  }

  uint64_t deliver(delivery_source src, const std::string& body) {
    auto tag = next_tag++;
    caf::anon_send(reg, delivery_atom::value,
                   delivery{src, tag, 1, false, body});
    sched.run();
    return tag;
  }

  uint64_t chat(const json& body) {
    return deliver(delivery_source::chat, body.dump());
  }

  /// `sender` sends the messages "1" .. "n" (to their first room).
  void count_to(const std::string& sender, const std::string& token, int n) {
    for (int i = 1; i <= n; ++i)
      chat({{"sender", sender},
            {"message", std::to_string(i)},
            {"token", token}});
  }

  /// Logs `login` in with queue "q.<login>"; returns the session token.
  std::string login(const std::string& name, json extra = json::object()) {
    extra["action"] = "login";
    extra["login"] = name;
    if (!extra.contains("queue")) extra["queue"] = "q." + name;
    deliver(delivery_source::login, extra.dump());
    auto msgs = in_queue(extra["queue"]);
    for (auto i = msgs.rbegin(); i != msgs.rend(); ++i)
      if ((*i)["type"] == "welcome") return (*i)["token"];
    return {};
  }

  std::vector<json> parse_all(const std::vector<std::string>& bodies) {
    std::vector<json> result;
    for (auto& b : bodies)
      result.push_back(json::parse(b));
    return result;
  }

  /// Everything published straight to a user's queue.
  std::vector<json> in_queue(const std::string& queue) {
    return parse_all(log->bodies("", queue));
  }

  /// Everything published to a room's exchange, of one type.
  std::vector<json> in_room(const std::string& room, const std::string& type) {
    std::vector<json> result;
    for (auto& j : parse_all(log->bodies("chat.room." + room)))
      if (j["type"] == type) result.push_back(j);
    return result;
  }

  std::vector<json> errors_in(const std::string& queue) {
    std::vector<json> result;
    for (auto& j : in_queue(queue))
      if (j["type"] == "error") result.push_back(j);
    return result;
  }

  bool acked(uint64_t tag) {
    auto tags = log->acked();
    return std::find(tags.begin(), tags.end(), tag) != tags.end();
  }

  std::vector<std::string> presence(const std::string& room) {
    std::vector<std::string> result;
    self->send(reg, presence_atom::value, room);
    sched.run();
    self->receive([&](std::vector<std::string>& xs) { result = xs; },
                  caf::after(std::chrono::seconds(0)) >>
                      [] { CAF_FAIL("no presence reply"); });
    return result;
  }
};

} // namespace chatrelay::test
