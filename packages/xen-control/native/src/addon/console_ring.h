// The console ring reader (console_ring.cc), opened through a session.
#ifndef RUMPXEN_ADDON_CONSOLE_RING_H
#define RUMPXEN_ADDON_CONSOLE_RING_H

#include <napi.h>

#include "handle.h"
#include "rxctl.h"

namespace rumpxen {

void InitConsoleRing(Napi::Env env);
// Maps domid's console ring on the pool; resolves to { ring, attachedAtMs, attachMs }.  The
// ring keeps owner (the session) busy and self (its JS object) alive until it is closed.
Napi::Value OpenConsoleRing(Napi::Env env, rxc_session* s, uint32_t domid, Handle* owner, Napi::Object self);
// Wraps a ring a create opened (rxc_domain_create*'s ring argument) the same way.
Napi::Object WrapConsoleRing(Napi::Env env, rxc_ring* r, Handle* owner, Napi::Object self);

}  // namespace rumpxen

#endif
