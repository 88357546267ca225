# tair-modules: `make run` starts a Valkey with every module loaded; `make test` runs every test.
SHELL := /bin/bash
CARGO ?= cargo
PORT ?= 6379
MODULES := tairstring tairhash tairzset tairdoc tairbloom tairgis
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CLIPPY_LINTS := -D warnings -W clippy::unwrap_used -W clippy::panic -W clippy::indexing_slicing

.PHONY: deps build run test unit integration lint fmt bench clean

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

## test: unit tests, property tests and integration tests against real valkey-server processes.
test: build
	$(CARGO) test --release --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- $(CLIPPY_LINTS)

fmt:
	$(CARGO) fmt --all

bench: build
	bash bench/run.sh

clean:
	$(CARGO) clean
	rm -rf data tests/tmp
