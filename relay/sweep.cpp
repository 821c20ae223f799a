#include "sweep.hpp"

#include <algorithm>

#include "core/errors.hpp"
#include "core/json.hpp"
#include "pager.hpp"

namespace relay::backfill {

namespace {

namespace json = orgsync::core::json;

// GET /things/{id}: 200 alive, 404 gone.
Presence by_id(clerk::Api& api, const std::string& collection, const std::string& id) {
  std::string path = collection + "/" + clerk::url_encode(id);
  clerk::Answer answer = api.get(path);
  if (answer.status == 200) return Presence::alive;
  if (answer.status == 404) return Presence::gone;
  throw api.unexpected(path, answer, "200 or 404");
}

// A membership is its organization's only one for its user: alive if that
// one has the candidate's id. Gone if there is none, if it has another id
// (the user left and came back), or if the organization is gone (404).
Presence membership(clerk::Api& api, const Candidate& candidate) {
  if (!candidate.organization_id || !candidate.user_id) return Presence::unknown;
  std::string path = "/organizations/" + clerk::url_encode(*candidate.organization_id) +
                     "/memberships?limit=500&user_id=" + clerk::url_encode(*candidate.user_id);
  clerk::Answer answer = api.get(path);
  if (answer.status == 404) return Presence::gone;
  if (answer.status != 200) throw api.unexpected(path, answer, "200 or 404");
  bool found = false;
  try {
    json::Document document(answer.body);
    auto data = document.root().is(json::Type::object) ? document.root().member("data") : std::nullopt;
    if (!data || !data->is(json::Type::array)) throw api.unexpected(path, answer, "{\"data\": [...]}");
    data->each([&](std::string_view, json::Value item) {
      auto id = item.is(json::Type::object) ? item.member("id") : std::nullopt;
      if (id && id->is(json::Type::string) && id->string() == candidate.id) found = true;
    });
  } catch (const orgsync::core::InvalidPayload&) {
    throw api.unexpected(path, answer, "JSON");
  } catch (const orgsync::core::BeyondJsonb&) {
    throw api.unexpected(path, answer, "JSON whose numbers Postgres holds");
  }
  return found ? Presence::alive : Presence::gone;
}

// Clerk has no GET for one domain: the organization's domains are listed
// whole, as the backfill lists them, so that an absence there is proof.
Presence domain(clerk::Api& api, const Candidate& candidate, size_t page_size) {
  if (!candidate.organization_id) return Presence::unknown;
  // A deleted organization's domains are deleted with it.
  if (by_id(api, "/organizations", *candidate.organization_id) == Presence::gone) return Presence::gone;
  std::vector<std::string> ids =
      list_ids(api,
               "/organization_domains?organization_id=" + clerk::url_encode(*candidate.organization_id) +
                   "&order_by=%2Bcreated_at",
               page_size);
  return std::find(ids.begin(), ids.end(), candidate.id) != ids.end() ? Presence::alive : Presence::gone;
}

}  // namespace

Presence ask_clerk(clerk::Api& api, const KindInfo& kind, const Candidate& candidate, size_t page_size) {
  switch (kind.kind) {
    case Kind::organization: return by_id(api, "/organizations", candidate.id);
    case Kind::user: return by_id(api, "/users", candidate.id);
    case Kind::membership: return membership(api, candidate);
    case Kind::domain: return domain(api, candidate, page_size);
    case Kind::role: return by_id(api, "/organization_roles", candidate.id);
    case Kind::permission: return by_id(api, "/organization_permissions", candidate.id);
    case Kind::invitation: break;
  }
  return Presence::unknown;  // invitations are not swept
}

const char* presence_name(Presence presence) {
  switch (presence) {
    case Presence::alive: return "alive";
    case Presence::gone: return "gone";
    case Presence::unknown: return "unconfirmed";
  }
  return "";
}

}  // namespace relay::backfill
