// cpp-httplib, as the relay includes it: the version it was written against.
// Debian bookworm ships 0.11; the API and the behaviour relied on (the client's
// timeouts, the server's hooks) change between minor versions.
#pragma once

#include <httplib.h>

#include <string_view>

static_assert(std::string_view(CPPHTTPLIB_VERSION).substr(0, 5) == "0.11.",
              "orgsync-relay is written for cpp-httplib 0.11.x (Debian bookworm's libcpp-httplib-dev); "
              "this one is " CPPHTTPLIB_VERSION);
