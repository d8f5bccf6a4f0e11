#include "chatrelay/app.hpp"

#include "chatrelay/relay.hpp"
#include "chatrelay/type_ids.hpp"

#include <caf/after.hpp>
#include <caf/exit_reason.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/settings.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include <pthread.h>
#include <unistd.h>

namespace chatrelay {

namespace {

/// "unexpected character" (line 3, column 6) / (--relay.port=x): CAF renders
/// its parser errors as "parser_error(unexpected_character, ({...}))".
std::string describe(const caf::error& err, const std::string& file) {
  if (err == caf::sec::cannot_open_file) return "cannot open " + file;
  if (err.category() != caf::atom("parser"))
    return caf::actor_system_config::render(err);
  auto what = caf::to_string(static_cast<caf::pec>(err.code()));
  std::replace(what.begin(), what.end(), '_', ' ');
  auto& ctx = err.context();
  if (!ctx.match_elements<caf::settings>()) return what;
  auto& where = ctx.get_as<caf::settings>(0);
  if (auto arg = caf::get_if<std::string>(&where, "argument"))
    return *arg + ": " + what;
  return "line " + std::to_string(caf::get_or(where, "line", int64_t{0})) +
         ", column " +
         std::to_string(caf::get_or(where, "column", int64_t{0})) + ": " + what;
}

bool on_command_line(const std::string& option,
                     const std::vector<std::string>& args) {
  auto flag = "--" + option;
  return std::any_of(args.begin(), args.end(), [&](const std::string& arg) {
    return arg == flag || arg.rfind(flag + "=", 0) == 0;
  });
}

} // namespace

program_config::program_config(std::string program)
    : program_(std::move(program)) {
  chatrelay::add_message_types(*this);
  actor_system_config::load<caf::io::middleman>();
  // Peers must speak the same typed interfaces; a file or flag may still
  // override this.
  set("middleman.app-identifiers",
      std::vector<std::string>{chatrelay::app_identifier});
}

std::optional<int> program_config::read(int argc, char** argv) {
  auto fail = [this](const std::string& why) {
    std::cerr << program_ << ": " << why << "\n";
    return EXIT_FAILURE;
  };
  if (auto err = parse(argc, argv)) {
    // A syntax error in the file: CAF names neither the file nor the line.
    auto strict = check_file();
    return fail(strict.empty() ? describe(err, config_file_path) : strict);
  }
  if (cli_helptext_printed) return EXIT_SUCCESS;
  if (!remainder.empty())
    return fail("unexpected argument '" + remainder.front() + "'");
  if (auto err = check_file(); !err.empty()) return fail(err);
  std::vector<std::string> args{argv + std::min(argc, 1), argv + argc};
  if (auto err = validate(args); !err.empty()) return fail(err);
  return std::nullopt;
}

std::string program_config::file() const {
  // CAF refuses a --config-file it cannot open; only its default
  // (caf-application.ini in the working directory) may be absent.
  if (config_file_path.empty() || access(config_file_path.c_str(), R_OK) != 0)
    return {};
  return config_file_path;
}

std::string program_config::check_file() const {
  auto path = file();
  if (path.empty()) return {};
  std::ifstream in{path};
  caf::settings raw;
  if (auto err = parse_config(in, caf::config_option_set{}, raw))
    return path + ": " + describe(err, path);
  auto check = [&](const std::string& group, const std::string& key,
                   const caf::config_value& value) -> std::string {
    auto name = group + "." + key;
    auto* opt = custom_options_.qualified_name_lookup(group, key);
    if (!opt) return path + ": unknown option " + name;
    if (opt->check(value))
      return path + ": " + name + ": " + value_text(value) +
             " is not a valid " +
             std::string{opt->type_name().data(), opt->type_name().size()};
    return {};
  };
  for (auto& [group, value] : raw) {
    auto* keys = caf::get_if<caf::settings>(&value);
    if (!keys) { // a key before the first [section]
      if (auto err = check("global", group, value); !err.empty()) return err;
      continue;
    }
    for (auto& [key, v] : *keys)
      if (auto err = check(group, key, v); !err.empty()) return err;
  }
  return {};
}

std::string
program_config::validate(const std::vector<std::string>& args) const {
  for (auto& validate_table : validators_) {
    auto err = validate_table();
    if (!err) continue;
    if (on_command_line(err.option, args) || file().empty())
      return err.message();
    std::ifstream in{file()};
    auto raw = parse_config(in);
    bool in_file = raw && caf::get_if(&*raw, err.option) != nullptr;
    return in_file ? file() + ": " + err.message() : err.message();
  }
  return {};
}

stop_signals::stop_signals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

int stop_signals::wait() {
  int sig = 0;
  sigwait(&set_, &sig);
  return sig;
}

caf::error stop_signals::wait_or_down(caf::actor_system& sys,
                                      const std::vector<caf::actor>& watched,
                                      const std::function<void()>& idle,
                                      caf::timespan period) {
  caf::scoped_actor self{sys};
  for (auto& a : watched)
    self->monitor(a);
  // A thread turns the signal into a message, so one receive waits for both.
  auto me = caf::actor_cast<caf::actor>(self);
  std::thread waiter{[this, me] { caf::anon_send(me, wait()); }};
  caf::error failure;
  bool done = false;
  while (!done)
    self->receive([&](int) { done = true; },
                  [&](const caf::down_msg& down) {
                    failure =
                        down.reason ? down.reason : caf::exit_reason::unknown;
                    done = true;
                    kill(getpid(), SIGTERM); // wakes the signal thread
                  },
                  caf::after(period) >>
                      [&] {
                        if (idle) idle();
                      });
  waiter.join();
  return failure;
}

} // namespace chatrelay
