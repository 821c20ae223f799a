// `orgsync-relay serve`: the webhook relay.
#pragma once

namespace relay {

// argv[first..argc) are serve's options. The process's exit code.
int serve(int argc, char** argv, int first);

}  // namespace relay
