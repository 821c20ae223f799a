// The group commit: deliveries wait in one queue; each database worker (one
// per connection) sends every delivery waiting for one endpoint in one
// orgsync.handle_events call, one transaction, and answers each with its own
// row. Nothing waits on a thread for its answer: each job carries a callback.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "metrics.hpp"
#include "postgres.hpp"

namespace relay {

// What one delivery (or probe) is answered: its handle_event result when it
// was stored (200), else an error and the SQLSTATE behind it, if any.
struct Outcome {
  int status = 0;
  std::string json;  // the stored delivery's result
  // applied, duplicate, stale, ignored, invalid; rejected (for `reason`: a
  // check orgsync made, or unknown_endpoint); failed
  std::string result;
  std::string reason;
  std::string error, sqlstate;
  size_t batch = 0;  // deliveries in the database call that answered it; 0: none
};

using Answer = std::function<void(Outcome)>;

// A delivery on its way to the database, or a probe (SELECT 1): the worker
// that takes it calls `answer` once.
struct Job {
  bool probe = false;
  std::string headers, body, endpoint;
  Answer answer;
  std::chrono::steady_clock::time_point queued;
};
using Jobs = std::vector<std::unique_ptr<Job>>;

// Jobs waiting for a database worker, oldest first.
class PendingJobs {
 public:
  void push(std::unique_ptr<Job> job);
  // A probe alone, or the oldest delivery and the others waiting for the same
  // endpoint (one call serves one endpoint), up to `max`, in order of
  // arrival; with `wait`, waits for one first. Empty when none waits (with
  // `wait`: once stopped with nothing left).
  Jobs take(size_t max, bool wait);
  // The jobs that have waited `age` or longer, taken out; with `wait`, waits
  // until there are some (empty once stopped).
  Jobs expired(std::chrono::steady_clock::duration age, bool wait);
  void stop();

 private:
  std::deque<std::unique_ptr<Job>> queue_;
  bool stopping_ = false;
  std::mutex mu_;
  std::condition_variable ready_, changed_;
};

class Batcher {
 public:
  // `batch` 1: each delivery alone with handle_event, in parallel over the
  // `workers` connections.
  Batcher(const std::string& conninfo, int workers, size_t batch, Metrics& metrics);
  // Once every job has been answered: the workers have nothing left.
  ~Batcher();

  // Queues a delivery (headers as a JSON object); `answer` is called with
  // its outcome, on a worker's thread.
  void deliver(std::string headers, std::string body, std::string endpoint, Answer answer);
  // Queues a SELECT 1: 200, or 503 with why not.
  void probe(Answer answer);

 private:
  void enqueue(std::unique_ptr<Job> job);
  void work(pg::Connection& c);
  void serve(pg::Connection& c, Jobs batch);
  void settle(pg::Connection& c, Jobs& batch, const PGresult* r);
  pg::Result send_call(pg::Connection& c, const Jobs& batch);
  void expire();

  const size_t batch_;
  Metrics& metrics_;
  std::vector<std::unique_ptr<pg::Connection>> connections_;
  PendingJobs pending_;
  std::vector<std::thread> workers_;
  std::thread expiry_;
};

}  // namespace relay
