// embedded_bot: the relay embedded in a program's own actor_system, with two
// actors of the program plugged into it:
//  - a bot (an observer) that answers "!time" in the room it was asked in,
//  - a moderator that drops room messages containing a banned word.
//
// Options: every relay option as in the daemon (--relay.amqp-host=...,
// --relay.login-queue=..., or a [relay] section in --config-file), plus
//   --bot.name=NAME              sender of the bot's answers ("timebot")
//   --bot.banned-words=["a","b"] words the moderator drops (case-insensitive)
// Stops on SIGINT/SIGTERM.
#include <chatrelay/app.hpp>
#include <chatrelay/relay.hpp>

#include <caf/actor_system.hpp>
#include <caf/config_option_adder.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

using namespace chatrelay;

namespace {

struct config : program_config {
  relay_options relay;
  std::string bot_name = "timebot";
  std::vector<std::string> banned_words = {"spam"};

  config() : program_config("embedded_bot") {
    add(relay_option_table(), relay);
    caf::config_option_adder{custom_options_, "bot"}
        .add(bot_name, "name", "sender of the bot's answers")
        .add(banned_words, "banned-words",
             "the moderator drops room messages containing one of these");
  }
};

std::string utc_now() {
  auto t =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// The bot: sees every chat event and answers "!time" in the same room.
observer_actor::behavior_type bot(observer_actor::pointer self,
                                  relay_actor relay, std::string name) {
  return {
      [=](event_atom, const chat_event& ev) {
        // Its own answers come back as events too: they never say "!time".
        if (ev.kind != event_kind::message || ev.text != "!time") return;
        chat_event answer;
        answer.room = ev.room;
        answer.sender = name;
        answer.text = "@" + ev.sender + " the time is " + utc_now();
        self->send(relay, inject_atom::value, std::move(answer));
      },
  };
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

/// The moderator: asked before every room message is stamped; false drops it.
moderator_actor::behavior_type moderator(moderator_actor::pointer,
                                         std::vector<std::string> banned) {
  for (auto& word : banned)
    word = lower(word);
  return {
      [=](filter_atom, const chat_event& ev) {
        auto text = lower(ev.text);
        return std::none_of(banned.begin(), banned.end(), [&](auto& word) {
          return !word.empty() && text.find(word) != std::string::npos;
        });
      },
  };
}

/// Asks the relay for its role until it is active (or `timeout` passed).
bool wait_active(caf::actor_system& sys, const relay_actor& relay,
                 std::chrono::milliseconds timeout) {
  caf::scoped_actor self{sys};
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto role = relay_role::disconnected;
    self->request(relay, std::chrono::seconds(1), status_atom::value)
        .receive([&](relay_role r) { role = r; }, [](const caf::error&) {});
    if (role == relay_role::active) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

} // namespace

int main(int argc, char** argv) {
  // Before CAF starts its threads: they inherit the blocked signals.
  stop_signals signals;
  config cfg;
  if (auto exit_status = cfg.read(argc, argv)) return *exit_status;
  caf::actor_system sys{cfg};
  auto relay = spawn_relay(sys, cfg.relay);
  if (!relay) {
    std::cerr << "embedded_bot: " << sys.render(relay.error()) << "\n";
    return EXIT_FAILURE;
  }
  auto the_bot = sys.spawn(bot, relay->facade(), cfg.bot_name);
  auto the_moderator = sys.spawn(moderator, cfg.banned_words);
  caf::anon_send(relay->facade(), subscribe_atom::value, the_bot);
  caf::anon_send(relay->facade(), filter_atom::value, the_moderator);
  if (wait_active(sys, relay->facade(), std::chrono::seconds(10)))
    std::cerr << "embedded_bot: relay active, bot " << cfg.bot_name
              << " listening" << std::endl;
  else
    std::cerr << "embedded_bot: relay not active yet (standby or no broker)"
              << std::endl;
  signals.wait();
  // The relay first (nothing asks the bot or the moderator afterwards), then
  // the program's own actors.
  relay->stop();
  caf::anon_send_exit(the_bot, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(the_moderator, caf::exit_reason::user_shutdown);
  std::cerr << "embedded_bot: stopped" << std::endl;
  return EXIT_SUCCESS;
}
