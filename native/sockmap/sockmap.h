/* The contract between the sockmap programs and appliance-balancer's loader
 * (src/Appliance.Balancer/Proxy/DataPath/Sockmap/SockmapObject.cs mirrors it; the loader looks every name
 * up and fails loudly when one is missing).
 *
 * Sockets are keyed by their socket cookie (SO_COOKIE): unique for the kernel's lifetime, so a key
 * never names a socket that closed and a new one that reused its descriptor. */
#ifndef APPLIANCE_SOCKMAP_H
#define APPLIANCE_SOCKMAP_H

#include <linux/types.h>

/* Both maps hold at most this many sockets (two per proxied session). */
#define SOCKMAP_MAX_SOCKETS 65536

/* Map "appliance_socks": BPF_MAP_TYPE_SOCKHASH, key __u64 cookie, value __u32 socket descriptor. */

/* Map "appliance_peers": BPF_MAP_TYPE_HASH, key __u64 cookie of the receiving socket, value below.
 * Written by user space once (peer), then only by the verdict (the counters). */
struct sockmap_peer {
	__u64 peer;       /* cookie of the socket its bytes go to */
	__u64 redirected; /* bytes the kernel handed to the peer */
	__u64 passed;     /* bytes left on this socket for user space to forward */
};

/* Map "appliance_taken": BPF_MAP_TYPE_HASH, key __u64 cookie, value __u64: bytes user space read from
 * this socket and wrote to its peer. Written only by user space.
 *
 * Order: bytes are redirected only while taken == passed, that is while user space has forwarded
 * everything the verdict ever left to it. Bytes that arrive while the peer is not (or no longer) in
 * appliance_socks are passed, and so is everything after them until user space caught up: a byte
 * can never overtake an earlier one, whichever way each went. */

/* Program: "appliance_verdict" (sk_skb/stream_verdict), attached to appliance_socks without a parser. */

#endif
