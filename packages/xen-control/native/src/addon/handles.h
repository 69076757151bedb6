// The module's handle classes, one file each: each registers its class (Init*) and opens
// instances of it (Open*), which the module exports as open*().
#ifndef RUMPXEN_ADDON_HANDLES_H
#define RUMPXEN_ADDON_HANDLES_H

#include <napi.h>

namespace rumpxen {

// session.cc: a session over libxenctrl, libxenstore and libxl (domains, xenstore).
void InitSession(Napi::Env env);
Napi::Value OpenSession(const Napi::CallbackInfo& info);

// watch.cc: openWatch(path, token), a xenstore watch with a connection of its own.
void InitWatch(Napi::Env env);
Napi::Value OpenWatch(const Napi::CallbackInfo& info);

// evtchn.cc: a libxenevtchn handle.
void InitEvtchn(Napi::Env env);
Napi::Value OpenEvtchn(const Napi::CallbackInfo& info);

// mapping.cc: the pages one map() call mapped (created by the mappers only).
void InitMapping(Napi::Env env);

// gnttab.cc: a libxengnttab handle that maps grants.
void InitGnttab(Napi::Env env);
Napi::Value OpenGnttab(const Napi::CallbackInfo& info);

// foreign_memory.cc: a libxenforeignmemory handle that maps guest frames.
void InitForeignMemory(Napi::Env env);
Napi::Value OpenForeignMemory(const Napi::CallbackInfo& info);

}  // namespace rumpxen

#endif
