#include "pager.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <unordered_set>

#include "core/errors.hpp"
#include "core/json.hpp"
#include "text.hpp"

namespace relay::backfill {

namespace {

namespace json = orgsync::core::json;

std::optional<int64_t> integer(const std::optional<json::Value>& value) {
  if (!value || !value->is(json::Type::number)) return std::nullopt;
  std::string_view text = value->number_text();
  int64_t n;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

// What the pagers need of a page Clerk answered: a bare array (users), or
// {"data": [...], "total_count": N}.
struct Listed {
  std::vector<std::string> ids;
  int64_t last_created_at = 0;
  std::optional<int64_t> total;
};

Listed read_page(const std::string& path, const std::string& body, bool bare_array) {
  auto unusable = [&](const std::string& why) {
    return clerk::Unavailable("GET " + path + ": unusable answer: " + why);
  };
  try {
    json::Document document(body);
    std::optional<json::Value> items = document.root();
    Listed listed;
    if (!bare_array) {
      if (!items->is(json::Type::object)) throw unusable("expected {\"data\": [...], \"total_count\": N}");
      listed.total = integer(items->member("total_count"));
      items = items->member("data");
    }
    if (!items || !items->is(json::Type::array)) throw unusable(bare_array ? "expected an array" : "no \"data\" array");
    items->each([&](std::string_view, json::Value item) {
      std::optional<json::Value> id;
      if (item.is(json::Type::object)) id = item.member("id");
      if (!id || !id->is(json::Type::string) || id->string().empty()) throw unusable("an object without an id");
      listed.ids.emplace_back(id->string());
      listed.last_created_at = integer(item.member("created_at")).value_or(0);
    });
    return listed;
  } catch (const orgsync::core::InvalidPayload& error) {
    throw unusable(error.what());
  } catch (const orgsync::core::BeyondJsonb& error) {
    throw unusable(error.what());
  }
}

// ---- positions: what backfill_page keeps for --resume -------------------------

class PositionWriter {
 public:
  PositionWriter& add(const char* name, const std::string& value) {
    key(name);
    append_json_string(out_, value);
    return *this;
  }
  PositionWriter& add(const char* name, int64_t value) {
    key(name);
    out_ += std::to_string(value);
    return *this;
  }
  PositionWriter& add(const char* name, const std::vector<std::string>& values) {
    key(name);
    out_ += '[';
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) out_ += ',';
      append_json_string(out_, values[i]);
    }
    out_ += ']';
    return *this;
  }
  std::string text() const { return out_ + '}'; }

 private:
  void key(const char* name) {
    out_ += out_.size() > 1 ? "," : "";
    append_json_string(out_, name);
    out_ += ':';
  }
  std::string out_ = "{";
};

class PositionReader {
 public:
  // The document keeps views into its text: `text` (the caller's) must outlive
  // the reader, and "{}" is a literal, never a temporary string.
  explicit PositionReader(const std::string& text)
      : document_(text.empty() ? std::string_view("{}") : std::string_view(text)) {
    if (!document_.root().is(json::Type::object)) throw std::invalid_argument("not a JSON object");
  }
  std::string text(const char* name) const {
    auto value = document_.root().member(name);
    return value && value->is(json::Type::string) ? std::string(value->string()) : "";
  }
  std::optional<int64_t> number(const char* name) const { return integer(document_.root().member(name)); }
  std::vector<std::string> ids(const char* name) const {
    std::vector<std::string> ids;
    if (auto value = document_.root().member(name); value && value->is(json::Type::array)) {
      value->each([&](std::string_view, json::Value id) {
        if (id.is(json::Type::string)) ids.emplace_back(id.string());
      });
    }
    return ids;
  }

 private:
  json::Document document_;
};

// ---- offset listings ------------------------------------------------------------

// One offset listing, read so that nothing that exists throughout it is
// skipped. `offset_` is where the next request starts; `anchor_` holds the
// ids of the last page that counted. A page counts when it starts at 0 or
// holds an anchor id: every object before that id was read (inductively),
// so every object up to the page's end has been. The next request then
// starts at the page's last object (one object of overlap). A page that
// does not count means objects before our place were deleted and every
// later one moved to a lower offset: step back, further each time, until a
// page holds an anchor id again (offset 0 always counts).
class OffsetListing {
 public:
  OffsetListing(clerk::Api& api, std::string path, size_t page_size)
      : api_(api), path_(std::move(path)), page_size_(page_size), step_back_(page_size) {}

  void restore(const PositionReader& position) {
    offset_ = static_cast<uint64_t>(std::max<int64_t>(0, position.number("offset").value_or(0)));
    anchor_ = position.ids("anchor");
    done_ = offset_;
  }

  struct Fetched {
    std::string body;
    Listed listed;
    bool last = false;
  };

  Fetched next() {
    std::string path = path_ + "&limit=" + std::to_string(page_size_) + "&offset=" + std::to_string(offset_);
    clerk::Answer answer = api_.get(path);
    if (answer.status != 200) throw api_.unexpected(path, answer, "200 and a page of the listing");
    Fetched fetched{std::move(answer.body), {}, false};
    fetched.listed = read_page(path, fetched.body, false);
    const std::vector<std::string>& ids = fetched.listed.ids;
    if (counts(ids)) {
      done_ = offset_ + ids.size();
      fetched.last = ids.size() < page_size_;
      if (!fetched.last) offset_ += ids.size() - 1;
      anchor_ = ids;
      step_back_ = page_size_;
    } else {
      offset_ = offset_ > step_back_ ? offset_ - step_back_ : 0;
      step_back_ *= 2;
    }
    return fetched;
  }

  void write(PositionWriter& position) const {
    position.add("offset", static_cast<int64_t>(offset_)).add("anchor", anchor_);
  }
  uint64_t done() const { return done_; }

 private:
  bool counts(const std::vector<std::string>& ids) const {
    if (offset_ == 0) return true;
    std::unordered_set<std::string> anchor(anchor_.begin(), anchor_.end());
    return std::any_of(ids.begin(), ids.end(), [&](const std::string& id) { return anchor.count(id) > 0; });
  }

  clerk::Api& api_;
  std::string path_;  // with its query, without limit and offset
  size_t page_size_;
  uint64_t offset_ = 0;
  std::vector<std::string> anchor_;
  uint64_t step_back_;
  uint64_t done_ = 0;
};

class OffsetPager : public Pager {
 public:
  OffsetPager(clerk::Api& api, const std::string& path, size_t page_size, const std::string& position)
      : listing_(api, path, page_size) {
    listing_.restore(PositionReader(position));
  }

  Page next() override {
    OffsetListing::Fetched fetched = listing_.next();
    Page page;
    page.objects = fetched.listed.ids.size();
    page.body = std::move(fetched.body);
    page.done = listing_.done();
    page.total = fetched.listed.total;
    page.last = fetched.last;
    PositionWriter position;
    listing_.write(position);
    page.next_position = position.text();
    return page;
  }

 private:
  OffsetListing listing_;
};

// Invitations in every status, one status after the other: `status=expired`
// is a state no webhook announces. Pending ones are read before expired
// ones, so that one expiring meanwhile is read in one or the other.
class InvitationsPager : public Pager {
 public:
  InvitationsPager(clerk::Api& api, std::string path, size_t page_size, const std::string& position)
      : api_(api), path_(std::move(path)), page_size_(page_size) {
    PositionReader reader(position);
    std::string status = reader.text("status");
    if (!status.empty()) {
      auto found = std::find(std::begin(kStatuses), std::end(kStatuses), status);
      if (found == std::end(kStatuses)) throw std::invalid_argument("unknown invitation status " + status);
      status_ = static_cast<size_t>(found - std::begin(kStatuses));
    }
    earlier_ = static_cast<uint64_t>(std::max<int64_t>(0, reader.number("earlier").value_or(0)));
    listing_ = std::make_unique<OffsetListing>(api_, status_path(), page_size_);
    listing_->restore(reader);
  }

  Page next() override {
    OffsetListing::Fetched fetched = listing_->next();
    Page page;
    page.objects = fetched.listed.ids.size();
    page.body = std::move(fetched.body);
    page.done = earlier_ + listing_->done();
    if (fetched.listed.total) page.total = static_cast<int64_t>(earlier_) + *fetched.listed.total;
    if (fetched.last) {
      if (status_ + 1 == std::size(kStatuses)) {
        page.last = true;
      } else {
        earlier_ = page.done;
        ++status_;
        listing_ = std::make_unique<OffsetListing>(api_, status_path(), page_size_);
      }
    }
    PositionWriter position;
    position.add("status", kStatuses[status_]).add("earlier", static_cast<int64_t>(earlier_));
    listing_->write(position);
    page.next_position = position.text();
    return page;
  }

 private:
  static constexpr const char* kStatuses[] = {"pending", "accepted", "revoked", "expired"};
  std::string status_path() const { return path_ + "&status=" + kStatuses[status_]; }

  clerk::Api& api_;
  std::string path_;
  size_t page_size_;
  size_t status_ = 0;
  uint64_t earlier_ = 0;  // invitations read in the statuses before this one
  std::unique_ptr<OffsetListing> listing_;
};

// ---- users, by cursor -------------------------------------------------------------

class UsersPager : public Pager {
 public:
  UsersPager(clerk::Api& api, std::string path, size_t page_size, const std::string& position)
      : api_(api), path_(std::move(path)), page_size_(page_size) {
    PositionReader reader(position);
    cursor_ = reader.text("starting_after");
    cursor_created_at_ = reader.number("created_at").value_or(0);
    created_after_ = reader.number("created_at_after");
    done_ = static_cast<uint64_t>(reader.number("done").value_or(0));
  }

  Page next() override {
    if (!total_) total_ = count_users();
    for (;;) {
      std::string path = path_ + "&limit=" + std::to_string(page_size_);
      if (created_after_) path += "&created_at_after=" + std::to_string(*created_after_);
      if (!cursor_.empty()) path += "&starting_after=" + clerk::url_encode(cursor_);
      clerk::Answer answer = api_.get(path);
      if (answer.status != 200) {
        // Assumed: Clerk refuses a cursor whose user has been deleted.
        bool cursor_refused = answer.status == 400 || answer.status == 404 || answer.status == 422;
        if (cursor_.empty() || !cursor_refused) throw api_.unexpected(path, answer, "200 and a page of users");
        continue_after_cursor_time();
        continue;
      }
      Listed listed = read_page(path, answer.body, true);
      // starting_after excludes the cursor: a page holding it would repeat forever.
      if (!cursor_.empty() && std::find(listed.ids.begin(), listed.ids.end(), cursor_) != listed.ids.end())
        throw api_.unexpected(path, answer, "the users after starting_after");
      Page page;
      page.objects = listed.ids.size();
      done_ += page.objects;
      if (page.objects == page_size_) {
        cursor_ = listed.ids.back();
        cursor_created_at_ = listed.last_created_at;
      } else if (!cursor_.empty() && !user_exists(cursor_)) {
        // A short page after a cursor that is gone proves nothing.
        continue_after_cursor_time();
      } else {
        page.last = true;
      }
      page.body = std::move(answer.body);
      page.done = done_;
      page.total = total_;
      PositionWriter position;
      position.add("starting_after", cursor_).add("created_at", cursor_created_at_).add("done", int64_t(done_));
      if (created_after_) position.add("created_at_after", *created_after_);
      page.next_position = position.text();
      return page;
    }
  }

 private:
  // Every user created at the cursor's time or later: the cursor's place
  // without the cursor (a few repeats at the same millisecond).
  void continue_after_cursor_time() {
    created_after_ = cursor_created_at_ - 1;
    cursor_.clear();
  }

  bool user_exists(const std::string& id) {
    std::string path = "/users/" + clerk::url_encode(id);
    clerk::Answer answer = api_.get(path);
    if (answer.status == 200 || answer.status == 404) return answer.status == 200;
    throw api_.unexpected(path, answer, "200 or 404");
  }

  std::optional<int64_t> count_users() {
    std::string path = "/users/count";
    clerk::Answer answer = api_.get(path);
    if (answer.status != 200) throw api_.unexpected(path, answer, "200 and {\"total_count\": N}");
    try {
      json::Document document(answer.body);
      if (document.root().is(json::Type::object)) return integer(document.root().member("total_count"));
    } catch (const orgsync::core::InvalidPayload&) {
    } catch (const orgsync::core::BeyondJsonb&) {
    }
    return std::nullopt;  // only the progress display misses it
  }

  clerk::Api& api_;
  std::string path_;
  size_t page_size_;
  std::string cursor_;  // the last user read; empty: from the start
  int64_t cursor_created_at_ = 0;
  std::optional<int64_t> created_after_;
  uint64_t done_ = 0;
  std::optional<int64_t> total_;
};

}  // namespace

std::unique_ptr<Pager> make_pager(const KindInfo& kind, clerk::Api& api, size_t page_size,
                                  const std::string& position) {
  try {
    switch (kind.kind) {
      case Kind::user: return std::make_unique<UsersPager>(api, kind.listing, page_size, position);
      case Kind::invitation: return std::make_unique<InvitationsPager>(api, kind.listing, page_size, position);
      default: return std::make_unique<OffsetPager>(api, kind.listing, page_size, position);
    }
  } catch (const orgsync::core::InvalidPayload& error) {
    throw std::invalid_argument(error.what());
  } catch (const orgsync::core::BeyondJsonb& error) {
    throw std::invalid_argument(error.what());
  }
}

std::vector<std::string> list_ids(clerk::Api& api, const std::string& path, size_t page_size) {
  OffsetListing listing(api, path, page_size);
  std::vector<std::string> ids;
  for (;;) {
    OffsetListing::Fetched fetched = listing.next();
    ids.insert(ids.end(), fetched.listed.ids.begin(), fetched.listed.ids.end());
    if (fetched.last) return ids;
  }
}

}  // namespace relay::backfill
