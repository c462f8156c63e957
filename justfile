# Appliance: a PostgreSQL high-availability appliance. `just --list` shows the recipes.
# The README's two commands are `npx --yes rust-just demo` and `npx --yes rust-just test`.

set shell := ["bash", "-euo", "pipefail", "-c"]

export DOTNET_CLI_TELEMETRY_OPTOUT := "1"
export DOTNET_NOLOGO := "1"
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := "1"

# Install what this machine lacks (Debian packages; NuGet packages come with the build).
setup:
    ./scripts/setup.sh

# The sockmap data path's eBPF object (native/sockmap/out/sockmap.o; clang, pinned flags). The balancer's
# build runs the same script when the sources changed, and embeds the object.
bpf: setup
    ./native/sockmap/build.sh

# Build everything (JIT), warnings as errors.
build: setup
    dotnet build Appliance.sln -c Debug

# Publish the Native AOT binaries into artifacts/bin, one at a time (each peaks near 1.2 GB).
publish: setup
    dotnet publish src/Appliance.Agent/Appliance.Agent.csproj -c Release -o artifacts/bin -p:DebugType=none -p:GenerateDocumentationFile=false
    dotnet publish src/Appliance.Cli/Appliance.Cli.csproj -c Release -o artifacts/bin -p:DebugType=none -p:GenerateDocumentationFile=false
    dotnet publish src/Appliance.Balancer/Appliance.Balancer.csproj -c Release -o artifacts/bin -p:DebugType=none -p:GenerateDocumentationFile=false
    ls -l artifacts/bin/appliance-agent artifacts/bin/appliancectl artifacts/bin/appliance-balancer

# Run every test: decider tables, configuration, the store against a real etcd, PostgreSQL control,
# three-node clusters run by the published AOT agent (what ships is what is tested), the lab's scenarios,
# and the image booted in QEMU and built into containers (so the image is built first).
test: build publish image
    APPLIANCE_AGENT="$PWD/artifacts/bin/appliance-agent" ./scripts/test.sh

# The main job: the lab comes up, survives a primary crash and a balancer crash under a live
# workload, and stays up for you to explore until Ctrl-C (or `lab down` from another shell).
demo: publish
    dotnet run --project src/Appliance.Lab -c Release -- demo

# The lab: `lab up [--stack appliance|reference] [--profile production|seed|patroni-fastest]`, `lab status`, `lab down`.
lab +args:
    if [ "{{args}}" != down ] && [ "{{args}}" != status ]; then "{{just_executable()}}" publish; fi
    dotnet run --project src/Appliance.Lab -c Release -- lab {{args}}

# The appliance image (README: "The appliance image"): raw GPT disk (UEFI), qcow2 and the container base, in image/out (root).
image: publish
    ./image/build.sh

# The deterministic simulator: the real HA code on models of etcd, PostgreSQL, the network and the watchdog,
# random fault schedules from seeds (`simulate --seeds 100000`, `simulate --seed S` replays one with its trace).
simulate *args: setup
    dotnet run --project tests/Appliance.Simulator -c Release -- {{args}}

# The failover benchmark (recorded in bench/README.md).
bench-failover runs="5": publish
    dotnet run --project bench/Appliance.Bench -c Release -- failover --runs {{runs}}

# The failover benchmark with synchronous_mode on (recorded in bench/README.md).
bench-failover-sync runs="5": publish
    dotnet run --project bench/Appliance.Bench -c Release -- failover --sync --runs {{runs}}

# The planned-switchover benchmark (recorded in bench/README.md).
bench-switchover runs="5": publish
    dotnet run --project bench/Appliance.Bench -c Release -- switchover --runs {{runs}}

# VIP takeover time seen from a client namespace, appliance-balancer and keepalived, v2/v3, SIGKILL/SIGTERM (needs root; bench/README.md).
bench-vip runs="5": publish
    dotnet run --project bench/Appliance.Bench -c Release -- vip --runs {{runs}}

# pgbench direct vs HAProxy vs appliance-balancer (copy and splice data paths), interleaved rounds (bench/README.md).
bench-proxy rounds="5": publish
    dotnet run --project bench/Appliance.Bench -c Release -- proxy --rounds {{rounds}}

# Both stacks side by side on the lab, one lab per configuration: fault scenarios, pgbench through the VIP vs direct, memory (needs root; bench/README.md).
bench-lab rounds="3": publish
    dotnet run --project bench/Appliance.Bench -c Release -- lab --rounds {{rounds}}

# Five VMs from the image (3 database, 2 balancer) on a private bridge in a namespace: a primary VM crash and a VRRP master VM crash under the checker, then teardown (`--stay` keeps it up until Ctrl-C; root, KVM not needed, 15-30 min).
vm-lab *args: image
    dotnet run --project src/Appliance.Lab -c Release -- vm-lab {{args}}
