// `orgsync-relay backfill`: Clerk's current state into orgsync, read from the
// Backend API and applied page by page under the merge rules of webhooks;
// with --sweep, then the rows of objects Clerk deleted meanwhile ended.
// docs/backfill.md is its reference.
#pragma once

namespace relay::backfill {

// Exit statuses.
constexpr int kComplete = 0;
constexpr int kFailed = 1;  // Clerk unreachable or failing after retries, a database error
constexpr int kUsage = 2;
constexpr int kAuthentication = 3;  // Clerk refused the key

// argv[first..argc) are the backfill's options. The process's exit status.
int run(int argc, char** argv, int first);

}  // namespace relay::backfill
