# Container images of the appliance's roles, for people who run them under a container runtime
# (Docker, Podman, buildah, Kubernetes) instead of booting the appliance image.
#
# Built from the same bits as the appliance OS image and pulling nothing: `just image` writes
# image/out/rootfs.tar, the image's root filesystem (Debian 12 minbase, PostgreSQL 15, etcd, our three
# Native AOT binaries in /usr/bin, the defaults in /etc/appliance/appliance.toml, the users postgres,
# etcd and appliance-balancer) without kernel or modules. So a container runs exactly what a node runs.
#
#   just image
#   docker build --target database -t appliance-database .     # the default (last) target
#   docker build --target balancer -t appliance-balancer .
#   docker build --target etcd     -t appliance-etcd .
#   (buildah: buildah bud --isolation=chroot --target database -t appliance-database .)
#
# Every role reads /etc/appliance/appliance.toml (the image's defaults) then /etc/appliance/conf.d/*.toml:
# mount the node's own drop-in there (read-only), e.g. -v ./db1.toml:/etc/appliance/conf.d/node.toml:ro.
# `docker run --rm -v ... IMAGE check-config` prints the merged configuration (exit 0) or every error
# with its file, line and key (exit 2) without starting anything.
#
# Plain Dockerfile syntax only (no BuildKit or buildah extensions), so Docker and buildah build it alike.

# ---------------------------------------------------------------------------------------------------
# The shared base: the appliance's root filesystem. ADD extracts a local tar, so no base image is
# pulled; the roles below add a few metadata lines and one folder each, and share this layer.
FROM scratch AS base
ADD image/out/rootfs.tar /

# Version and source revision for the labels: docker build --build-arg VERSION=$(git describe --always) ...
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.vendor="Appliance" \
      org.opencontainers.image.description="PostgreSQL high availability: the appliance's agent, balancer and etcd (Debian 12, PostgreSQL 15)" \
      org.opencontainers.image.base.name="scratch" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

# A UTF-8 C locale for everything the roles run (the image keeps no other locale; initdb is given
# --locale=C.UTF-8 explicitly anyway). The PATH a login shell would have, for `docker exec`.
ENV LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Every role stops cleanly on SIGTERM (the agent stops PostgreSQL with a fast shutdown and gives up the
# leader key; the balancer sends VRRP priority 0 so a backup takes the VIP at once). Give the database
# time for it: docker stop -t 90 (systemd's TimeoutStopSec in the image is 90 s too).
STOPSIGNAL SIGTERM

# On the appliance /var/lib/appliance is the data disk; here it is the data volume of the roles that
# keep state (database, etcd). Each role creates its own folder in it below, owned by its user, so that
# a fresh named volume starts with the right owner (the runtime copies the image's folder into it).
RUN install -d -m 0755 /var/lib/appliance
WORKDIR /


# ---------------------------------------------------------------------------------------------------
# etcd: the cluster store. One container per member, from the same base (not a third-party etcd image:
# the same etcd 3.4 the appliance ships). Configured with etcd's own ETCD_* variables; the defaults
# below make a one-member cluster reached as etcd1 (the container's name on a user-defined network).
# For three members set ETCD_NAME, ETCD_INITIAL_CLUSTER, ETCD_INITIAL_ADVERTISE_PEER_URLS and
# ETCD_ADVERTISE_CLIENT_URLS per container.
#   docker network create appliance
#   docker run -d --name etcd1 --network appliance --init -v etcd1:/var/lib/appliance appliance-etcd
FROM base AS etcd
LABEL org.opencontainers.image.title="appliance-etcd"
RUN install -d -o etcd -g etcd -m 0700 /var/lib/appliance/etcd
ENV ETCD_NAME=etcd1 \
    ETCD_DATA_DIR=/var/lib/appliance/etcd \
    ETCD_LISTEN_CLIENT_URLS=http://0.0.0.0:2379 \
    ETCD_ADVERTISE_CLIENT_URLS=http://etcd1:2379 \
    ETCD_LISTEN_PEER_URLS=http://0.0.0.0:2380 \
    ETCD_INITIAL_ADVERTISE_PEER_URLS=http://etcd1:2380 \
    ETCD_INITIAL_CLUSTER=etcd1=http://etcd1:2380 \
    ETCD_INITIAL_CLUSTER_STATE=new
# Clients (the agents, the balancers), peers.
EXPOSE 2379/tcp 2380/tcp
USER etcd
# Last: a Dockerfile step after VOLUME may lose what it writes there.
VOLUME ["/var/lib/appliance"]
ENTRYPOINT ["/usr/bin/etcd"]


# ---------------------------------------------------------------------------------------------------
# balancer: appliance-balancer, the VRRP speaker that holds the virtual IP and the PostgreSQL proxy
# that routes clients to the primary (and the replicas).
#
# VRRP needs the host's network and two capabilities: raw IP and packet sockets (NET_RAW) for the
# adverts and gratuitous ARP, and adding/removing the VIP on the host interface (NET_ADMIN). A bridged
# container's VIP would be invisible on the LAN, so:
#   docker run -d --name balancer --init --network host \
#     --cap-drop ALL --cap-add NET_ADMIN --cap-add NET_RAW --cap-add NET_BIND_SERVICE --cap-add BPF \
#     -v ./balancer.toml:/etc/appliance/conf.d/balancer.toml:ro appliance-balancer
# It runs as the container's root because container runtimes grant added capabilities to root only
# (no ambient capabilities for another user); that root holds nothing but the capabilities above.
# BPF (with NET_ADMIN) lets the proxy load its sockmap data path; without it the proxy copies in user
# space and says so once in its log. A proxy-only balancer ([[proxy.listener]] without [[vrrp]]) needs
# no capability and may run bridged with -p for its listeners, or with --user appliance-balancer.
FROM base AS balancer
LABEL org.opencontainers.image.title="appliance-balancer"
# The proxy's usual listeners (primary, replicas; whatever [[proxy.listener]] binds) and
# [balancer] listen (/metrics, /status; the image default is 0.0.0.0:8009).
EXPOSE 5000/tcp 5001/tcp 8009/tcp
ENTRYPOINT ["/usr/bin/appliance-balancer"]
CMD ["run"]


# ---------------------------------------------------------------------------------------------------
# database: appliance-agent and the PostgreSQL 15 it runs as its child, as the user postgres (the
# appliance's unit does the same). It needs an etcd it can reach ([etcd] endpoints, e.g. the etcd
# target above in the same network) and a drop-in naming the node, e.g. db1.toml:
#     [node]
#     name = "db1"
#     address = "db1"          # the name other nodes and the balancers reach this container at
#     [cluster]
#     scope = "demo"
#     [etcd]
#     endpoints = ["http://etcd1:2379"]
#     [postgresql.superuser]
#     password = "..."         # and [postgresql.replication] password: see the README's Configuration
#   docker run -d --name db1 --network appliance --init --shm-size 256m --stop-timeout 90 -v db1:/var/lib/appliance \
#     -v ./db1.toml:/etc/appliance/conf.d/node.toml:ro appliance-database
# --init: pg_ctl starts the postmaster detached, so it is re-parented to PID 1; an init (tini) reaps
# it when it exits, where the agent as PID 1 would leave a zombie that still looks alive.
# --shm-size: PostgreSQL's dynamic shared memory lives in /dev/shm (Docker's default is 64 MB).
# There is no watchdog device in a container: [watchdog] mode "automatic" (the image default) runs
# without one; fencing then relies on the leader lease alone.
FROM base AS database
LABEL org.opencontainers.image.title="appliance-database"
# The image default data_dir is /var/lib/appliance/postgresql/data; the agent keeps the socket folder
# (<data_dir>.run) and the PostgreSQL log (<data_dir>.log) next to it, so postgres owns the parent.
RUN install -d -o postgres -g postgres -m 0700 /var/lib/appliance/postgresql
# PostgreSQL, the agent's REST API (health checks for the balancers, /metrics, appliancectl).
EXPOSE 5432/tcp 8008/tcp
USER postgres
# Where psql and friends find the local PostgreSQL (`docker exec db1 psql`): the socket folder the agent configures.
ENV PGHOST=/var/lib/appliance/postgresql/data.run
# Last: a Dockerfile step after VOLUME may lose what it writes there.
VOLUME ["/var/lib/appliance"]
ENTRYPOINT ["/usr/bin/appliance-agent"]
CMD ["run"]
