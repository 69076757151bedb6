// The checked domain config (@rumpxen/protocol's CheckedDomainConfig, made by
// checkDomainConfig on the TS side) as the C library's rxc_domain_spec.
#ifndef RUMPXEN_ADDON_DOMAIN_CONFIG_H
#define RUMPXEN_ADDON_DOMAIN_CONFIG_H

#include <deque>
#include <string>
#include <vector>

#include <napi.h>

#include "rxctl.h"

namespace rumpxen {

// Owned copies of the config's strings, kept alive for the worker thread, and the
// rxc_domain_spec pointing into them.
struct DomainSpec {
  rxc_domain_spec spec{};
  bool direct = false;                // libxenguest's builder instead of libxl
  bool console_ring = false;          // open the console ring before unpausing
  std::deque<std::string> strings;    // a deque: pushing keeps earlier c_str() pointers valid
  std::vector<rxc_disk_spec> disks;
  std::vector<rxc_nic_spec> nics;
  std::vector<rxc_pci_spec> pcis;
};

// Reads config (a CheckedDomainConfig: name, kernel, ramdisk?, cmdline?, guestConfigJson?,
// type, memory, maxMemory, vcpus, disks, vifs, pci, on_poweroff, on_crash) and how
// ({ direct, paused, consoleRing? }) field by field into *out. The TS side checked the values; this only
// converts (MiB to KiB, names to libxl's enums, MAC text to bytes) and guards the C call:
// a field of the wrong type throws a TypeError naming it and returns false.
bool ConvertDomainConfig(Napi::Object config, Napi::Object how, DomainSpec* out);

}  // namespace rumpxen

#endif
