// The relay's version: the extension's, from orgsync.control (set by the Makefile).
#pragma once

namespace relay {

extern const char* const kVersion;

}  // namespace relay
