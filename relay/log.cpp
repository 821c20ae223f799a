#include "log.hpp"

#include <cstdio>

#include "text.hpp"

namespace relay {

namespace {

void write_line(std::string line) {
  line += '\n';
  std::fputs(line.c_str(), stderr);
}

}  // namespace

void log_event(const std::string& event, const Fields& fields) {
  std::string line = "event=" + logfmt(event);
  for (const auto& [name, value] : fields) line += ' ' + name + '=' + logfmt(value);
  write_line(std::move(line));
}

void log_request(const Request& req, const Response& res, std::chrono::steady_clock::duration duration) {
  std::string line =
      "method=" + logfmt(req.method) + " path=" + logfmt(req.path) + " status=" + std::to_string(res.status);
  std::string id = req.header("svix-id");
  if (id.empty()) id = req.header("webhook-id");
  if (!id.empty()) line += " delivery_id=" + logfmt(id);
  char buf[32];
  std::snprintf(buf, sizeof buf, " latency_ms=%.1f", std::chrono::duration<double, std::milli>(duration).count());
  line += buf;
  const RequestNotes& notes = res.notes;
  if (notes.batch) line += " batch=" + std::to_string(notes.batch);
  if (!notes.outcome.empty()) line += " result=" + notes.outcome;
  if (!notes.sqlstate.empty()) line += " sqlstate=" + logfmt(notes.sqlstate);
  if (!notes.error.empty()) line += " error=" + logfmt(notes.error);
  write_line(std::move(line));
}

}  // namespace relay
