// The AMQP connection, owned by one thread (rabbitmq-c connections are
// blocking and not thread-safe). Internal to the broker actor.
#pragma once

#include "chatrelay/internal/messages.hpp"
#include "chatrelay/metrics.hpp"
#include "chatrelay/options.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <variant>

namespace chatrelay::broker {

/// What the client reports; called on the client's thread.
struct client_callbacks {
  std::function<void(delivery)> on_delivery;
  std::function<void(relay_role, uint64_t generation)> on_role;
  std::function<void(uint64_t request, bool ok)> on_done;
};

/// Commands the actors hand to the client thread.
struct declare_cmd {
  uint64_t request;
  queue_binding binding;
};
struct unbind_cmd {
  queue_binding binding;
};
struct delete_cmd {
  std::string queue;
};
using command =
    std::variant<publish_batch, declare_cmd, unbind_cmd, delete_cmd>;

/// Owns the connection thread: connects (with backoff, trying every broker
/// address in turn), declares the topology, competes for the exclusive
/// consumers of login/chat (leader_lock), publishes in order, pipelines the
/// queue operations on channels of their own (queue_pipeline) and reports
/// back.
class amqp_client {
public:
  /// `max_commands`: commands queued for the thread, and publish batches
  /// held while the broker blocks publishing, before submit() waits.
  amqp_client(relay_options opts, std::shared_ptr<relay_metrics> metrics,
              client_callbacks callbacks,
              size_t max_commands = defaults::amqp::max_commands);
  ~amqp_client();

  amqp_client(const amqp_client&) = delete;
  amqp_client& operator=(const amqp_client&) = delete;

  void start();

  /// Stops the thread and closes the connection; idempotent.
  void stop();

  /// Queues a command for the thread (thread-safe); waits while the queue
  /// holds max_commands (back-pressure: nothing is dropped).
  void submit(command cmd);

  /// Commands waiting for the thread.
  size_t queued();

private:
  class connection;

  void run();
  void serve_once(const amqp_address& addr, uint64_t& generation,
                  std::chrono::milliseconds& backoff);
  void connection_gone(uint64_t generation);
  void set_live_fd(int fd);
  /// Answers a declaration once (client thread only).
  void answer(uint64_t request, bool ok);
  void answer_all(bool ok);
  void wake();
  bool wait_wakeup(std::chrono::milliseconds timeout);
  std::deque<command> take_commands();

  relay_options opts_;
  std::shared_ptr<relay_metrics> metrics_;
  client_callbacks callbacks_;
  size_t max_commands_;
  bool transient_; ///< relay.deliveries = "transient"
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> finished_{false};
  /// The live connection's socket, so stop() can break a blocking call;
  /// guarded so that it is never shut down after the socket was closed.
  std::mutex fd_mtx_;
  int live_fd_ = -1;
  int wake_fd_ = -1;
  std::mutex mtx_;
  std::condition_variable room_; ///< the queue has room again
  std::deque<command> commands_;
  std::unordered_set<uint64_t> unanswered_; ///< declarations taken, client
                                            ///< thread only
};

} // namespace chatrelay::broker
