#include "mapping.h"

#include "handles.h"

namespace rumpxen {

Napi::FunctionReference* Mapping::constructor = nullptr;

void InitMapping(Napi::Env env) { Mapping::Init(env); }

}  // namespace rumpxen
