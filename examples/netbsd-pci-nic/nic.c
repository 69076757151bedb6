/*
 * A NetBSD PCI network driver on a device Xen passed to this DomU: librumpdev_pci's bus over
 * @rumpxen/pci-passthrough's rumpcomp_pci_* (config space through pcifront, BARs, INTx as a
 * pirq event channel, DMA memory made machine-contiguous), with wm(4) (QEMU's e1000) or
 * pcn(4) (QEMU's pcnet) attaching during rump_init. RUMP_VERBOSE=1 in the guest's
 * environment prints autoconfiguration's attach lines.
 *
 *   nic IFNAME PEER NBYTES [MAC|prom] [detach]
 *
 * With MAC, first makes MAC the interface's active link address (SIOCALIFADDR on a PF_LINK
 * socket; the driver programs it when the interface comes up): NetBSD's pcn(4) reads the
 * address PROM a byte at a time after switching the chip to 32-bit I/O, which QEMU's pcnet
 * answers only to 32-bit reads, so pcn0 attaches with ff:ff:ff:ff:ff:ff. With `prom` the
 * address is read here from a PCnet's PROM with 32-bit port reads of its I/O BAR (BAR0 of the
 * device at pcifront's 00:00.0), through the port access rumpcomp_pci_iospace_init gives a
 * DomU: Xen passes through the ports xl granted with the device.
 * Brings IFNAME (wm0, pcn0) up, configures it by DHCP (librumpnet_config's client, over BPF),
 * reads back the address and netmask the kernel has on it and prints them
 * (`nic: IFNAME dhcp address A.B.C.D netmask M.M.M.M`), pings PEER (ICMP echo over a raw
 * socket), prints `nic: ready`, then serves one TCP connection on port 7: every byte it
 * receives goes back, and after NBYTES it closes. PEER may ping the DomU meanwhile.
 * With `detach`, the driver is then detached (config_detach): its interrupt is taken down
 * and its registers unmapped through the patched librumpdev_pci; the device and the
 * interface must be gone afterwards.
 * First, case `dma`: NetBSD's own bus_dmamap_load (librumpdev_pci) of 8000 bytes that span
 * two pages whose machine frames are not adjacent (two DMA pages mapped back to back) must give
 * segments whose machine addresses hold the buffer's bytes: each segment's frames are mapped
 * again from its bus address and compared with what was written through the buffer. Every DMA
 * page must lie below 4 GiB (rumpcomp_pci_dmalloc's default limit), so this load, on pa_dmat
 * (a 32-bit device's tag), must not bounce. Then case `dma_bounce`: 9000 bytes of ordinary
 * memory (this image's own pages) loaded on pa_dmat. If any of its pages lies above 4 GiB the
 * load must have bounced (pci-passthrough's counters say so), every segment must lie below
 * 4 GiB, after a PREWRITE sync the segments' machine bytes must equal the buffer's, and bytes
 * written at the segments must reach the buffer after a POSTREAD sync (a partial one copies
 * only its range); below 4 GiB the segments must be the buffer's own frames (zero-copy).
 * `nic: bounce: …` lines give pci-passthrough's bounce totals after the DMA cases and at the
 * end, so the test sees whether the driver's own loads bounced.
 * One `case NAME: PASS|FAIL why` line per step, then `Test result: SUCCESS|FAILURE`.
 */
#include <pci_user.h>
#include <rumpuser.h>

#include "../netbsd-net/nbnet.h"


/* Three ICMP echo replies from peer, each with its request's payload; up to 30 requests a second apart. */
static int ping_peer(uint32_t peer)
{
	int replies = nb_ping(peer, 0x6e63, 30, 3, "nic");
	NB_CASE("ping_peer", replies >= 0, "raw ICMP socket");
	nb_report("ping_peer", replies == 3, "fewer than 3 echo replies from the peer in 30 tries", 0);
	return replies == 3;
}

/* net/if_dl.h's struct sockaddr_dl (no name: the address starts sdl_data) and net/if.h's if_laddrreq. */
struct nb_sockaddr_dl {
	uint8_t sdl_len, sdl_family;
	uint16_t sdl_index;
	uint8_t sdl_type, sdl_nlen, sdl_alen, sdl_slen;
	uint8_t sdl_data[12];
};
struct nb_if_laddrreq {
	char iflr_name[16];
	unsigned flags;
	unsigned prefixlen;
	union {
		struct nb_sockaddr_dl dl;
		uint8_t space[128];
		int64_t align;
	} addr, dstaddr;
};
_Static_assert(sizeof(struct nb_if_laddrreq) == 280, "NetBSD's struct if_laddrreq is 280 bytes on x86-64");
#define NB_AF_LINK 18
#define NB_IFLR_ACTIVE 0x4000u
/* sys/sockio.h: _IOW('i', 28, struct if_laddrreq) */
#define NB_SIOCALIFADDR (0x80000000ul | (sizeof(struct nb_if_laddrreq) & 0x1fff) << 16 | 'i' << 8 | 28)

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Makes mac ("52:54:00:12:34:56") the active link address of ifname; 0 or why not. */
static const char *set_lladdr(const char *ifname, const char *mac)
{
	struct nb_if_laddrreq r = { .flags = NB_IFLR_ACTIVE };
	for (size_t i = 0; ifname[i] && i + 1 < sizeof(r.iflr_name); i++)
		r.iflr_name[i] = ifname[i];
	r.addr.dl = (struct nb_sockaddr_dl){ .sdl_len = sizeof(struct nb_sockaddr_dl),
	    .sdl_family = NB_AF_LINK, .sdl_alen = 6 };
	for (int i = 0; i < 6; i++) {
		const char *p = mac + 3 * i;
		int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
		if (lo < 0 || (i < 5 ? p[2] != ':' : p[2] != 0))
			return "MAC is not six hex pairs joined by ':'";
		r.addr.dl.sdl_data[i] = (uint8_t)(hi << 4 | lo);
	}
	int s = nb_socket(NB_AF_LINK, NB_SOCK_DGRAM, 0);
	if (s < 0)
		return "no PF_LINK socket";
	int rv = nb_ioctl(s, NB_SIOCALIFADDR, &r);
	nb_close(s);
	return rv == 0 ? 0 : "SIOCALIFADDR refused the address";
}

/* rump's <sys/bus.h> (sys/rump/include): bus_dma_segment_t and the map bus_dmamap_t points to. */
struct nb_dma_seg {
	unsigned long ds_addr, ds_len, _ds_vacookie, _ds_sizecookie;
};
struct nb_dmamap {
	unsigned long _dm_size;
	int _dm_segcnt;
	unsigned long _dm_maxmaxsegsz, _dm_boundary, _dm_bounce_thresh;
	int _dm_flags;
	void *_dm_cookie;
	unsigned long dm_maxsegsz, dm_mapsize;
	int dm_nsegs;
	struct nb_dma_seg dm_segs[1];
};
_Static_assert(__builtin_offsetof(struct nb_dmamap, dm_segs) == 80, "rump's bus_dmamap layout");
#define NB_BUS_DMA_NOWAIT 0x001
#define NB_BUS_DMASYNC_POSTREAD 0x02
#define NB_BUS_DMASYNC_PREWRITE 0x04
/*
 * The DMA tags of rump's pci bus (sys/rump/dev/lib/libpci/pci_at_mainbus.c): pa_dmat, which
 * pcn(4) uses and pci-passthrough takes for a 32-bit device, and pa_dmat64 (0x40), which wm(4)
 * takes (pci_dma64_available) and which never bounces.
 */
#define NB_PCI_DMAT ((void *)0x20)
/*
 * NetBSD's bus_dma in librumpdev_pci, by its link names (the rump kernel's symbols carry the
 * rumpns_ prefix; plain bus_dmamap_* are pci-passthrough's own MD layer in libpcix.a).
 */
int nb_dmamap_create(void *tag, unsigned long size, int nsegs, unsigned long maxsegsz,
    unsigned long boundary, int flags, struct nb_dmamap **mapp) __asm__("rumpns_bus_dmamap_create");
int nb_dmamap_load(void *tag, struct nb_dmamap *map, void *buf, unsigned long len, void *proc,
    int flags) __asm__("rumpns_bus_dmamap_load");
void nb_dmamap_unload(void *tag, struct nb_dmamap *map) __asm__("rumpns_bus_dmamap_unload");
void nb_dmamap_sync(void *tag, struct nb_dmamap *map, unsigned long off, unsigned long len,
    int ops) __asm__("rumpns_bus_dmamap_sync");
void nb_dmamap_destroy(void *tag, struct nb_dmamap *map) __asm__("rumpns_bus_dmamap_destroy");
/* The kernel's own calls need a rump CPU (the application holds none between system calls). */
void rump_schedule(void);
void rump_unschedule(void);

/* pci-passthrough's <pcix/pcix.h> (libpcix.a): bounce totals since boot. */
struct pcix_bounce_stats {
	uint64_t maps, loads, bytes_to_area, bytes_from_area, area_bytes;
};
void pcix_bounce_get_stats(struct pcix_bounce_stats *out);

static struct pcix_bounce_stats bounce_stats(const char *when)
{
	struct pcix_bounce_stats s;
	pcix_bounce_get_stats(&s);
	rumpuser_dprintf("nic: bounce: %s: maps %lu loads %lu bytes to-area %lu from-area %lu area %lu KiB\n",
	    when, (unsigned long)s.maps, (unsigned long)s.loads, (unsigned long)s.bytes_to_area,
	    (unsigned long)s.bytes_from_area, (unsigned long)(s.area_bytes / 1024));
	return s;
}

#define DMA_OFF 100
#define DMA_LEN 8000
#define HI_OFF 100
#define HI_LEN 9000
#define LIMIT_4G (1ul << 32)

/* Ordinary memory (the image's own pages) for the bounce case. */
static uint8_t hi_buf[4 * 4096] __attribute__((aligned(4096)));

/* Ordinary memory, to see where the domain's machine frames lie. */
static uint8_t probe[256 * 1024];

/* The highest machine address behind probe's pages (the image's own memory). */
static unsigned long ordinary_top(void)
{
	unsigned long top = 0;
	for (unsigned long off = 0; off < sizeof(probe); off += 4096) {
		probe[off] = 1; /* touched: backed, as every page of a PV guest is anyway */
		unsigned long ma = rumpcomp_pci_virt_to_mach(probe + off) + 4096;
		if (ma > top)
			top = ma;
	}
	return top;
}

/*
 * What a device sees at bus addresses [a, a+len): the frames mapped afresh, one segment per
 * page and at least two, so that dmamem_map maps them (a single whole segment is answered with
 * its allocation's own address). NULL when they cannot be mapped (or span over 8 pages).
 */
static uint8_t *bus_view(unsigned long a, unsigned long len)
{
	unsigned long first = a & ~4095ul, span = ((a + len + 4095) & ~4095ul) - first;
	unsigned long npages = span / 4096, nmap = npages < 2 ? 2 : npages;
	struct rumpcomp_pci_dmaseg frames[8];
	if (npages > 8)
		return 0;
	for (unsigned long k = 0; k < nmap; k++)
		frames[k] = (struct rumpcomp_pci_dmaseg){
		    .ds_pa = first + (k < npages ? k : 0) * 4096, .ds_len = 4096 };
	void *m;
	if (rumpcomp_pci_dmamem_map(frames, nmap, nmap * 4096, &m) != 0 || m == 0)
		return 0;
	return (uint8_t *)m + (a - first);
}

static void print_segs(const struct nb_dmamap *map)
{
	for (int i = 0; i < map->dm_nsegs; i++)
		rumpuser_dprintf(" %#lx+%lu", map->dm_segs[i].ds_addr, map->dm_segs[i].ds_len);
	rumpuser_dprintf("\n");
}

static int dma_check(void)
{
	struct rumpcomp_pci_dmaseg pg[2];
	/*
	 * Where the domain's other memory is: on a host with memory above 4 GiB, Xen gives a
	 * domain its high pages first, so this shows the 4 GiB limit below was not met by chance.
	 */
	rumpuser_dprintf("nic: dma: ordinary memory reaches machine address %#lx\n", ordinary_top());
	for (int i = 0; i < 2; i++) {
		pg[i].ds_len = 4096;
		NB_CASE("dma", rumpcomp_pci_dmalloc(4096, 4096, &pg[i].ds_pa, &pg[i].ds_vacookie) == 0,
		    "rumpcomp_pci_dmalloc of a page");
		NB_CASE("dma", pg[i].ds_pa + 4096 <= (1ul << 32), "a DMA page above 4 GiB");
	}
	/* Back to back in the order whose frames do not follow each other. */
	if (pg[1].ds_pa == pg[0].ds_pa + 4096) {
		struct rumpcomp_pci_dmaseg t = pg[0];
		pg[0] = pg[1];
		pg[1] = t;
	}
	void *v;
	NB_CASE("dma", rumpcomp_pci_dmamem_map(pg, 2, 8192, &v) == 0, "rumpcomp_pci_dmamem_map");
	uint8_t *buf = (uint8_t *)v + DMA_OFF;
	for (unsigned i = 0; i < DMA_LEN; i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 8));
	struct nb_dmamap *map = 0;
	struct pcix_bounce_stats s0, s1;
	pcix_bounce_get_stats(&s0);
	rump_schedule();
	int rv = nb_dmamap_create(NB_PCI_DMAT, 8192, 4, 8192, 0, NB_BUS_DMA_NOWAIT, &map);
	if (rv == 0)
		rv = nb_dmamap_load(NB_PCI_DMAT, map, buf, DMA_LEN, 0, NB_BUS_DMA_NOWAIT);
	rump_unschedule();
	pcix_bounce_get_stats(&s1);
	NB_CASE("dma", rv == 0, "bus_dmamap_create or bus_dmamap_load (NetBSD's)");
	rumpuser_dprintf("nic: dma: %d bytes over frames %#lx and %#lx: %d segments", DMA_LEN,
	    pg[0].ds_pa, pg[1].ds_pa, map->dm_nsegs);
	print_segs(map);
	NB_CASE("dma", s1.loads == s0.loads, "a load of DMA memory below 4 GiB was bounced");
	/* What a device reads at each segment's bus addresses, seen through a fresh mapping. */
	unsigned long at = 0;
	int bad = 0;
	for (int i = 0; i < map->dm_nsegs && !bad; i++) {
		unsigned long a = map->dm_segs[i].ds_addr, len = map->dm_segs[i].ds_len;
		const uint8_t *dev = bus_view(a, len);
		if (!dev || at + len > DMA_LEN) {
			bad = 1;
			break;
		}
		for (unsigned long k = 0; k < len; k++)
			bad |= dev[k] != buf[at + k];
		at += len;
	}
	rump_schedule();
	nb_dmamap_unload(NB_PCI_DMAT, map);
	nb_dmamap_destroy(NB_PCI_DMAT, map);
	rump_unschedule();
	NB_CASE("dma", !bad, "a segment's machine addresses do not hold the buffer's bytes");
	NB_CASE("dma", at == DMA_LEN, "the segments do not cover the buffer");
	nb_report("dma", 1, "", 0);
	return 1;
}

static uint8_t pattern(unsigned i, unsigned seed)
{
	return (uint8_t)(i * seed + (i >> 8) + seed);
}

/* Fills the machine bytes at the map's segments (as a device would) with pattern(seed). */
static int device_write(const struct nb_dmamap *map, unsigned long from, unsigned long to,
    unsigned seed)
{
	unsigned long at = 0;
	for (int i = 0; i < map->dm_nsegs; i++) {
		unsigned long len = map->dm_segs[i].ds_len;
		uint8_t *dev = bus_view(map->dm_segs[i].ds_addr, len);
		if (!dev)
			return 0;
		for (unsigned long k = 0; k < len; k++)
			if (at + k >= from && at + k < to)
				dev[k] = pattern((unsigned)(at + k), seed);
		at += len;
	}
	return 1;
}

static int dma_bounce_check(void)
{
	uint8_t *buf = hi_buf + HI_OFF;
	int high = 0;
	for (unsigned long off = 0; off < HI_LEN + 4096; off += 4096) {
		unsigned long o = off < HI_LEN ? off : HI_LEN - 1;
		high |= rumpcomp_pci_virt_to_mach(buf + o) + 1 > LIMIT_4G;
	}
	for (unsigned i = 0; i < HI_LEN; i++)
		buf[i] = pattern(i, 13);
	struct nb_dmamap *map = 0;
	struct pcix_bounce_stats s0, s1;
	pcix_bounce_get_stats(&s0);
	rump_schedule();
	int rv = nb_dmamap_create(NB_PCI_DMAT, sizeof(hi_buf), 4, sizeof(hi_buf), 0,
	    NB_BUS_DMA_NOWAIT, &map);
	if (rv == 0)
		rv = nb_dmamap_load(NB_PCI_DMAT, map, buf, HI_LEN, 0, NB_BUS_DMA_NOWAIT);
	if (rv == 0)
		nb_dmamap_sync(NB_PCI_DMAT, map, 0, HI_LEN, NB_BUS_DMASYNC_PREWRITE);
	rump_unschedule();
	pcix_bounce_get_stats(&s1);
	NB_CASE("dma_bounce", rv == 0, "bus_dmamap_create or bus_dmamap_load (NetBSD's)");
	int bounced = s1.loads != s0.loads;
	rumpuser_dprintf("nic: dma: %d bytes of ordinary memory at machine %#lx (%s 4 GiB), "
	    "bounced: %s, %d segments", HI_LEN, rumpcomp_pci_virt_to_mach(buf),
	    high ? "partly above" : "below", bounced ? "yes" : "no", map->dm_nsegs);
	print_segs(map);
	NB_CASE("dma_bounce", bounced == high && s1.loads == s0.loads + (unsigned)high,
	    high ? "memory above 4 GiB was loaded without bouncing" :
	    "memory below 4 GiB was bounced");
	unsigned long at = 0;
	int bad = 0, beyond = 0, own = 1;
	for (int i = 0; i < map->dm_nsegs && !bad; i++) {
		unsigned long a = map->dm_segs[i].ds_addr, len = map->dm_segs[i].ds_len;
		const uint8_t *dev = bus_view(a, len);
		if (!dev || at + len > HI_LEN) {
			bad = 1;
			break;
		}
		beyond |= a + len > LIMIT_4G;
		own &= a == rumpcomp_pci_virt_to_mach(buf + at);
		for (unsigned long k = 0; k < len; k++)
			bad |= dev[k] != buf[at + k];
		at += len;
	}
	NB_CASE("dma_bounce", !beyond, "a segment lies above 4 GiB, out of a 32-bit device's reach");
	NB_CASE("dma_bounce", high || own, "memory below 4 GiB was not loaded in place");
	NB_CASE("dma_bounce", !bad && at == HI_LEN,
	    "after PREWRITE the segments' machine bytes are not the buffer's");
	/* The device writes: all of it, POSTREAD; then 100 bytes, POSTREAD of just those. */
	NB_CASE("dma_bounce", device_write(map, 0, HI_LEN, 29), "cannot map the segments");
	rump_schedule();
	nb_dmamap_sync(NB_PCI_DMAT, map, 0, HI_LEN, NB_BUS_DMASYNC_POSTREAD);
	rump_unschedule();
	for (unsigned i = 0; i < HI_LEN; i++)
		bad |= buf[i] != pattern(i, 29);
	NB_CASE("dma_bounce", !bad, "after POSTREAD the buffer does not hold what was written at the segments");
	NB_CASE("dma_bounce", device_write(map, 0, HI_LEN, 31), "cannot map the segments");
	rump_schedule();
	nb_dmamap_sync(NB_PCI_DMAT, map, 5000, 100, NB_BUS_DMASYNC_POSTREAD);
	nb_dmamap_unload(NB_PCI_DMAT, map);
	nb_dmamap_destroy(NB_PCI_DMAT, map);
	rump_unschedule();
	/* Zero-copy: the device wrote the buffer itself, so every byte changed. */
	for (unsigned i = 0; i < HI_LEN; i++)
		bad |= buf[i] != pattern(i, (i >= 5000 && i < 5100) || !high ? 31 : 29);
	NB_CASE("dma_bounce", !bad, "a POSTREAD of bytes 5000..5099 did not copy exactly those");
	nb_report("dma_bounce", 1, "", 0);
	return 1;
}

static inline uint32_t port_in32(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* A PCnet's station address from its PROM over port I/O, as "xx:xx:xx:xx:xx:xx" in mac; or why not. */
static const char *pcnet_prom_mac(char mac[18])
{
	unsigned bar0 = 0;
	if (rumpcomp_pci_confread(0, 0, 0, 0x10, &bar0) != 0 || !(bar0 & 1))
		return "BAR0 of 00:00.0 is not an I/O BAR";
	if (rumpcomp_pci_iospace_init() != 0)
		return "rumpcomp_pci_iospace_init failed: no port I/O";
	uint16_t base = (uint16_t)(bar0 & ~3u);
	/* In 32-bit I/O mode (pcn_reset set it) the PROM answers 32-bit reads at 0 and 4. */
	uint32_t w0 = port_in32(base), w1 = port_in32((uint16_t)(base + 4));
	uint8_t b[6] = { w0, w0 >> 8, w0 >> 16, w0 >> 24, w1, w1 >> 8 };
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 6; i++) {
		mac[3 * i] = hex[b[i] >> 4];
		mac[3 * i + 1] = hex[b[i] & 15];
		mac[3 * i + 2] = i < 5 ? ':' : 0;
	}
	rumpuser_dprintf("nic: PCnet address PROM over I/O ports %#x: %s\n", base, mac);
	return (b[0] & 1) ? "the PROM holds a multicast address (ports not passed through?)" : 0;
}

typedef struct nb_device *nb_device_t;
nb_device_t nb_device_find_by_xname(const char *name) __asm__("rumpns_device_find_by_xname");
int nb_config_detach(nb_device_t dev, int flags) __asm__("rumpns_config_detach");

static int detach(const char *ifname)
{
	rump_schedule();
	nb_device_t dev = nb_device_find_by_xname(ifname);
	int rv = dev ? nb_config_detach(dev, 0) : -1;
	nb_device_t after = nb_device_find_by_xname(ifname);
	rump_unschedule();
	rumpuser_dprintf("nic: %s detach: %d\n", ifname, rv);
	NB_CASE("detach", dev != 0, "no such device");
	NB_CASE("detach", rv == 0, "config_detach failed");
	NB_CASE("detach", after == 0, "the device is still attached");
	int up = rump_pub_netconfig_ifup(ifname);
	rumpuser_dprintf("nic: %s up after the detach: %d\n", ifname, up);
	NB_CASE("detach", up != 0, "the interface still exists");
	nb_report("detach", 1, "", 0);
	return 1;
}

static int run(const char *ifname, const char *peer_s, uint64_t nbytes, const char *mac,
    int want_detach)
{
	uint32_t peer = nb_parse_ipv4(peer_s);
	NB_CASE("ifup", peer && nbytes > 0, "bad PEER or NBYTES");
	char prom[18];
	if (mac && nb_streq(mac, "prom")) {
		const char *why = pcnet_prom_mac(prom);
		NB_CASE("prom_io", !why, why);
		nb_report("prom_io", 1, "", 0);
		mac = prom;
	}
	if (mac) {
		const char *why = set_lladdr(ifname, mac);
		rumpuser_dprintf("nic: %s link address %s: %s\n", ifname, mac, why ? why : "set");
		NB_CASE("lladdr", !why, why ? why : "");
		nb_report("lladdr", 1, "", 0);
	}
	/* The driver attached during rump_init: the interface exists without a cloner. */
	int rv = rump_pub_netconfig_ifup(ifname);
	rumpuser_dprintf("nic: %s up: %d\n", ifname, rv);
	NB_CASE("ifup", rv == 0, "no such interface: did the driver attach? (RUMP_VERBOSE=1 shows autoconfiguration)");
	nb_report("ifup", 1, "", 0);
	int64_t t0 = nb_now_ns();
	rv = rump_pub_netconfig_dhcp_ipv4_oneshot(ifname);
	rumpuser_dprintf("nic: %s dhcp: %d after %ld ms\n", ifname, rv, (long)((nb_now_ns() - t0) / 1000000));
	NB_CASE("dhcp", rv == 0, "rump_pub_netconfig_dhcp_ipv4_oneshot");
	nb_report("dhcp", 1, "", 0);
	int s = nb_socket(NB_AF_INET, NB_SOCK_DGRAM, 0);
	NB_CASE("dhcp_addr", s >= 0, "a socket for the ioctls");
	uint32_t addr = nb_if_ipv4(s, ifname, NB_SIOCGIFADDR);
	uint32_t mask = addr ? nb_if_ipv4(s, ifname, NB_SIOCGIFNETMASK) : 0;
	nb_close(s);
	NB_CASE("dhcp_addr", addr != 0, "SIOCGIFADDR");
	const uint8_t *a = (const uint8_t *)&addr, *m = (const uint8_t *)&mask;
	rumpuser_dprintf("nic: %s dhcp address %u.%u.%u.%u netmask %u.%u.%u.%u\n", ifname,
	    a[0], a[1], a[2], a[3], m[0], m[1], m[2], m[3]);
	nb_report("dhcp_addr", 1, "", 0);
	if (!ping_peer(peer))
		return 0;
	struct nb_ip_counters c;
	nb_print_ip_counters("nic", "before dom0's traffic", &c);
	if (!nb_tcp_echo("nic", addr, nbytes))
		return 0;
	if (!nb_check_not_a_router("nic"))
		return 0;
	return !want_detach || detach(ifname);
}

int main(int argc, char **argv)
{
	int rv = rump_init();
	if (rv != 0) {
		rumpuser_dprintf("nic: rump_init failed: %d\nTest result: FAILURE\n", rv);
		return 1;
	}
	const char *mac = 0;
	int want_detach = 0, ok = argc >= 4 && argc <= 6;
	for (int i = 4; ok && i < argc; i++) {
		if (nb_streq(argv[i], "detach"))
			want_detach = 1;
		else if (!mac)
			mac = argv[i];
		else
			ok = 0;
	}
	if (ok) {
		dma_check();
		dma_bounce_check();
		bounce_stats("after the dma cases");
		run(argv[1], argv[2], nb_parse_u64(argv[3]), mac, want_detach);
	} else {
		rumpuser_dprintf("nic: usage: nic IFNAME PEER NBYTES [MAC|prom] [detach] (e.g. wm0 10.77.0.1 10485760 detach)\n");
		nb_failures++;
	}
	bounce_stats("at the end");
	rumpuser_dprintf("Test result: %s\n", nb_failures ? "FAILURE" : "SUCCESS");
	return nb_failures ? 1 : 0;
}
