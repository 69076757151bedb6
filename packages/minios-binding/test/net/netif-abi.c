/*
 * mk/netif.h against Xen's own io/netif.h and io/ring.h (Debian's libxen-dev): every
 * constant, offset and size the network frontend writes or reads on its rings must be
 * Xen's. Compiled on the host by test/netring-host.test.ts; -DABI_SELF_TEST adds one wrong
 * assertion, which must make the compile fail (so the checks are live).
 */
#include <stdint.h>
#include <xen/io/netif.h>
#include <mk/netif.h>
#include "abi-check.h"

SAME_VALUE(MK_NETTXF_CSUM_BLANK, NETTXF_csum_blank);
SAME_VALUE(MK_NETTXF_DATA_VALIDATED, NETTXF_data_validated);
SAME_VALUE(MK_NETTXF_MORE_DATA, NETTXF_more_data);
SAME_VALUE(MK_NETTXF_EXTRA_INFO, NETTXF_extra_info);
SAME_VALUE(MK_NETRXF_DATA_VALIDATED, NETRXF_data_validated);
SAME_VALUE(MK_NETRXF_CSUM_BLANK, NETRXF_csum_blank);
SAME_VALUE(MK_NETRXF_MORE_DATA, NETRXF_more_data);
SAME_VALUE(MK_NETRXF_EXTRA_INFO, NETRXF_extra_info);
SAME_VALUE(MK_NETRXF_GSO_PREFIX, NETRXF_gso_prefix);
SAME_VALUE(MK_NETIF_RSP_DROPPED, NETIF_RSP_DROPPED);
SAME_VALUE(MK_NETIF_RSP_ERROR, NETIF_RSP_ERROR);
SAME_VALUE(MK_NETIF_RSP_OKAY, NETIF_RSP_OKAY);
SAME_VALUE(MK_NETIF_RSP_NULL, NETIF_RSP_NULL);

SAME_SIZE(struct mk_netif_tx_request, struct netif_tx_request);
SAME_OFFSET(mk_netif_tx_request, netif_tx_request, gref);
SAME_OFFSET(mk_netif_tx_request, netif_tx_request, offset);
SAME_OFFSET(mk_netif_tx_request, netif_tx_request, flags);
SAME_OFFSET(mk_netif_tx_request, netif_tx_request, id);
SAME_OFFSET(mk_netif_tx_request, netif_tx_request, size);

SAME_SIZE(struct mk_netif_tx_response, struct netif_tx_response);
SAME_OFFSET(mk_netif_tx_response, netif_tx_response, id);
SAME_OFFSET(mk_netif_tx_response, netif_tx_response, status);

SAME_SIZE(struct mk_netif_rx_request, struct netif_rx_request);
SAME_OFFSET(mk_netif_rx_request, netif_rx_request, id);
SAME_OFFSET(mk_netif_rx_request, netif_rx_request, gref);

SAME_SIZE(struct mk_netif_rx_response, struct netif_rx_response);
SAME_OFFSET(mk_netif_rx_response, netif_rx_response, id);
SAME_OFFSET(mk_netif_rx_response, netif_rx_response, offset);
SAME_OFFSET(mk_netif_rx_response, netif_rx_response, flags);
SAME_OFFSET(mk_netif_rx_response, netif_rx_response, status);

SAME_SIZE(union mk_netif_tx_sring_entry, union netif_tx_sring_entry);
SAME_SIZE(union mk_netif_rx_sring_entry, union netif_rx_sring_entry);
SAME_OFFSET(mk_netif_tx_sring, netif_tx_sring, req_prod);
SAME_OFFSET(mk_netif_tx_sring, netif_tx_sring, req_event);
SAME_OFFSET(mk_netif_tx_sring, netif_tx_sring, rsp_prod);
SAME_OFFSET(mk_netif_tx_sring, netif_tx_sring, rsp_event);
SAME_OFFSET(mk_netif_tx_sring, netif_tx_sring, ring);
SAME_OFFSET(mk_netif_rx_sring, netif_rx_sring, req_prod);
SAME_OFFSET(mk_netif_rx_sring, netif_rx_sring, req_event);
SAME_OFFSET(mk_netif_rx_sring, netif_rx_sring, rsp_prod);
SAME_OFFSET(mk_netif_rx_sring, netif_rx_sring, rsp_event);
SAME_OFFSET(mk_netif_rx_sring, netif_rx_sring, ring);
SAME_VALUE(MK_NETIF_TX_RING_SIZE, __CONST_RING_SIZE(netif_tx, 4096));
SAME_VALUE(MK_NETIF_RX_RING_SIZE, __CONST_RING_SIZE(netif_rx, 4096));

#ifdef ABI_SELF_TEST
SAME_VALUE(MK_NETIF_TX_RING_SIZE, __CONST_RING_SIZE(netif_tx, 8192));
#endif
