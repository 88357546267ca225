# tair-modules: `make run` starts a Valkey with every module loaded; `make test` runs every test.
SHELL := /bin/bash
CARGO ?= cargo
PORT ?= 6379
MODULES := tairstring tairhash tairzset tairdoc tairbloom tairgis
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CLIPPY_LINTS := -D warnings -W clippy::unwrap_used -W clippy::panic -W clippy::indexing_slicing

.PHONY: deps build run test unit integration lint fmt bench clean docker test-docker cluster cluster-stop fuzz test-valgrind test-docs defrag-server

## deps: install what a fresh Debian 12 machine lacks (Valkey 8 from bookworm-backports, Redis 7.0,
## clang/libclang for the redis-module crate's bindgen).
deps:
	@missing=""; \
	command -v valkey-server >/dev/null || missing="$$missing valkey"; \
	command -v valkey-benchmark >/dev/null || missing="$$missing valkey"; \
	command -v redis-server >/dev/null || missing="$$missing redis"; \
	command -v clang >/dev/null || missing="$$missing clang"; \
	[ -e /usr/lib/llvm-14/lib/libclang.so ] || ls /usr/lib/llvm-*/lib/libclang*.so >/dev/null 2>&1 || missing="$$missing libclang"; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing:$$missing"; \
	  if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then \
	    echo 'deb http://deb.debian.org/debian bookworm-backports main' | $(SUDO) tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null; \
	  fi; \
	  $(SUDO) apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -t bookworm-backports valkey-server valkey-tools && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server clang libclang-dev; \
	  $(SUDO) systemctl disable --now valkey-server redis-server >/dev/null 2>&1 || true; \
	fi

build: deps
	$(CARGO) build --release --workspace

## run: a Valkey in the foreground with every built module, data under ./data.
run: build
	@mkdir -p data; args=(); \
	for m in $(MODULES); do f=target/release/lib$$m.so; [ -f $$f ] && args+=(--loadmodule "$$PWD/$$f"); done; \
	echo "valkey-server --port $(PORT) --dir $$PWD/data $${args[*]}"; \
	exec valkey-server --port $(PORT) --dir "$$PWD/data" --enable-debug-command local --enable-module-command local "$${args[@]}"

## cluster: a local six-node Valkey Cluster (ports 7000-7005, three primaries with a replica each) with
## every built module; `make cluster-stop` stops it. Then `valkey-cli -c -p 7000`.
cluster: build
	bash scripts/cluster.sh start $(CLUSTER_PORT)

cluster-stop:
	bash scripts/cluster.sh stop $(CLUSTER_PORT)

CLUSTER_PORT ?= 7000

## test: unit tests, property tests and integration tests against real valkey-server processes (the
## active-defrag tests against the jemalloc Redis of `make defrag-server`).
test: build defrag-server
	TAIR_DEFRAG_SERVER="$(CURDIR)/$(DEFRAG_SERVER)" $(CARGO) test --release --workspace
	$(MAKE) test-docs

## defrag-server: Redis $(DEFRAG_REDIS_VERSION) built with its bundled jemalloc into $(DEFRAG_SERVER), for the
## active-defrag tests (tests/tests/defrag.rs). Debian's valkey-server and redis-server link the system
## jemalloc, which lacks the defrag hint, so they refuse `activedefrag yes`. The source is Debian's orig
## tarball of its redis package (checked against its SHA-256), kept in $(DEFRAG_DIR); built once (about
## 3 min on 2 busy cores), then the target does nothing.
DEFRAG_REDIS_VERSION := 7.0.15
DEFRAG_REDIS_SHA256 := 4b1dc4ee6d622a09fff9c6777191209750fb5e5a725ef78ea012d6eef4c22982
DEFRAG_REDIS_TARBALL := redis_$(DEFRAG_REDIS_VERSION).orig.tar.gz
DEFRAG_REDIS_URL := http://deb.debian.org/debian/pool/main/r/redis/$(DEFRAG_REDIS_TARBALL)
DEFRAG_DIR := target/redis-jemalloc
DEFRAG_SERVER := $(DEFRAG_DIR)/redis-server

defrag-server: $(DEFRAG_SERVER)

$(DEFRAG_SERVER):
	@set -euo pipefail; dir="$(DEFRAG_DIR)"; tarball="$$dir/$(DEFRAG_REDIS_TARBALL)"; mkdir -p "$$dir"; \
	missing=""; for t in cc make curl; do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make defrag-server: installing build tools (missing:$$missing)"; \
	  $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q build-essential curl; \
	fi; \
	if ! echo "$(DEFRAG_REDIS_SHA256)  $$tarball" | sha256sum -c --status 2>/dev/null; then \
	  echo "make defrag-server: fetching $(DEFRAG_REDIS_TARBALL)"; \
	  curl -fsSL --retry 3 -o "$$tarball.part" "$(DEFRAG_REDIS_URL)"; \
	  echo "$(DEFRAG_REDIS_SHA256)  $$tarball.part" | sha256sum -c --quiet; \
	  mv "$$tarball.part" "$$tarball"; \
	fi; \
	src="$$dir/redis-$(DEFRAG_REDIS_VERSION)"; rm -rf "$$src"; tar -xzf "$$tarball" -C "$$dir"; \
	echo "make defrag-server: building redis-server $(DEFRAG_REDIS_VERSION) with its bundled jemalloc (log: $$src/build.log)"; \
	start=$$(date +%s); \
	if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$$src" -j2 MALLOC=jemalloc BUILD_TLS=no USE_SYSTEMD=no redis-server >"$$src/build.log" 2>&1; then \
	  tail -30 "$$src/build.log"; exit 1; \
	fi; \
	"$$src/src/redis-server" --version | grep -q "malloc=jemalloc"; \
	cp "$$src/src/redis-server" "$@.part"; mv "$@.part" "$@"; rm -rf "$$src"; \
	echo "make defrag-server: $@ built in $$(( $$(date +%s) - start )) s"

## test-docs: every valkey-cli transcript and Python (`tair` client) example of docs/*.md, run against a
## server with the built modules (docs/check_examples.py); installs the `tair` client from PyPI if missing.
test-docs:
	@python3 -c 'import tair' 2>/dev/null || python3 -m pip install -q tair
	python3 docs/check_examples.py

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- $(CLIPPY_LINTS)

fmt:
	$(CARGO) fmt --all

## docker: build the modules, then the image $(DOCKER_IMAGE) from docker/Dockerfile. The base is
## valkey/valkey:8 when it is here or can be pulled, else one made from Debian's packages and cached by
## tag (docker/base-image.sh); DOCKER_BASE=<image> picks another bookworm base. Honours CARGO_TARGET_DIR.
DOCKER_IMAGE ?= tair-modules:latest
DOCKER_TARGET_DIR = $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),target)
docker: deps
	@command -v docker >/dev/null && docker info >/dev/null 2>&1 || { echo "make docker: needs a running Docker engine" >&2; exit 1; }
	$(CARGO) build --release $(addprefix -p ,$(MODULES))
	@set -euo pipefail; ctx="$(DOCKER_TARGET_DIR)/docker-context"; rm -rf "$$ctx"; mkdir -p "$$ctx/modules"; \
	for m in $(MODULES); do strip --strip-debug -o "$$ctx/modules/lib$$m.so" "$(DOCKER_TARGET_DIR)/release/lib$$m.so"; done; \
	awk -v keep=" $(MODULES) " '/^loadmodule /{ n=$$2; sub(/.*\/lib/, "", n); sub(/\.so$$/, "", n); if (index(keep, " " n " ") == 0) next } { print }' \
	  docker/valkey.conf >"$$ctx/valkey.conf"; \
	cp docker/entrypoint.sh docker/healthcheck.sh "$$ctx/"; \
	base="$(DOCKER_BASE)"; [ -n "$$base" ] || base=$$(bash docker/base-image.sh); \
	echo "docker build: base $$base, modules $(MODULES)"; \
	docker build -q --build-arg BASE="$$base" -t $(DOCKER_IMAGE) -f docker/Dockerfile "$$ctx"; \
	docker image ls $(DOCKER_IMAGE)

## test-docker: the container suite (tests/tests/docker.rs) against $(DOCKER_IMAGE): one container,
## a primary and a replica on a private network, the compose file's Sentinels, environment settings.
test-docker: docker
	@command -v docker-compose >/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose
	TAIR_IMAGE=$(DOCKER_IMAGE) TAIR_DOCKER_MODULES="$(MODULES)" \
	  $(CARGO) test --release -p tair-tests --features docker --test docker

## fuzz: every cargo-fuzz target of fuzz/ (all six modules) for FUZZ_SECONDS each (default 30), two at a
## time; fails on any finding (scripts/fuzz.sh installs cargo-fuzz when missing).
FUZZ_SECONDS ?= 30
fuzz: deps
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

## test-valgrind: every module under Valgrind memcheck (scripts/valgrind.md): a workload of every command,
## persistence and a replica; fails on any error or definite/indirect leak in module code.
test-valgrind: deps
	@command -v valgrind >/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind
	bash scripts/valgrind.sh

## bench: every group of bench/run.sh (module beside native, pinned, five rounds), then bench/results.md and
## bench/chart.svg from its table (bench/report.py). GROUPS="string hash" picks groups.
bench: build
	@set -o pipefail; bash bench/run.sh $(GROUPS) | tee bench/last-run.md
	python3 bench/report.py bench/last-run.md bench

clean:
	$(CARGO) clean
	rm -rf data tests/tmp
