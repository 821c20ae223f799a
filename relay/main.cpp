// orgsync-relay: a small HTTP front door that hands Svix/Clerk webhook
// deliveries to orgsync.handle_events() and turns each one's outcome into the
// HTTP status Svix acts on (2xx = done, anything else = retry later).
//
//   orgsync-relay [serve] [options]    the relay (serve.cpp)
//   orgsync-relay backfill [options]   Clerk's Backend API into orgsync (backfill.cpp)
//
// The first argument names the command; without one, the relay serves.

#include <cstring>

#include "backfill.hpp"
#include "serve.hpp"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "serve") == 0) return relay::serve(argc, argv, 2);
  if (argc > 1 && std::strcmp(argv[1], "backfill") == 0) return relay::backfill::run(argc, argv, 2);
  return relay::serve(argc, argv, 1);
}
