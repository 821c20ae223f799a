#include "progress.hpp"

#include <cstdio>

#include "log.hpp"

namespace relay::backfill {

namespace {

std::string thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string fixed(double x, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

std::string clock_time(double seconds) {
  auto s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

}  // namespace

Progress::Progress(const std::vector<std::string>& kinds, bool terminal) : terminal_(terminal) {
  for (const auto& name : kinds) kinds_.emplace_back(name);
}

Progress::Kind& Progress::kind(const std::string& name) {
  for (auto& k : kinds_)
    if (k.name == name) return k;
  kinds_.emplace_back(name);
  return kinds_.back();
}

void Progress::start(Kind& kind) {
  if (!kind.started) kind.started = Clock::now();
}

void Progress::stop(Kind& kind) {
  if (kind.started) kind.seconds += std::chrono::duration<double>(Clock::now() - *kind.started).count();
  kind.started.reset();
}

void Progress::resumed(const std::string& name, const KindProgress& progress) {
  Kind& k = kind(name);
  k.counts = progress.counts;
  k.state = progress.swept ? "swept" : progress.listed ? "listed" : "listing";
}

void Progress::listing(const std::string& name) {
  Kind& k = kind(name);
  start(k);
  k.state = "listing";
  if (terminal_) draw(true);
}

void Progress::page(const std::string& name, const Page& page, const Counts& counts) {
  Kind& k = kind(name);
  start(k);
  k.state = "listing";
  k.done = page.done;
  k.total = page.total;
  k.read_here += page.objects;
  k.counts += counts;
  if (terminal_) return draw(false);
  double elapsed = std::chrono::duration<double>(Clock::now() - *k.started).count();
  Fields fields{{"kind", name},
                {"objects", std::to_string(page.objects)},
                {"applied", std::to_string(counts.applied)},
                {"stale", std::to_string(counts.stale)},
                {"done", std::to_string(page.done)}};
  if (page.total) fields.push_back({"total", std::to_string(*page.total), true});
  if (elapsed > 0) fields.push_back({"per_s", fixed(k.read_here / elapsed, 0), true});
  log_event(LogLevel::info, "backfill_page", fields);
}

void Progress::listed(const std::string& name) {
  Kind& k = kind(name);
  stop(k);
  k.state = "listed";
  if (terminal_) return draw(true);
  log_event(LogLevel::info, "backfill_listed",
            {{"kind", name}, {"read", std::to_string(k.counts.read)}, {"seconds", fixed(k.seconds, 1)}});
}

void Progress::sweeping(const std::string& name, size_t candidates) {
  Kind& k = kind(name);
  start(k);
  k.state = "sweeping";
  k.candidates = candidates;
  k.checked = 0;
  if (terminal_) return draw(true);
  log_event(LogLevel::info, "backfill_sweep", {{"kind", name}, {"candidates", std::to_string(candidates)}});
}

void Progress::checked(const std::string& name, const Candidate& candidate, const std::string& result) {
  Kind& k = kind(name);
  ++k.checked;
  if (result == "tombstoned") ++k.counts.tombstoned;
  if (terminal_) return draw(false, result == "tombstoned" ? "tombstoned " + name + " " + candidate.id : "");
  log_event(LogLevel::info, "backfill_candidate", {{"kind", name}, {"id", candidate.id}, {"result", result}});
}

void Progress::swept(const std::string& name) {
  Kind& k = kind(name);
  stop(k);
  k.state = "swept";
  if (terminal_) return draw(true);
  log_event(LogLevel::info, "backfill_swept", {{"kind", name}, {"tombstoned", std::to_string(k.counts.tombstoned)}});
}

void Progress::retry(const clerk::Retry& retry) {
  std::string wait = fixed(retry.wait_seconds, 1);
  if (terminal_) {
    return draw(true, "GET " + retry.path + ": " + retry.why + ", attempt " + std::to_string(retry.attempt) +
                          "; again in " + wait + " s");
  }
  log_event(LogLevel::info, "clerk_retry",
            {{"path", retry.path}, {"why", retry.why}, {"attempt", std::to_string(retry.attempt)}, {"wait_s", wait}});
}

std::string Progress::line(const Kind& k) const {
  char name[24];
  std::snprintf(name, sizeof name, "%-15s", k.name.c_str());
  std::string text = name;
  if (k.state == "listing") {
    text += thousands(k.done);
    if (k.total) {
      text += " / " + thousands(*k.total);
      if (*k.total > 0) text += "  " + fixed(100.0 * std::min<double>(k.done, *k.total) / *k.total, 0) + "%";
    }
    double elapsed = k.started ? std::chrono::duration<double>(Clock::now() - *k.started).count() : 0;
    if (elapsed > 0.5 && k.read_here) {
      double rate = k.read_here / elapsed;
      text += "  " + thousands(static_cast<int64_t>(rate)) + "/s";
      if (k.total && *k.total > static_cast<int64_t>(k.done)) {
        text += "  " + clock_time((*k.total - k.done) / rate) + " left";
      }
    }
  } else if (k.state == "listed") {
    text += "listed: " + thousands(k.counts.read) + " read";
  } else if (k.state == "sweeping") {
    text += "sweep: " + thousands(k.checked) + " / " + thousands(k.candidates) + " candidates checked, " +
            thousands(k.counts.tombstoned) + " tombstoned";
  } else if (k.state == "swept") {
    text += "swept: " + thousands(k.counts.tombstoned) + " tombstoned";
  } else {
    text += k.state;
  }
  return text;
}

void Progress::draw(bool now, const std::string& above) {
  auto at = Clock::now();
  if (!now && above.empty() && drawn_ && at - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = at;
  std::string out;
  // Up to the first line of the block, and clear from there to the end.
  if (drawn_) out += "\x1b[" + std::to_string(kinds_.size()) + "F\x1b[J";
  if (!above.empty()) out += above + "\n";
  for (const auto& k : kinds_) out += line(k) + "\n";
  std::fputs(out.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

std::string Progress::summary() const {
  char row[160];
  std::string out;
  std::snprintf(row, sizeof row, "%-15s %12s %12s %12s %12s %10s\n", "kind", "read", "applied", "stale", "tombstoned",
                "time");
  out += row;
  for (const auto& k : kinds_) {
    double seconds = k.seconds;
    if (k.started) seconds += std::chrono::duration<double>(Clock::now() - *k.started).count();
    std::snprintf(row, sizeof row, "%-15s %12s %12s %12s %12s %8s s\n", k.name.c_str(),
                  thousands(k.counts.read).c_str(), thousands(k.counts.applied).c_str(),
                  thousands(k.counts.stale).c_str(), thousands(k.counts.tombstoned).c_str(), fixed(seconds, 1).c_str());
    out += row;
  }
  return out;
}

}  // namespace relay::backfill
