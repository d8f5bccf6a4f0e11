// The preamble every program that runs the relay (or talks to it) repeats:
// its configuration (CAF's config file and flags, checked strictly) and the
// wait for SIGINT/SIGTERM.
#pragma once

#include "chatrelay/config.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <signal.h>

namespace chatrelay {

/// The configuration of a program that runs the relay or reaches it over
/// CAF's middleman: the relay's message types, the middleman with the
/// relay's app identifier, and options read from the flags and a config
/// file (--config-file=PATH, else caf-application.ini in the working
/// directory, if present). Derive, bind option tables (`add`) or options of
/// your own (`custom_options_`) in the constructor, then call `read`.
class program_config : public caf::actor_system_config {
public:
  /// `program` names the program in error messages.
  explicit program_config(std::string program);

  /// Binds the options of `table` to `opts` (a member of the derived
  /// config); `read` validates them with the table's rules.
  template <class T>
  void add(const option_table<T>& table, T& opts) {
    caf::config_option_adder adder{custom_options_, table.group()};
    table.bind(adder, opts);
    validators_.push_back([&table, &opts] { return table.validate(opts); });
  }

  /// Reads the flags and the config file and checks them: an unknown option,
  /// a value of the wrong type or one that breaks its option's rules is an
  /// error naming the file (if it came from there) and the option. Returns
  /// the exit status when the program should end now (an error, printed to
  /// stderr: EXIT_FAILURE; --help: EXIT_SUCCESS), nothing to go on.
  std::optional<int> read(int argc, char** argv);

  /// Checks the config file CAF read with CAF's own parser, strictly (CAF
  /// silently drops unknown keys and values of the wrong type): returns an
  /// error "FILE: ..." naming the option, or "" (also without a file).
  std::string check_file() const;

  /// The config file CAF read, or "" (none: the default one is optional).
  std::string file() const;

protected:
  std::string program_;

private:
  /// The first rule broken, named by the file when the option came from it.
  std::string validate(const std::vector<std::string>& args) const;

  std::vector<std::function<option_error()>> validators_;
};

/// Blocks SIGINT and SIGTERM, for the whole program: construct it first in
/// main, before any thread starts (threads inherit the mask), so that only
/// `wait` sees them and CAF's threads are never interrupted.
class stop_signals {
public:
  stop_signals();

  /// Waits for SIGINT or SIGTERM; returns the signal.
  int wait();

  /// Waits for SIGINT/SIGTERM or for one of `watched` to end, whichever
  /// comes first; calls `idle` (if set) every `period` meanwhile. Returns
  /// why the watched actor ended (a normal end counts as
  /// exit_reason::unknown), or nothing when a signal came.
  caf::error
  wait_or_down(caf::actor_system& sys, const std::vector<caf::actor>& watched,
               const std::function<void()>& idle = {},
               caf::timespan period = std::chrono::milliseconds{200});

private:
  sigset_t set_;
};

} // namespace chatrelay
