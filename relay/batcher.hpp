// The group commit: deliveries wait in one queue; each database worker (one
// per pooled connection) sends every delivery waiting for one endpoint in one
// orgsync.handle_events call, one transaction, and answers each with its own
// row.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "postgres.hpp"

namespace relay {

// What one delivery is answered: its handle_event result when it was stored
// (200), else an error and the SQLSTATE behind it, if any.
struct Outcome {
  int status = 0;
  std::string json;    // the stored delivery's result
  std::string result;  // its "status", for the log
  std::string error, sqlstate;
  size_t batch = 0;  // deliveries in the database call that answered it; 0: none
};

// A delivery on its way to the database: the request thread that received it
// waits on `outcome`, which a database worker sets.
struct Delivery {
  std::string headers, body, endpoint;
  std::promise<Outcome> outcome;
};

// Deliveries waiting for a database worker, oldest first. Each request thread
// waits for its own delivery, so there are never more than HTTP threads.
class PendingDeliveries {
 public:
  void push(Delivery* d);
  // False when a worker has taken it already (and will answer it).
  bool withdraw(Delivery* d);
  // Takes the oldest delivery and the others waiting for the same endpoint
  // (one call serves one endpoint), up to `max`, in order of arrival; with
  // `wait`, waits for one first. Empty when none waits (with `wait`: once
  // stopped with nothing left).
  std::vector<Delivery*> take(size_t max, bool wait);
  void stop();

 private:
  std::deque<Delivery*> queue_;
  bool stopping_ = false;
  std::mutex mu_;
  std::condition_variable ready_;
};

class Batcher {
 public:
  // `batch` 1: each delivery alone with handle_event, in parallel over the pool.
  Batcher(const std::string& conninfo, int pool, size_t batch);
  // Once every delivery has been answered: the workers have nothing left.
  ~Batcher();

  // Hands a delivery (headers as a JSON object) to the database workers and
  // waits for its outcome.
  Outcome deliver(std::string headers, std::string body, std::string endpoint);
  // SELECT 1 on a pooled connection: 200, or 503 with why not.
  Outcome probe();

 private:
  void work();
  void serve(pg::Connection& c, std::vector<Delivery*> batch);
  void settle(pg::Connection& c, const std::vector<Delivery*>& batch, const PGresult* r);
  pg::Result send_call(pg::Connection& c, const std::vector<Delivery*>& batch);

  const size_t batch_;
  pg::Pool pool_;
  PendingDeliveries pending_;
  std::vector<std::thread> workers_;
};

}  // namespace relay
