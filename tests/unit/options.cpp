#define CAF_SUITE options

#include "chatrelay/options.hpp"

#include "app/config.hpp"
#include "chatrelay/config.hpp"
#include "test.hpp"

#include <caf/config_option_set.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include <unistd.h>

using namespace chatrelay;
using namespace std::chrono_literals;

namespace {

/// A config file of the test (removed at the end).
struct ini_file {
  std::string path;

  explicit ini_file(const std::string& text) {
    char name[] = "/tmp/chatrelay-options-XXXXXX";
    auto fd = mkstemp(name);
    close(fd);
    path = name;
    std::ofstream{path} << text;
  }

  ~ini_file() { std::remove(path.c_str()); }
};

/// What the daemon's configuration says on stderr after reading `flags`
/// (and `ini`, if not empty): "" when it is valid.
std::string load_error(const std::string& ini,
                       std::vector<std::string> flags = {}) {
  std::optional<ini_file> file;
  if (!ini.empty()) {
    file.emplace(ini);
    flags.push_back("--config-file=" + file->path);
  }
  std::vector<char*> argv{const_cast<char*>("chat-relayd")};
  for (auto& flag : flags)
    argv.push_back(flag.data());
  std::ostringstream err;
  auto* old = std::cerr.rdbuf(err.rdbuf());
  app::relay_config cfg;
  auto exit_status = cfg.read(static_cast<int>(argv.size()), argv.data());
  std::cerr.rdbuf(old);
  if (exit_status && *exit_status == EXIT_SUCCESS)
    CAF_FAIL("read() asks to exit although nothing is wrong");
  if (!exit_status && !err.str().empty())
    CAF_FAIL("read() went on after writing " << err.str());
  return err.str();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Expects `error` to name each of `parts`.
void expect_named(const std::string& error,
                  std::initializer_list<std::string> parts) {
  // On a mismatch CAF prints the whole error next to the missing part.
  for (auto& part : parts)
    CAF_CHECK_EQUAL(contains(error, part) ? part : error, part);
}

template <class T>
std::string example_of(const option_table<T>& table, const T& opts) {
  std::ostringstream out;
  table.write_example(out, opts);
  return out.str();
}

} // namespace

CAF_TEST(the defaults are valid) {
  CAF_CHECK_EQUAL(validate(relay_options{}), "");
  CAF_CHECK_EQUAL(app::daemon_option_table().validate({}).message(), "");
  CAF_CHECK_EQUAL(load_error(""), "");
}

CAF_TEST(the defaults are those of defaults.hpp) {
  relay_options o;
  CAF_CHECK_EQUAL(o.amqp_host, defaults::amqp::host);
  CAF_CHECK_EQUAL(o.amqp_port, defaults::amqp::port);
  CAF_CHECK_EQUAL(o.confirm_timeout,
                  caf::timespan{defaults::amqp::confirm_timeout});
  CAF_CHECK_EQUAL(o.duplicate_login, defaults::chat::duplicate_login);
  CAF_CHECK_EQUAL(o.batch_max, 64u);
  CAF_CHECK_EQUAL(o.batch_max, defaults::batch::max_messages);
  CAF_CHECK_EQUAL(o.batch_max_bytes, 65536u);
  CAF_CHECK_EQUAL(o.batch_max_bytes, defaults::batch::max_bytes);
  CAF_CHECK_EQUAL(o.batch_linger, caf::timespan{10ms});
  CAF_CHECK_EQUAL(o.batch_linger, caf::timespan{defaults::batch::linger});
  app::daemon_options d;
  CAF_CHECK_EQUAL(d.http, defaults::http::address);
  CAF_CHECK_EQUAL(d.log_level, defaults::log_level);
}

CAF_TEST(the example config sets every option to its default) {
  app::relay_config cfg;
  auto flag = std::string{"--config-file="} + CHATRELAY_SOURCE_DIR +
              "/config/chat-relay.ini";
  char* argv[] = {const_cast<char*>("chat-relayd"), flag.data()};
  CAF_REQUIRE(!cfg.read(2, argv));
  CAF_CHECK_EQUAL(cfg.file(), flag.substr(flag.find('=') + 1));
  // Each table writes the values it is given: equal text, equal options.
  CAF_CHECK_EQUAL(example_of(relay_option_table(), cfg.options),
                  example_of(relay_option_table(), relay_options{}));
  CAF_CHECK_EQUAL(example_of(app::daemon_option_table(), cfg.daemon),
                  example_of(app::daemon_option_table(), {}));
}

CAF_TEST(the committed example config is the generated one) {
  std::ifstream in{CHATRELAY_SOURCE_DIR "/config/chat-relay.ini"};
  std::stringstream committed;
  committed << in.rdbuf();
  std::ostringstream generated;
  app::write_example_config(generated);
  if (committed.str() != generated.str())
    CAF_FAIL("config/chat-relay.ini differs from the option tables: "
             "regenerate it with build/chat-relayd --example-config > "
             "config/chat-relay.ini");
}

CAF_TEST(an unknown key in the file is refused naming the file and key) {
  auto err = load_error("[relay]\namqp-hots=\"x\"\n");
  expect_named(
      err, {"/tmp/chatrelay-options-", "unknown option", "relay.amqp-hots"});
  expect_named(load_error("[rleay]\nhttp=\"127.0.0.1:1\"\n"),
               {"unknown option rleay.http"});
  expect_named(load_error("verbose=true\n"), {"unknown option global.verbose"});
}

CAF_TEST(a value of the wrong type is refused naming the file and key) {
  // CAF itself drops these silently and goes on with the default.
  expect_named(load_error("[relay]\namqp-port=\"5673\"\n"),
               {"/tmp/chatrelay-options-", "relay.amqp-port", "uint16"});
  expect_named(load_error("[relay]\namqp-port=70000\n"),
               {"relay.amqp-port", "70000"});
  expect_named(load_error("[relay]\namqp-heartbeat=1500\n"),
               {"relay.amqp-heartbeat", "timespan"});
  expect_named(load_error("[relay]\nrequire-token=\"no\"\n"),
               {"relay.require-token"});
  expect_named(load_error("[scheduler]\nmax-threads=\"2\"\n"),
               {"scheduler.max-threads"});
}

CAF_TEST(a file CAF cannot parse is refused naming the file and line) {
  expect_named(load_error("[relay]\n\namqp-host=localhost\n"),
               {"/tmp/chatrelay-options-", "line 3"});
}

CAF_TEST(a bad value names its option and the file it came from) {
  auto from_file = load_error("[relay]\nrate-limit=0\n");
  expect_named(from_file,
               {"/tmp/chatrelay-options-", "relay.rate-limit: must be 1.."});
  // Set by a flag (which wins over the file): the flag is to blame.
  auto from_flag =
      load_error("[relay]\nrate-limit=5\n", {"--relay.rate-limit=0"});
  expect_named(from_flag, {"relay.rate-limit: must be 1.."});
  CAF_CHECK(!contains(from_flag, "/tmp/"));
  expect_named(load_error("", {"--relay.log-format=xml"}),
               {"relay.log-format: must be \"text\" or \"json\""});
  expect_named(load_error("", {"surplus"}), {"unexpected argument 'surplus'"});
}

CAF_TEST(every rule names its option) {
  auto relay = [](auto change, const std::string& option) {
    relay_options o;
    change(o);
    auto err = validate(o);
    if (err.rfind("relay." + option + ": must be ", 0) != 0)
      CAF_FAIL("expected an error on " << option << ", got '" << err << "'");
  };
  relay([](auto& o) { o.duplicate_login = "maybe"; }, "duplicate-login");
  relay(
      [](auto& o) {
        o.amqp_addresses = {"a:1", "nohost"};
      },
      "amqp-addresses");
  relay([](auto& o) { o.keepalive_timeout = 1ms; }, "keepalive-timeout");
  relay([](auto& o) { o.rate_limit = 0; }, "rate-limit");
  relay([](auto& o) { o.chat_queue = o.login_queue; }, "chat-queue");
  relay([](auto& o) { o.default_room = "no room"; }, "default-room");
  relay([](auto& o) { o.confirm_timeout = 1ms; }, "confirm-timeout");
  relay([](auto& o) { o.user_queue_type = "stream"; }, "user-queue-type");
  relay([](auto& o) { o.deliveries = "sometimes"; }, "deliveries");
  relay([](auto& o) { o.batch_max = 0; }, "batch-max");
  relay([](auto& o) { o.batch_max_bytes = 0; }, "batch-max-bytes");
  relay([](auto& o) { o.batch_linger = -1ms; }, "batch-linger");
  auto daemon = [](auto change, const std::string& option) {
    app::daemon_options o;
    change(o);
    auto err = app::daemon_option_table().validate(o);
    CAF_CHECK_EQUAL(err.option, "relay." + option);
  };
  daemon([](auto& o) { o.http = "localhost"; }, "http");
  daemon([](auto& o) { o.log_level = "loud"; }, "log-level");
  daemon([](auto& o) { o.log_format = "xml"; }, "log-format");
}

CAF_TEST(the help text names what validation accepts) {
  caf::config_option_set set;
  caf::config_option_adder adder{set, "relay"};
  relay_options o;
  relay_option_table().bind(adder, o);
  auto help = [&](const std::string& name) {
    auto* opt = set.qualified_name_lookup("relay." + name);
    CAF_REQUIRE(opt != nullptr);
    auto text = opt->description();
    return std::string{text.data(), text.size()};
  };
  expect_named(help("duplicate-login"),
               {"\"replace\"", "\"reject\"", "\"allow\""});
  expect_named(help("rate-limit"), {"1..1000000"});
  expect_named(help("confirm-timeout"), {"100ms..10min"});
  expect_named(help("chat-queue"), {"different from login-queue"});
}

CAF_TEST(durations are written as the config file reads them) {
  CAF_CHECK_EQUAL(duration_text(caf::timespan{0}), "0s");
  CAF_CHECK_EQUAL(duration_text(300s), "5min");
  CAF_CHECK_EQUAL(duration_text(1500ms), "1500ms");
  CAF_CHECK_EQUAL(duration_text(2h), "2h");
}

CAF_TEST(broker addresses come from the list before host and port) {
  relay_options o;
  o.amqp_addresses = {"a:1", "b:2"};
  auto addrs = broker_addresses(o);
  CAF_REQUIRE_EQUAL(addrs.size(), 2u);
  CAF_CHECK_EQUAL(addrs[1].host, "b");
  CAF_CHECK_EQUAL(addrs[1].port, 2);
  o.amqp_addresses.clear();
  auto fallback = broker_addresses(o); // CAF's checks keep references
  CAF_CHECK_EQUAL(fallback.front().port, 5672);
}
