#include "version.hpp"

namespace relay {

const char* const kVersion = ORGSYNC_RELAY_VERSION;

}  // namespace relay
