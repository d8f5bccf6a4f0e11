#define CAF_SUITE options

#include "chatrelay/options.hpp"

#include "test.hpp"

using namespace chatrelay;
using namespace std::chrono_literals;

CAF_TEST(the defaults are valid) {
  relay_options o;
  CAF_CHECK_EQUAL(validate(o), "");
}

CAF_TEST(a bad value names its option) {
  auto check = [](auto change, const std::string& option) {
    relay_options o;
    change(o);
    auto err = validate(o);
    if (err.rfind("relay." + option + ":", 0) != 0)
      CAF_FAIL("expected an error on " << option << ", got '" << err << "'");
  };
  check([](relay_options& o) { o.duplicate_login = "maybe"; },
        "duplicate-login");
  check([](relay_options& o) { o.amqp_addresses = {"nohost"}; },
        "amqp-addresses");
  check([](relay_options& o) { o.keepalive_timeout = 1ms; },
        "keepalive-timeout");
  check([](relay_options& o) { o.http = "localhost"; }, "http");
  check([](relay_options& o) { o.rate_limit = 0; }, "rate-limit");
  check([](relay_options& o) { o.chat_queue = o.login_queue; }, "login-queue");
  check([](relay_options& o) { o.default_room = "no room"; }, "default-room");
  check([](relay_options& o) { o.log_level = "loud"; }, "log-level");
  check([](relay_options& o) { o.confirm_timeout = 1ms; }, "confirm-timeout");
  check([](relay_options& o) { o.user_queue_type = "stream"; },
        "user-queue-type");
  check([](relay_options& o) { o.deliveries = "sometimes"; }, "deliveries");
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
