// Argument helpers. The TS layer validates every input; these only guard the C calls, each
// throwing a TypeError or RangeError that names the argument and returning false.
#ifndef RUMPXEN_ADDON_ARGS_H
#define RUMPXEN_ADDON_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include <string>

#include <napi.h>

namespace rumpxen {

// info[i] as an integer from 0 to 2^32-1.
bool ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name, uint32_t* out);
// info[i] as a string.
bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string* out);

}  // namespace rumpxen

#endif
