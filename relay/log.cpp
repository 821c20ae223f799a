#include "log.hpp"

#include <cstdio>
#include <ctime>

#include "text.hpp"

namespace relay {

namespace {

LogFormat g_format = LogFormat::text;
LogLevel g_level = LogLevel::info;

const char* level_word(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

// Now as 2026-12-06T16:30:00.123Z.
std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

void write_line(LogLevel level, const Fields& fields) {
  Fields all{{"time", utc_now()}, {"level", level_word(level)}};
  all.insert(all.end(), fields.begin(), fields.end());
  std::string line;
  if (g_format == LogFormat::json) {
    line = "{";
    for (const Field& f : all) {
      if (line.size() > 1) line += ',';
      append_json_string(line, f.name);
      line += ':';
      if (f.number)
        line += f.value;
      else
        append_json_string(line, f.value);
    }
    line += '}';
  } else {
    for (const Field& f : all) {
      if (!line.empty()) line += ' ';
      line += f.name + '=' + logfmt(f.value);
    }
  }
  line += '\n';
  std::fputs(line.c_str(), stderr);
}

// The level of a request's line: trouble on the relay's side is a warning
// (503: it will pass) or an error; a sender's mistake is not.
LogLevel level_of(int status) {
  if (status == 503) return LogLevel::warn;
  if (status >= 500) return LogLevel::error;
  return LogLevel::info;
}

}  // namespace

void configure_log(LogFormat format, LogLevel level) {
  g_format = format;
  g_level = level;
}

bool parse_log_level(const std::string& word, LogLevel& level) {
  for (LogLevel l : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error}) {
    if (word == level_word(l)) {
      level = l;
      return true;
    }
  }
  return false;
}

bool parse_log_format(const std::string& word, LogFormat& format) {
  if (word != "text" && word != "json") return false;
  format = word == "json" ? LogFormat::json : LogFormat::text;
  return true;
}

Field number_field(std::string name, double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", value);
  return {std::move(name), buf, true};
}

bool log_enabled(LogLevel level) { return level >= g_level; }

void log_event(LogLevel level, const std::string& event, const Fields& fields) {
  if (!log_enabled(level)) return;
  Fields all{{"event", event}};
  all.insert(all.end(), fields.begin(), fields.end());
  write_line(level, all);
}

void log_request(const Request& req, const Response& res, std::chrono::steady_clock::duration duration) {
  LogLevel level = level_of(res.status);
  if (!log_enabled(level)) return;
  Fields fields{{"method", req.method}, {"path", req.path}, number_field("status", res.status)};
  std::string id = req.header("svix-id");
  if (id.empty()) id = req.header("webhook-id");
  if (!id.empty()) fields.push_back({"delivery_id", id});
  const RequestNotes& notes = res.notes;
  if (!notes.outcome.empty()) fields.push_back({"outcome", notes.outcome});
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.1f", std::chrono::duration<double, std::milli>(duration).count());
  fields.push_back({"duration_ms", ms, true});
  if (notes.batch) fields.push_back(number_field("batch", static_cast<double>(notes.batch)));
  if (!notes.reason.empty()) fields.push_back({"reason", notes.reason});
  if (!notes.sqlstate.empty()) fields.push_back({"sqlstate", notes.sqlstate});
  if (!notes.error.empty()) fields.push_back({"error", notes.error});
  write_line(level, fields);
}

}  // namespace relay
